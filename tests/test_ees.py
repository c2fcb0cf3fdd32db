"""The EES adapter: DfE's published tidy CSVs, as downloaded, into Tartan's figures.

Two kinds of test. A small source folder written here (its own EES-shaped files, with the real
quirks: a byte-order mark, another column order, status symbols, London sub-regions, a recoded
LA, an abolished LA) proves the adapter's rules on numbers worked by hand and shows that a new
file needs a mapping entry only. The real files in ``../shared/public-data`` (skipped when
absent) prove the mapping in ``data_contracts/datapack.yaml`` on each of them.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.core.crosscheck import AGREES, DIFFERS, INCOMPLETE, crosscheck
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.vocabulary import OK, STATUS_SYMBOLS
from pipeline.edges import ees
from tests.conftest import PUBLIC_DATA, ROOT
from tests.internals import load_published

MAPPING = ROOT / "data_contracts" / "datapack.yaml"
REFERENCE_CONTRACT = ROOT / "data_contracts" / "reference.yaml"
HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,old_la_code,new_la_code,la_name"
)


# ----------------------------------------------------------------------------- a small source


def _write(path: Path, lines: list[str], bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")


def small_source(folder: Path) -> Path:
    """Three current LAs in two regions (one recoded in 2025, one in London filed under Inner
    London), one abolished LA with figures in 2024 only, and DfE-style area rows."""
    ref = folder / "reference"
    _write(
        ref / "las.csv",
        [
            "old_la_code,new_la_code,current_code,la_name,region,region_name",
            "370,E08000016,E08000038,Barnsley,E12000003,Yorkshire and The Humber",
            "373,E08000019,E08000039,Sheffield,E12000003,Yorkshire and The Humber",
            "202,E09000007,E09000007,Camden,E12000007,London",
        ],
    )
    _write(
        ref / "former.csv",
        [
            "new_la_code,la_name,parent_geography_code,status,date_of_termination,old_la_code",
            "E08000016,Barnsley,E12000003,terminated,30/04/2025,370",
            "E08000099,Oldshire,E12000003,terminated,31/03/2024,999",
        ],
    )
    _write(
        ref / "sn.csv",
        [
            "old_la_code,la_name,SN_1,SN_1P,SN_2,SN_2P",
            "370,Barnsley,373,Close ,202,Somewhat close",
            "373,Sheffield,370,Very close,202,Close ",
            "202,Camden,370,Close ,373,Close ",
        ],
        bom=True,
    )
    # the population of the year before is each year's denominator
    pop = [
        "time_period,time_identifier,geographic_level,region_code,new_la_code,old_la_code,"
        "age_group,population_estimate"
    ]
    for year, sizes in ((2023, (50000, 100000, 40000, 10000)), (2024, (50100, 100200, 40100, 0))):
        for code, old, n in zip(
            ("E08000016", "E08000019", "E09000007", "E08000099"),
            ("370", "373", "202", "999"),
            sizes,
            strict=True,
        ):
            if n:
                pop.append(
                    f"{year},Reporting year,Local authority,E12000003,{code},{old},"
                    f"Children aged 0 to 17 years,{n}"
                )
    _write(folder / "ees" / "population.csv", pop)
    # referrals: LA rows by the codes the publications use, symbols, area rows (to the nearest 10)
    rows = [HEADER + ",category,referral_count,rereferral_count,rereferral_percent"]
    data = {
        2024: [
            ("370", "E08000016", "Barnsley", "E12000003", "3000", "750", "25.0"),
            ("373", "E08000019", "Sheffield", "E12000003", "6000", "1200", "20.0"),
            ("202", "E09000007", "Camden", "E13000001", "1000", "c", "c"),
            ("999", "E08000099", "Oldshire", "E12000003", "500", "50", "10.0"),
        ],
        2025: [
            ("370", "E08000016", "Barnsley", "E12000003", "3100", "620", "20.0"),
            ("373", "E08000019", "Sheffield", "E12000003", "6200", "1550", "25.0"),
            ("202", "E09000007", "Camden", "E13000001", "1100", "220", "20.0"),
            ("999", "E08000099", "Oldshire", "E12000003", "z", "z", "z"),
        ],
    }
    for year, las in data.items():
        for old, code, name, region, ref_n, re_n, pct in las:
            rows.append(
                f"{year},Reporting year,Local authority,E92000001,England,{region},,{old},{code},"
                f"{name},Referrals and Re-referrals,{ref_n},{re_n},{pct}"
            )
    area = {
        2024: [("Regional", "E12000003", 9500, 2000, 21.1), ("Regional", "E13000001", 1000, 0, 0),
               ("National", "", 10500, 2000, 19.0)],
        2025: [("Regional", "E12000003", 9300, 2170, 23.3), ("National", "", 10400, 2390, 23.0)],
    }  # fmt: skip
    for year, items in area.items():
        for level, region, n, r, pct in items:
            rows.append(
                f"{year},Reporting year,{level},E92000001,England,{region},,,,,"
                f"Referrals and Re-referrals,{n},{r},{pct}"
            )
    _write(folder / "ees" / "c1.csv", rows)
    spec = {
        "version": "test",
        "name": "Small source",
        "trend_years": 5,
        "reference": {
            "local_authorities": {
                "file": "reference/las.csv",
                "la_code": "current_code",
                "codes_in_files": ["new_la_code", "old_la_code"],
                "la_name": "la_name",
                "region_code": "region",
                "region_name": "region_name",
            },
            "former_las": {
                "file": "reference/former.csv",
                "code": "new_la_code",
                "name": "la_name",
                "region": "parent_geography_code",
                "old_code": "old_la_code",
                "status": "status",
                "ended": "date_of_termination",
            },
            "statistical_neighbours": {
                "file": "reference/sn.csv",
                "la_code": "old_la_code",
                "neighbour": "SN_{rank}",
                "closeness": "SN_{rank}P",
                "ranks": 2,
            },
            "population": {
                "file": "ees/population.csv",
                "filters": {"age_group": "Children aged 0 to 17 years"},
                "column": "population_estimate",
            },
        },
        "indicators": [
            {
                "id": "rereferrals_pct",
                "label": "Re-referrals (%)",
                "theme": "Front door",
                "unit": "percentage",
                "decimals": 1,
                "polarity": "low",
                "file": "ees/c1.csv",
                "filters": {"category": "Referrals and Re-referrals"},
                "numerator": "rereferral_count",
                "denominator": "referral_count",
                "value": "rereferral_percent",
            },
            {
                "id": "referrals_rate",
                "label": "Referrals per 10,000 children",
                "theme": "Front door",
                "unit": "rate per 10,000",
                "decimals": 1,
                "polarity": "neutral",
                "file": "ees/c1.csv",
                "filters": {"category": "Referrals and Re-referrals"},
                "numerator": "referral_count",
                "denominator": {
                    "file": "ees/population.csv",
                    "filters": {"age_group": "Children aged 0 to 17 years"},
                    "column": "population_estimate",
                    "years_earlier": 1,
                },
            },
        ],
    }
    (folder / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return folder


def load_small(folder: Path):
    p = load_published(folder, folder / "datapack.yaml", REFERENCE_CONTRACT)
    return p.spec, p.reference, p.catalogue, p.extract


@pytest.fixture
def small(tmp_path):
    return small_source(tmp_path / "source")


def checked_against_dfe(x, reference, catalogue, published=None, spec=None) -> pd.DataFrame:
    """The published cross-check with `spec`'s tolerances (the real mapping's by default)."""
    las = pd.concat([reference.local_authorities, reference.former[["la_code", "region_code"]]])
    area_of = las.set_index("la_code")["region_code"]
    spec = spec or ees.load_spec(MAPPING)
    published = x.published if published is None else published
    return crosscheck(
        x.cells, published, area_of, catalogue, tolerance=spec.tolerances, parts=spec.parts
    )


def _figure(figures: pd.DataFrame, la: str, period: str, indicator: str) -> pd.Series:
    hit = figures[
        figures["la_code"].eq(la)
        & figures["period"].eq(period)
        & figures["indicator_id"].eq(indicator)
    ]
    assert len(hit) == 1, (la, period, indicator)
    return hit.iloc[0]


def test_small_source_reference(small):
    _, ref, _, _ = load_small(small)
    las = ref.local_authorities.set_index("la_code")
    assert list(las.index) == ["E08000038", "E08000039", "E09000007"]  # current codes
    assert las.loc["E09000007", "region_code"] == "E12000007"  # London, not Inner London
    sn = ref.statistical_neighbours
    assert sn[sn["la_code"].eq("E08000038")]["neighbour_la_code"].tolist() == [
        "E08000039",
        "E09000007",
    ]
    assert set(sn["closeness"]) == {"Close", "Somewhat close", "Very close"}  # trimmed
    # the population file's codes are the publications' (old Barnsley): mapped to current
    pop = ref.population.set_index(["la_code", "year"])["population_0_17"]
    assert pop[("E08000038", 2024)] == 50100
    # Barnsley's retired code is an alias, not a former LA; Oldshire is a former LA
    assert ref.aliases["E08000016"] == "E08000038" and ref.aliases["370"] == "E08000038"
    assert ref.former["la_code"].tolist() == ["E08000099"]
    assert ref.former["region_name"].tolist() == ["Yorkshire and The Humber"]


def test_small_source_figures_worked_by_hand(small):
    _, _, _, x = load_small(small)
    f = x.figures
    # the published percentage as it is; the codes the publication used become current ones
    r = _figure(f, "E08000038", "2025", "rereferrals_pct")
    assert (r["numerator"], r["denominator"], r["value"], r["status"]) == (620, 3100, 20.0, OK)
    assert not f["la_code"].isin(["E08000016", "E08000019"]).any()
    # a rate computed from another file's population of the year before: 3100 / 50100 x 10,000
    r = _figure(f, "E08000038", "2025", "referrals_rate")
    assert r["value"] == pytest.approx(618.8) and r["denominator"] == 50100
    # 2024's rate uses 2023's population: 3000 / 50000 x 10,000
    assert _figure(f, "E08000038", "2024", "referrals_rate")["value"] == pytest.approx(600.0)
    # a symbol stays a status, never zero
    r = _figure(f, "E09000007", "2024", "rereferrals_pct")
    assert r["status"] == "c" and pd.isna(r["numerator"]) and pd.isna(r["value"])
    # the former LA keeps its figures for the year it had them, and z the year after
    assert _figure(f, "E08000099", "2024", "rereferrals_pct")["value"] == 10.0
    assert _figure(f, "E08000099", "2025", "rereferrals_pct")["status"] == "z"
    # Oldshire has no 2024 population (it was gone): its 2025 rate is not available
    assert _figure(f, "E08000099", "2025", "referrals_rate")["status"] == "z"


def test_small_source_published_areas_kept_apart(small):
    _, _, _, x = load_small(small)
    pub = x.published
    # E12 regions and England only: Inner London (E13) rows are not a region
    assert set(pub["area_code"]) == {"E12000003", "england"}
    row = pub[pub["area_code"].eq("E12000003") & pub["period"].eq("2025")]
    row = row[row["indicator_id"].eq("rereferrals_pct")].iloc[0]
    assert (row["numerator"], row["denominator"], row["value"]) == (2170, 9300, 23.3)
    # with no published rate, DfE's area value is left blank: only what DfE published is compared
    rates = pub[pub["indicator_id"].eq("referrals_rate")]
    assert rates["value"].isna().all() and rates["numerator"].notna().all()


def test_small_source_crosscheck_counts_former_las_and_flags_a_wrong_figure(small):
    _, ref, cat, x = load_small(small)
    checked = checked_against_dfe(x, ref, cat).set_index(
        ["area_code", "period", "indicator_id", "measure"]
    )
    # 2024: Barnsley + Sheffield + Oldshire = 9500 referrals, as published: the former LA counts
    assert checked.loc[("E12000003", "2024", "rereferrals_pct", "denominator"), "outcome"] == AGREES
    # 2025 England: 620 + 1550 + 220 = 2390 re-referrals of 10400: 22.98...% agrees with 23.0
    assert checked.loc[("england", "2025", "rereferrals_pct", "value"), "outcome"] == AGREES
    # England 2024: Camden's c leaves Tartan short of DfE's 2000: incomplete, not a difference
    row = checked.loc[("england", "2024", "rereferrals_pct", "numerator")]
    assert row["tartan"] == 2000 and row["outcome"] == AGREES
    assert checked.loc[("england", "2024", "rereferrals_pct", "value"), "outcome"] == INCOMPLETE
    assert not checked["outcome"].eq(DIFFERS).any()
    # a published regional figure altered: that comparison, and only it, differs
    pub = x.published.copy()
    hit = pub["area_code"].eq("E12000003") & pub["period"].eq("2025")
    pub.loc[hit & pub["indicator_id"].eq("rereferrals_pct"), "value"] = 24.3
    again = checked_against_dfe(x, ref, cat, pub)
    differs = again[again["outcome"].eq(DIFFERS)]
    assert differs[["area_code", "period", "indicator_id", "measure"]].values.tolist() == [
        ["E12000003", "2025", "rereferrals_pct", "value"]
    ]


def test_a_new_file_needs_a_mapping_entry_only(small):
    """A further EES file (here: assessments, in a column order of its own, with a BOM) becomes
    an indicator by adding one entry to the mapping: no code changes."""
    _write(
        small / "ees" / "assessments.csv",
        [
            "la_name,new_la_code,old_la_code,geographic_level,time_identifier,time_period,"
            "region_code,factor,assessments,within_45_days,within_45_days_percent",
            "Barnsley,E08000016,370,Local authority,Reporting year,2025,E12000003,All,"
            "2000,1700,85.0",
            "Sheffield,E08000019,373,Local authority,Reporting year,2025,E12000003,All,"
            "4000,3600,90.0",
            "Camden,E09000007,202,Local authority,Reporting year,2025,E13000001,All,800,x,x",
            ",,,Regional,Reporting year,2025,E12000003,All,6000,5300,88.3",
        ],
        bom=True,
    )
    spec = yaml.safe_load((small / "datapack.yaml").read_text("utf-8"))
    spec["indicators"].append(
        {
            "id": "assessments_45_days_pct",
            "label": "Assessments completed within 45 working days (%)",
            "theme": "Assessment",
            "unit": "percentage",
            "decimals": 1,
            "polarity": "high",
            "file": "ees/assessments.csv",
            "filters": {"factor": "All"},
            "numerator": "within_45_days",
            "denominator": "assessments",
            "value": "within_45_days_percent",
        }
    )
    (small / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    _, _, cat, x = load_small(small)
    assert cat["assessments_45_days_pct"].polarity == "high"
    r = _figure(x.figures, "E08000039", "2025", "assessments_45_days_pct")
    assert (r["numerator"], r["denominator"], r["value"]) == (3600, 4000, 90.0)
    assert _figure(x.figures, "E09000007", "2025", "assessments_45_days_pct")["status"] == "x"
    assert ("ees/assessments.csv" in dict(x.files)) and len(x.files) == 3


def test_a_cell_that_is_neither_number_nor_symbol_names_file_row_column(small):
    path = small / "ees" / "c1.csv"
    text = path.read_text("utf-8").replace(",6200,1550,25.0", ",6200,1550,25.0%")
    path.write_text(text, "utf-8")
    with pytest.raises(DataError) as exc:
        load_small(small)
    message = str(exc.value)
    assert str(path) in message and "column rereferral_percent" in message
    assert "row 7: '25.0%'" in message and "expected a number or one of EES's symbols" in message


def test_mapping_mistakes_name_the_entry_and_what_the_file_has(small):
    spec = yaml.safe_load((small / "datapack.yaml").read_text("utf-8"))
    spec["indicators"][0]["filters"] = {"category": "Referrals"}
    (small / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_small(small)
    assert "indicator 1 (rereferrals_pct)" in str(exc.value)
    assert "'Referrals and Re-referrals'" in str(exc.value)  # the values the file has
    spec["indicators"][0]["filters"] = {"category": "Referrals and Re-referrals"}
    spec["indicators"][0]["value"] = "rereferral_pct"
    (small / "datapack.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    with pytest.raises(ConfigError, match="has no column 'rereferral_pct'; its columns are"):
        load_small(small)


def test_source_files_are_never_modified(small):
    before = {p: p.read_bytes() for p in small.rglob("*") if p.is_file()}
    load_small(small)
    assert {p: p.read_bytes() for p in small.rglob("*") if p.is_file()} == before


# ----------------------------------------------------------------------------- the real files

_needed = [PUBLIC_DATA / f for f in ees.load_spec(MAPPING).files]
_absent = [str(p) for p in _needed if not p.is_file()]
real = pytest.mark.skipif(bool(_absent), reason=f"public data not available: {', '.join(_absent)}")


@functools.cache
def public():
    p = load_published(PUBLIC_DATA, MAPPING, REFERENCE_CONTRACT)
    return p.spec, p.catalogue, p.reference, p.extract


@real
def test_public_reference_lists():
    _, _, ref, _ = public()
    las = ref.local_authorities
    assert len(las) == 153 and las["la_code"].is_unique
    assert sorted(las["region_code"].unique()) == [f"E1200000{i}" for i in range(1, 10)]
    assert {"E08000038", "E08000039"} <= set(las["la_code"])  # Barnsley, Sheffield from 2025
    sn = ref.statistical_neighbours
    assert sn.groupby("la_code").size().eq(10).all() and sn["la_code"].nunique() == 153
    assert not sn["closeness"].str.endswith(" ").any()
    assert set(ref.former["la_name"]) >= {"Cumbria", "Northamptonshire"}


@real
def test_public_polarity_from_lait():
    _, cat, _, _ = public()
    assert cat["rereferrals_pct"].polarity == "low"  # LAIT ReReferral: Low
    assert cat["cla_rate"].polarity == "neutral"  # LAIT LAC: "-"


@real
@pytest.mark.parametrize("source", ees.load_spec(MAPPING).sources, ids=lambda s: s.id)
def test_public_mapping_on_each_file(source):
    """Every mapped indicator has a figure or an EES symbol for every current LA in 2025,
    symbols stay missing, and no code the publication used for a recoded LA survives."""
    _, _, ref, x = public()
    f = x.figures[x.figures["indicator_id"].eq(source.id) & x.figures["period"].eq("2025")]
    current = f[f["la_code"].isin(ref.local_authorities["la_code"])]
    assert len(current) == 153 and current["la_code"].is_unique
    # DfE withholds plans of 2 years or more in some 60 LAs with few of them
    assert current["status"].eq(OK).sum() >= (90 if source.id == "cpp_2_years_pct" else 140)
    flagged = f[f["status"].ne(OK)]
    assert set(flagged["status"]) <= set(STATUS_SYMBOLS)
    assert flagged[["numerator", "denominator", "value"]].isna().all().all()
    assert not f["la_code"].isin(["E08000016", "E08000019"]).any()


@real
def test_public_figures_read_as_published():
    """Figures read off the files by hand (2025)."""
    _, _, _, x = public()
    f = x.figures
    r = _figure(f, "E08000038", "2025", "cla_rate")  # Barnsley, under its 2025 code
    assert (r["numerator"], r["denominator"], r["value"]) == (366, 51799, 71)
    assert _figure(f, "E09000001", "2025", "cla_rate")["status"] == "c"  # City of London
    r = _figure(f, "E08000038", "2025", "rereferrals_pct")
    assert (r["numerator"], r["denominator"], r["value"]) == (825, 3241, 25.5)
    # Cumbria's last CLA year counts; afterwards it is z
    assert _figure(f, "E10000006", "2022", "cla_rate")["status"] == OK
    assert _figure(f, "E10000006", "2025", "cla_rate")["status"] == "z"


@real
def test_public_crosscheck_passes_for_every_region_and_year():
    _, cat, ref, x = public()
    checked = checked_against_dfe(x, ref, cat)
    assert set(checked["area_code"]) == {*(f"E1200000{i}" for i in range(1, 10)), "england"}
    assert checked["indicator_id"].nunique() == len(cat)
    assert not checked["outcome"].eq(DIFFERS).any(), checked[checked["outcome"].eq(DIFFERS)]
    assert checked["outcome"].eq(AGREES).mean() > 0.75


@real
def test_public_crosscheck_fails_when_a_published_regional_figure_is_altered(tmp_path):
    """A copy of the CLA file with the North East's 2025 rate raised by one: the cross-check
    names that figure, and only it."""
    copy = tmp_path / "public"
    shutil.copytree(PUBLIC_DATA, copy)
    path = copy / "ees" / "cla_number_and_rate_per_10k_children.csv"
    lines = path.read_text("utf-8-sig").splitlines()
    target = "2025,Reporting year,Regional,E92000001,England,E12000001,North East,"
    hits = [i for i, line in enumerate(lines) if line.startswith(target) and "31 March" in line]
    assert len(hits) == 1
    cells = lines[hits[0]].split(",")
    cells[-1] = str(int(cells[-1]) + 1)
    lines[hits[0]] = ",".join(cells)
    path.write_text("\ufeff" + "\n".join(lines) + "\n", "utf-8")
    spec, cat, ref, _ = public()
    x = ees.extract(spec, copy, cat, ref.aliases)
    checked = checked_against_dfe(x, ref, cat)
    differs = checked[checked["outcome"].eq(DIFFERS)]
    assert differs[["area_code", "period", "indicator_id", "measure"]].values.tolist() == [
        ["E12000001", "2025", "cla_rate", "value"]
    ]


@real
def test_public_crosscheck_catches_an_altered_workforce_regional_figure(tmp_path):
    """The workforce's rates are checked with the mapping's wider tolerance (0.1: DfE works
    them out from FTEs its file publishes rounded); the East Midlands' 2025 agency rate
    raised by 0.3 is still caught, and only it."""
    copy = tmp_path / "public"
    shutil.copytree(PUBLIC_DATA, copy)
    path = copy / "ees" / "csww_indicators_2017_to_2025.csv"
    text = path.read_text("utf-8-sig")
    lines = text.splitlines()
    header = lines[0].split(",")
    target = "2025,Reporting year,Regional,E92000001,England,E12000004,East Midlands,"
    hits = [i for i, line in enumerate(lines) if line.startswith(target)]
    assert len(hits) == 1
    cells = lines[hits[0]].split(",")
    at = header.index("agency_rate_fte")
    cells[at] = f"{float(cells[at]) + 0.3:.1f}"
    lines[hits[0]] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    spec, cat, ref, _ = public()
    x = ees.extract(spec, copy, cat, ref.aliases)
    checked = checked_against_dfe(x, ref, cat, spec=spec)
    differs = checked[checked["outcome"].eq(DIFFERS)]
    assert differs[["area_code", "period", "indicator_id", "measure"]].values.tolist() == [
        ["E12000004", "2025", "sw_agency_pct", "value"]
    ]
