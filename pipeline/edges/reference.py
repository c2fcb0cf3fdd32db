"""Reference data: local authorities and regions, statistical neighbours, populations.

A dataset folder holds ``reference/`` (these files), ``returns/`` (LA returns) and ``dataset.yaml``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import Period, parse_slug
from pipeline.edges import contracts as ct
from pipeline.edges import reference_check, reference_consistency
from pipeline.edges.contracts import load_yaml
from pipeline.edges.files import read_text_csv

#: Without `reporting_window` in dataset.yaml, returns are accepted for the 12 quarters up to the
#: last one that has ended (by SOURCE_DATE_EPOCH when set, else today's date).
DEFAULT_WINDOW_QUARTERS = 12

FILES = {
    "local_authorities": ["la_code", "la_name", "region_code", "region_name"],
    "statistical_neighbours": ["la_code", "neighbour_rank", "neighbour_la_code", "closeness"],
    "population": ["la_code", "year", "population_0_17"],
}


#: how a dataset's comparators are chosen (dataset.yaml `comparators: {mode, source}`)
COMPARATOR_MODES = ("auto", "published", "returns")


@dataclass(frozen=True)
class Comparators:
    """Where England, the neighbours and the national bands come from: the returns (a national
    collection), DfE's published statistics in `source` (one region's own returns), or `auto`:
    published when a source is given and the returns do not cover England."""

    mode: str = "auto"
    source: Path | None = None


@dataclass
class Reference:
    name: str
    demonstration: bool
    banner: str
    local_authorities: pd.DataFrame
    statistical_neighbours: pd.DataFrame
    population: pd.DataFrame
    window: tuple[Period, Period]
    window_source: str = "dataset.yaml"
    #: the protective marking every page of a run carries, e.g. OFFICIAL-SENSITIVE ('' for none)
    marking: str = ""
    #: every code an LA is known by in source files -> its code here (published data only)
    aliases: dict[str, str] = field(default_factory=dict)
    #: former LAs (abolished): la_code, la_name, region_code, region_name, ended; their figures
    #: count in their region's and England's totals, but no report is about them
    former: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["la_code", "la_name", "region_code"])
    )
    comparators: Comparators = field(default_factory=Comparators)
    level: float = 95.0  # dataset.yaml's significance_level
    #: the region whose benchmarking group the dataset is (dataset.yaml `region`), None for a
    #: national collection: its LAs send returns; the others are comparators only
    region: str | None = None

    @property
    def own_las(self) -> pd.DataFrame:
        """The LAs that send returns: the dataset's region's, or every LA."""
        las = self.local_authorities
        return las if self.region is None else las[las["region_code"].eq(self.region)]

    @property
    def regions(self) -> pd.DataFrame:
        return (
            self.local_authorities[["region_code", "region_name"]]
            .drop_duplicates()
            .sort_values("region_code")
            .reset_index(drop=True)
        )

    @property
    def la_names(self) -> dict[str, str]:
        """la_code -> la_name."""
        la = self.local_authorities
        return dict(zip(la["la_code"], la["la_name"], strict=True))

    @property
    def region_of(self) -> dict[str, str]:
        """la_code -> region_code."""
        la = self.local_authorities
        return dict(zip(la["la_code"], la["region_code"], strict=True))

    def la_name(self, code: str) -> str:
        return self.la_names.get(code, code)


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    """A reference file as strings, with the file and the row each line is on (header = 1)."""
    df = read_text_csv(
        path,
        ConfigError,
        f"a reference file with columns {', '.join(columns)}" if columns else "a reference file",
        "; a value probably contains a comma: write 12345, not 12,345, and put text containing "
        "commas in quotes",
    )
    df["file"] = str(path)
    df.attrs["file"] = str(path)
    return df


def last_ended_quarter(today: datetime.date) -> Period:
    """The latest financial quarter (April-June is Q1) that ended before `today`."""
    start = today.year if today.month >= 4 else today.year - 1
    return Period(start, (today.month - 4) % 12 // 3 + 1).previous()


def _today() -> datetime.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date()
    return datetime.date.today()


def _window(meta: dict, where: Path) -> tuple[tuple[Period, Period], str]:
    raw = meta.get("reporting_window")
    if raw is None:
        last = last_ended_quarter(_today())
        return (last.shifted(1 - DEFAULT_WINDOW_QUARTERS), last), "default"
    try:
        first, last = parse_slug(str(raw["first"])), parse_slug(str(raw["last"]))
    except (TypeError, KeyError, DataError) as exc:
        raise ConfigError(
            f"{where}: reporting_window must give first and last periods, e.g. "
            f"{{first: 2024-25-Q3, last: 2026-27-Q2}} ({exc})"
        ) from None
    if last < first:
        raise ConfigError(f"{where}: reporting_window ends ({last}) before it starts ({first})")
    return (first, last), "dataset.yaml"


def load(dataset: Path, contract: ct.Contract | None = None) -> Reference:
    """A dataset's reference files, checked against the reference contract when given."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise ConfigError(
            f"{dataset}: no such data folder (expected reference/ and returns/ in it)"
        )
    meta_path = dataset / "dataset.yaml"
    meta = load_yaml(meta_path) if meta_path.exists() else {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{meta_path}: expected a mapping (name, demonstration, ...)")
    ref = {name: _read(dataset / "reference" / f"{name}.csv", cols) for name, cols in FILES.items()}
    ref = checked(ref, contract, dataset / "reference")
    demo = meta.get("demonstration", False)
    if not isinstance(demo, bool):
        raise ConfigError(
            f"{meta_path}: demonstration {demo!r} must be true or false (true puts a "
            "demonstration banner on every page)"
        )
    window, source = _window(meta, meta_path)
    marking = meta.get("protective_marking") or ""
    try:
        marking = check_marking(marking)
    except ValueError as exc:
        raise ConfigError(f"{meta_path}: protective_marking {exc}") from None
    return Reference(
        name=str(meta.get("name", dataset.name)),
        demonstration=demo,
        banner=str(meta.get("banner", "")) if demo else "",
        window=window,
        window_source=source,
        marking=marking,
        comparators=_comparators(meta.get("comparators"), meta_path),
        level=_level(meta.get("significance_level", 95), meta_path),
        region=_region(meta.get("region"), meta_path, ref["local_authorities"]),
        **ref,
    )


def _level(raw: object, meta_path: Path) -> float:
    """dataset.yaml's `significance_level`: 95 (the default) or 99.8."""
    if isinstance(raw, bool) or raw not in (95, 99.8):
        why = "the confidence level of intervals, comparisons and tests"
        raise ConfigError(f"{meta_path}: significance_level {raw!r} is not 95 or 99.8 ({why})")
    return float(raw)


def _region(raw: object, meta_path: Path, las: pd.DataFrame) -> str | None:
    """dataset.yaml's `region` ({code, name} or a code): the region whose returns these are,
    one the reference lists."""
    if raw is None:
        return None
    code = raw.get("code") if isinstance(raw, dict) else raw
    known = dict(zip(las["region_code"], las["region_name"], strict=True))
    if not isinstance(code, str) or code not in known:
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(known.items()))
        raise ConfigError(
            f"{meta_path}: region {code!r} is not a region of reference/local_authorities.csv; "
            f"expected one of {listed}"
        )
    return code


def _comparators(raw: object, meta_path: Path) -> Comparators:
    """dataset.yaml's `comparators`: {mode: auto | published | returns, source: folder of
    DfE's published files, relative to the dataset folder or absolute}."""
    if raw is None:
        return Comparators()
    where = f"{meta_path}: comparators"
    if not isinstance(raw, dict) or set(raw) - {"mode", "source"}:
        raise ConfigError(f"{where}: expected {{mode: auto | published | returns, source: FOLDER}}")
    mode = str(raw.get("mode", "auto"))
    if mode not in COMPARATOR_MODES:
        raise ConfigError(f"{where}: mode {mode!r} is not one of {', '.join(COMPARATOR_MODES)}")
    source = raw.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ConfigError(f"{where}: source must be a folder (DfE's published files)")
    folder = (meta_path.parent / source) if source else None
    if mode == "published" and folder is None:
        raise ConfigError(
            f"{where}: mode published needs a source: the folder holding DfE's published "
            "files (as for tartan datapack --source)"
        )
    return Comparators(mode, folder)


def checked(
    ref: dict[str, pd.DataFrame], contract: ct.Contract | None, where: Path
) -> dict[str, pd.DataFrame]:
    """The three reference tables (each with ``file`` and ``row``) checked against the reference
    contract when given, then cut to their columns and typed."""
    if contract is not None:
        reference_check.raise_broken(reference_check.findings(ref, contract), contract, where)
    reference_consistency.check(ref, str(where))
    out = {}
    for name, cols in FILES.items():
        missing = [c for c in cols if c not in ref[name].columns]
        if missing:
            raise ConfigError(
                f"{ref[name].attrs.get('file', where / name)}: missing column(s) "
                f"{', '.join(missing)}"
            )
        out[name] = ref[name][cols].copy()
    try:
        sn = out["statistical_neighbours"]
        sn["neighbour_rank"] = sn["neighbour_rank"].astype(int)
        pop = out["population"]
        pop["year"] = pop["year"].astype(int)
        pop["population_0_17"] = pop["population_0_17"].astype(int)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: a rank, year or population is not a whole number ({exc})"
        ) from None
    return out


def check_marking(text: object) -> str:
    """A protective marking as pages print it: one line of at most 100 printable characters."""
    if not isinstance(text, str):
        raise ValueError(f"must be text, e.g. OFFICIAL-SENSITIVE, not {text!r}")
    text = text.strip()
    if len(text) > 100 or not all(ch.isprintable() for ch in text):
        raise ValueError(
            f"{text[:40]!r} is not a marking: expected one line of at most 100 characters, "
            "e.g. OFFICIAL-SENSITIVE"
        )
    return text


# --------------------------------------------------------------------------- published lists


def _entry(spec: Mapping, key: str, where: str, fields: tuple[str, ...]) -> Mapping:
    raw = spec.get(key)
    if not isinstance(raw, Mapping) or "file" not in raw:
        raise ConfigError(
            f"{where}: reference.{key} must be a mapping with file, {', '.join(fields)}"
        )
    missing = [f for f in fields if f not in raw]
    if missing:
        raise ConfigError(f"{where}: reference.{key} is missing {', '.join(missing)}")
    return raw


def _columns(df: pd.DataFrame, wanted: list[str], path: Path) -> None:
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path}: no column(s) {', '.join(missing)}; its columns are "
            f"{', '.join(c for c in df.columns if c not in ('file', 'row'))}"
        )


def from_public(
    source: Path,
    spec: Mapping,
    contract: ct.Contract | None,
    name: str,
    where: str = "data_contracts/datapack.yaml",
) -> Reference:
    """The reference data from DfE's and ONS's published lists, as the datapack mapping's
    `reference` section names them (`public_tables`), checked against the same reference
    contract as a dataset's own reference files (`from_tables`)."""
    tables, aliases, former = public_tables(source, spec, where)
    return from_tables(tables, aliases, former, contract, Path(source), name, where)


def public_tables(
    source: Path, spec: Mapping, where: str
) -> tuple[dict[str, pd.DataFrame], dict[str, str], pd.DataFrame]:
    """The published lists as read (each table with ``file`` and ``row``): the LAs (with every
    code each is known by in the files), the statistical-neighbour model (one row per LA,
    neighbours in columns; turned to one row per pair, closeness labels trimmed) and 0-17
    populations from an EES file; every code an LA is known by -> its code; former LAs."""
    source = Path(source)
    las, aliases, las_path = _public_las(source, spec, where)
    former = _former_las(source, spec, where, las, aliases)
    sn = _public_neighbours(source, spec, where, aliases, las_path)
    pop = _public_population(source, spec, where, las, aliases)
    tables = {"local_authorities": las, "statistical_neighbours": sn, "population": pop}
    return tables, aliases, former


def from_tables(tables, aliases, former, contract, source: Path, name: str, where: str):
    """`public_tables`' reference, checked (against `contract` when given); its window is the
    years the populations span (the figures' own years replace it once read)."""
    ref = checked(tables, contract, source)
    years = sorted(ref["population"]["year"].unique()) or [0]
    return Reference(
        name=name,
        demonstration=False,
        banner="",
        window=(Period(int(years[0])), Period(int(years[-1]))),
        window_source=where,
        aliases=aliases,
        former=former,
        **ref,
    )


def _public_las(
    source: Path, spec: Mapping, where: str
) -> tuple[pd.DataFrame, dict[str, str], Path]:
    """The published list of LAs (la_code, la_name, region_code, region_name, file, row),
    every code each is known by in the files -> its code, and the list's path."""
    las_spec = _entry(spec, "local_authorities", where, ("la_code", "la_name", "region_code"))
    path = source / str(las_spec["file"])
    raw = _read(path, [str(las_spec[k]) for k in ("la_code", "la_name", "region_code")])
    other_codes = [str(c) for c in las_spec.get("codes_in_files", [])]
    picks = {k: str(las_spec[k]) for k in ("la_code", "la_name", "region_code", "region_name")}
    _columns(raw, [*picks.values(), *other_codes], path)
    las = pd.DataFrame(
        {k: raw[v] for k, v in picks.items()} | {"file": raw["file"], "row": raw["row"]}
    )
    las.attrs["file"] = str(path)

    aliases: dict[str, str] = {}
    for rec in raw.to_dict("records"):
        code = rec[picks["la_code"]]
        known = [code] + [rec[c] for c in other_codes]
        for alias in filter(None, known):
            if aliases.setdefault(alias, code) != code:
                raise ConfigError(
                    f"{path}, row {rec['row']}: code {alias!r} is also LA {aliases[alias]}'s; "
                    "expected each code to name one LA"
                )
    return las, aliases, path


def _former_las(
    source: Path, spec: Mapping, where: str, las: pd.DataFrame, aliases: dict[str, str]
) -> pd.DataFrame:
    """Former LAs (abolished, e.g. Cumbria to March 2023): not reported on, but their figures
    count in their region's and England's totals for the years they had them. Their codes, and
    codes retired when a continuing LA was recoded, are added to `aliases`."""
    former = pd.DataFrame(columns=["la_code", "la_name", "region_code", "region_name", "ended"])
    if not spec.get("former_las"):
        return former
    f_spec = _entry(spec, "former_las", where, ("code", "name", "status", "region"))
    f_path = source / str(f_spec["file"])
    fl = _read(f_path, [])
    cols = [str(f_spec[k]) for k in ("code", "name", "status", "region")]
    ended = str(f_spec.get("ended", ""))
    _columns(fl, cols + ([ended] if ended else []), f_path)
    gone = fl[fl[cols[2]].str.lower().eq("terminated") & ~fl[cols[0]].isin(list(aliases))]
    old_code = str(f_spec.get("old_code", ""))
    if old_code:  # a code retired when a continuing LA was recoded (Dorset, North Yorkshire)
        _columns(fl, [old_code], f_path)
        recoded = gone[old_code].isin(list(aliases))
        for code, old in zip(gone.loc[recoded, cols[0]], gone.loc[recoded, old_code], strict=True):
            aliases[code] = aliases[old]
        gone = gone[~recoded]
    region_names = dict(zip(las["region_code"], las["region_name"], strict=False))
    former = pd.DataFrame(
        {
            "la_code": gone[cols[0]],
            "la_name": gone[cols[1]],
            "region_code": gone[cols[3]],
            "region_name": gone[cols[3]].map(region_names),
            "ended": gone[ended] if ended else "",
        }
    ).reset_index(drop=True)
    unknown = former[former["region_name"].isna()]
    if len(unknown):
        raise ConfigError(
            f"{f_path}: former LA {unknown['la_code'].iloc[0]} is in region "
            f"{unknown['region_code'].iloc[0]!r}, which no current LA is in; expected one "
            f"of {', '.join(sorted(region_names))}"
        )
    for code in former["la_code"]:
        aliases.setdefault(code, code)
    return former


def _public_neighbours(
    source: Path, spec: Mapping, where: str, aliases: Mapping[str, str], las_path: Path
) -> pd.DataFrame:
    """The statistical-neighbour model (one row per LA, neighbours in columns) as one row per
    pair, under the LAs' current codes."""
    sn_spec = _entry(spec, "statistical_neighbours", where, ("la_code", "neighbour", "closeness"))
    sn_path = source / str(sn_spec["file"])
    wide = _read(sn_path, [])
    ranks = sn_spec.get("ranks", 10)
    if isinstance(ranks, bool) or not isinstance(ranks, int) or not 1 <= ranks <= 20:
        raise ConfigError(
            f"{where}: reference.statistical_neighbours.ranks {ranks!r} must be a whole number "
            "of neighbours from 1 to 20, e.g. 10"
        )
    by = str(sn_spec["la_code"])
    pattern_n, pattern_c = str(sn_spec["neighbour"]), str(sn_spec["closeness"])
    cols = [by] + [p.format(rank=r) for r in range(1, ranks + 1) for p in (pattern_n, pattern_c)]
    _columns(wide, cols, sn_path)
    pairs = []
    for r in range(1, ranks + 1):
        part = wide[[by, pattern_n.format(rank=r), pattern_c.format(rank=r), "row"]]
        part.columns = ["la_code", "neighbour_la_code", "closeness", "row"]
        pairs.append(part.assign(neighbour_rank=r))
    sn = pd.concat(pairs, ignore_index=True)
    for col in ("la_code", "neighbour_la_code"):
        mapped = sn[col].map(aliases)
        if mapped.isna().any():
            bad = sn[mapped.isna()].iloc[0]
            shown = by if col == "la_code" else "a neighbour column"
            raise ConfigError(
                f"{sn_path}, row {bad['row']}, {shown}: LA code {bad[col]!r} is not one of "
                f"{las_path.name}'s LAs; expected the model and the LA list to agree"
            )
        sn[col] = mapped
    # closeness labels were trimmed as read ("Close " in the 2025 model); ranks are checked as
    # text, like a dataset's own file
    sn = sn.sort_values(["la_code", "neighbour_rank"], kind="stable")
    sn = sn.assign(neighbour_rank=sn["neighbour_rank"].astype(str), file=str(sn_path))[
        ["la_code", "neighbour_rank", "neighbour_la_code", "closeness", "file", "row"]
    ]
    sn.attrs["file"] = str(sn_path)
    sn.attrs["la_column"] = by  # how reference_consistency names the columns
    sn.attrs["neighbour_columns"] = {str(r): pattern_n.format(rank=r) for r in range(1, ranks + 1)}
    return sn


def _public_population(
    source: Path, spec: Mapping, where: str, las: pd.DataFrame, aliases: Mapping[str, str]
) -> pd.DataFrame:
    """The LAs' 0-17 populations from an EES file, as text like a dataset's own file."""
    from pipeline.edges import ees

    pop_spec = _entry(spec, "population", where, ("column",))
    column = ees.Column(
        str(pop_spec["file"]),
        ees.filters_of(pop_spec.get("filters"), where),
        (str(pop_spec["column"]),),
    )
    files = ees.Files(source)
    rows = files.rows(column, f"{where}: reference.population")
    rows = rows[rows["geographic_level"].eq(ees.LA_LEVEL)]
    pop_path = source / column.file
    cells = ees.numbers(rows[column.column], rows["row"], str(pop_path), column.column)
    codes = rows[ees.code_column(rows, pop_path)].map(aliases)
    # current LAs' populations (a former LA's are not reference data: no report is about it)
    keep = codes.isin(list(las["la_code"])) & cells["status"].eq("")
    pop = pd.DataFrame(
        {
            "la_code": codes[keep],
            "year": ees.periods_of(rows[keep], pop_path).map(lambda p: str(p.start_year)),
            "population_0_17": cells.loc[keep, "number"].map(lambda v: f"{v:.0f}"),
            "file": str(pop_path),
            "row": rows.loc[keep, "row"],
        }
    )
    pop.attrs["file"] = str(pop_path)
    return pop
