"""A new region's dataset folder (``tartan init REGION``), made from DfE's published lists.

The folder holds what a quarterly run reads, ready for the region's first returns:

- ``reference/``: every LA in England with its region (an LA's statistical neighbours are often
  in other regions, and every neighbour must be a known LA), the region's LAs' neighbours in the
  2025 model (those in other regions kept: they are comparators) and their ONS 0-17 populations
  of the latest years published; each in the shape of the demo dataset's;
- ``dataset.yaml``: its name, the region it reports on, the reporting year and where published
  comparators come from; ``priorities.yaml``: the region's priorities, none yet;
- ``templates/<quarter>/``: the XLSX return template of each of the region's LAs for the quarter
  whose returns are due (``tartan template``'s); ``returns/<quarter>/``: empty, for the filled
  returns (a template left in ``returns/`` would be read as a return, and refused);
- ``README.md``: the steps from here to the first report, and the format of the optional
  ``peer_challenge.yaml`` (the year's peer-challenge groups: ``pipeline.edges.peer_challenge``).

The folder is built beside ``--out`` and renamed into place: a failed or interrupted init leaves
no half-made dataset, and an existing folder with anything in it is refused.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from pipeline.core.errors import ConfigError
from pipeline.core.periods import Period
from pipeline.edges import contracts as ct
from pipeline.edges import ees, reference_public
from pipeline.edges import reference as ref_io
from pipeline.edges.files import TEMPORARY, confined, write_text_atomic

#: the folder of return templates in a dataset made by init, beside returns/
TEMPLATES = "templates"
#: years of ONS 0-17 populations kept (the latest the source holds), as many as the demo's: a
#: pack shows the latest, and disclosure control judges a rate per child on the range held
POPULATION_YEARS = 3
#: writes one LA's return template: (dataset folder, LA code, period slug, file) -> the file
TemplateWriter = Callable[[Path, str, str, Path], Path]


@dataclass(frozen=True)
class Made:
    """What init wrote."""

    folder: Path
    region_code: str
    region_name: str
    la_codes: list[str]  # the region's LAs
    window: tuple[Period, Period]  # the reporting year
    period: Period  # the quarter whose returns are due: its templates
    templates: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------- the region and year


def pick_region(text: str, regions: pd.DataFrame) -> tuple[str, str]:
    """(code, name) of the region `text` names by its E12 code or its name, in any case."""
    wanted = " ".join(str(text).split()).casefold()
    for code, name in regions[["region_code", "region_name"]].itertuples(index=False):
        if wanted in (code.casefold(), " ".join(name.split()).casefold()):
            return code, name
    listed = "\n  ".join(
        f"{c}  {n}" for c, n in regions[["region_code", "region_name"]].itertuples(index=False)
    )
    raise ConfigError(
        f"region {text!r} is not one of England's {len(regions)} regions; give its code or its "
        f'name, e.g. E12000009 or "South West":\n  {listed}'
    )


def reporting_year(today: datetime.date) -> tuple[tuple[Period, Period], Period]:
    """The reporting window (the four quarters of a financial year) and the quarter whose
    returns are due: the latest quarter that has ended, in its financial year (from April to
    June, the year before's fourth quarter is still the one being returned)."""
    due = ref_io.last_ended_quarter(today)
    return (Period(due.start_year, 1), Period(due.start_year, 4)), due


# --------------------------------------------------------------------------- the source folder


def check_source(source: Path, spec: ees.Spec, named: str = "--source") -> None:
    """Every file the mapping names is in `source`; else one error naming each missing file.
    `named`: where the folder was given (``--source``, or a dataset.yaml key)."""
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(
            f"{named} {source}: no such folder; expected DfE's published files as downloaded "
            "(see the README, 'The annual datapack')"
        )
    missing = [f for f in spec.files if not (source / f).is_file()]
    if missing:
        raise ConfigError(
            f"{named} {source}: missing {len(missing)} file(s) that {spec.path} names: "
            f"{', '.join(missing)}; expected DfE's published files as downloaded (see the "
            "README, 'The annual datapack')"
        )


def region_tables(ref: ref_io.Reference, region_code: str) -> dict[str, pd.DataFrame]:
    """The three reference files for a region's dataset: every LA in England (so that each
    neighbour is known), the region's LAs' neighbours (wherever they are), and their 0-17
    populations of the latest `POPULATION_YEARS` years."""
    las = ref.local_authorities.sort_values(["region_code", "la_code"], kind="stable")
    own = set(las.loc[las["region_code"].eq(region_code), "la_code"])
    sn = ref.statistical_neighbours
    sn = sn[sn["la_code"].isin(own)].sort_values(["la_code", "neighbour_rank"], kind="stable")
    pop = ref.population[ref.population["la_code"].isin(own)]
    years = sorted(pop["year"].unique())[-POPULATION_YEARS:]
    pop = pop[pop["year"].isin(years)].sort_values(["la_code", "year"], kind="stable")
    return {
        "local_authorities": las[ref_io.FILES["local_authorities"]],
        "statistical_neighbours": sn[ref_io.FILES["statistical_neighbours"]],
        "population": pop[ref_io.FILES["population"]],
    }


# --------------------------------------------------------------------------- the folder's texts


def _yaml_line(key: str, value: object) -> str:
    """One top-level key as YAML, quoted where its text needs it (a path, a name with a colon)."""
    return yaml.safe_dump(
        {key: value},
        default_flow_style=None if isinstance(value, dict) else False,  # {a: 1, b: 2} inline
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )


DATASET_HEADER = """\
# {name}: a Tartan dataset made by `tartan init` from DfE's published lists.
#
# name              the dataset's name, on the index and every page
# region            the region this dataset reports on (its code and name as in
#                   reference/local_authorities.csv, which lists every LA in England so that
#                   neighbours in other regions are known)
# reporting_window  the quarters returns are accepted for, first to last; a return for any other
#                   quarter is refused. Move `first` earlier to add last year's returns (trends
#                   and "same quarter last year" need them), `last` on as the years go by.
# comparators       where England, the statistical neighbours and national bands come from:
#                   mode auto (DfE's published statistics in source, unless the returns cover
#                   England), published, or returns (a national collection); source: the folder
#                   of DfE's published files, as `tartan datapack --source` reads it (absolute,
#                   or relative to this folder)
# protective_marking (optional) a marking printed on every page, e.g. OFFICIAL-SENSITIVE
# significance_level (optional) 95 (the default) or 99.8: the confidence level at which a figure
#                   is called better or worse than England, its region or its neighbours, and a
#                   change an improvement or a deterioration
# commentary_exceptions (optional) which figures each LA's pack asks it to explain in its own
#                   words (commentary/<quarter>/<LA code>.md, a "## <indicator id>" section
#                   each): {{bands: [D], percent: 20}} (the default) names band D and the top and
#                   bottom 20% of LAs nationally by rank; percent 0 for bands alone
# briefing          (optional) the member briefing's headline measures, 6 to 8 indicator ids in
#                   the order shown: {{measures: [rereferrals_pct, cla_rate, ...]}} (default: the
#                   list in data_contracts/briefing.yaml, which holds their plain names too)
# return_deadline   (optional) when returns are due: {{weeks_after_quarter: 6}} (the default:
#                   six weeks after the quarter ends), and any quarter's own date, e.g.
#                   {{weeks_after_quarter: 6, 2026-27-Q2: 2026-11-13}}; the returns tracker says
#                   whether each return came on time, by the date returns/received.yaml records
"""

#: the rule and the format of priorities.yaml, at the top of every such file
PRIORITIES_HELP = """\
# Regional priorities: what the region's benchmarking group has agreed to improve, each a target
# on one indicator of the catalogue (data_contracts/indicators.yaml). The quarterly regional
# report shows each priority as red, amber or green on the region's own figure (sum of
# numerators over sum of denominators):
#   green  the figure meets the target (at or above it when a higher value is better, at or
#          below it when a lower value is better);
#   amber  it misses the target by no more than `amber_within` of the target (a fraction:
#          0.10 = 10%; set once below, or per priority);
#   red    it misses by more;
#   no data  the region has no figure for the period.
# A target on a neutral indicator (no better direction) is refused. Regions are keyed by their
# code in the dataset's reference/local_authorities.csv; a region with no entry, or an empty
# list, gets no priorities.
"""

PRIORITIES_EMPTY = """\
# {name} has no priorities yet. To add one, replace `[]` after {code}: with a list of
# entries, one per priority, e.g.
#
#   {code}:
#     - id: front-door-rereferrals   # short and unique within the region
#       title: Fewer children re-referred within a year
#       indicator: rereferrals_pct   # an indicator id from data_contracts/indicators.yaml
#       target: 22.0                 # in the indicator's unit (here %)
#     - id: care-leavers-eet
#       title: More care leavers in education, employment or training
#       indicator: care_leavers_eet_pct
#       target: 55.0
#       amber_within: 0.05           # optional: this priority's own amber margin
#
# `tartan validate` and `tartan report` check the file and say what to fix, by line.
version: "1.0.0"
amber_within: 0.10
regions:
  {code}: []
"""

README = """\
# {dataset}

Made by `tartan init {code}` from DfE's published lists in {source}.

- `reference/`: every LA in England with its region; the statistical neighbours (2025 model) of
  {name}'s {n} LAs, those in other regions kept as comparators; their ONS 0-17 populations.
- `dataset.yaml`: the dataset's name, region, reporting window ({first} to {last}) and where
  published comparators come from (each key is explained at its top).
- `priorities.yaml`: the region's priorities, none yet (how to add them is at its top).
- `peer_challenge.yaml` (optional, not made here): the year's peer-challenge groups, two to
  four LAs each, and who moderates whom; each group gets a group pack beside the regional
  report. Its format:

      year: 2026-27                  # the financial year the groups are for
      indicators: [rereferrals_pct]  # optional: the indicators side by side (default: 11)
      groups:
        - id: group-a                # a slug: it names the group pack's file
          name: Group A              # optional
          las: [E06000001, E06000002, E06000003]
          moderators:                # optional: moderated LA: the LA that moderates it
            E06000001: E06000004     # (never itself or an LA of its own group)

  Every LA of the region must be in exactly one group; `tartan report` checks the file and
  says what to fix, by line.
- `{templates}/{period}/`: a return template for each LA for {label}.
- `returns/`: the LAs' filled returns, one file per LA per quarter, named
  `<LA code>_<quarter>.xlsx` (or .csv); a resubmission is kept beside it as the next version,
  `<LA code>_<quarter>_v2.xlsx`, `_v3`, ..., and the reports use the latest accepted one; add
  `_provisional` to the name of a return whose figures the LA will confirm. The optional
  `returns/received.yaml` records when each came (`{period}/<file>: 2026-11-02`, or
  `{{received: 2026-11-02, provisional: true}}`); without it a workbook's own saved date is used.

From here to the first report:

1. Send each LA its template from `{templates}/{period}/` (or write one with
   `tartan template --data DATA --la CODE --period {period}`).
2. Save each filled return in `returns/{period}/` (.xlsx as filled, or CSV).
3. `tartan validate --data DATA` checks them and writes what each LA must fix.
4. `tartan report --data DATA` (or `make report DATA=DATA`) builds the reports.
"""


def _texts(made: Made, source: Path) -> dict[str, str]:
    """dataset.yaml, priorities.yaml and README.md."""
    name = f"{made.region_name} children's services benchmarking"
    first, last = made.window
    meta = (
        DATASET_HEADER.format(name=name)
        + _yaml_line("name", name)
        + _yaml_line("region", {"code": made.region_code, "name": made.region_name})
        + _yaml_line("reporting_window", {"first": first.slug, "last": last.slug})
        + _yaml_line("comparators", {"mode": "auto", "source": os.path.abspath(source)})
    )
    priorities = PRIORITIES_HELP + PRIORITIES_EMPTY.format(
        name=made.region_name, code=made.region_code
    )
    readme = README.format(
        dataset=name,
        code=made.region_code,
        source=os.path.abspath(source),
        name=made.region_name,
        n=len(made.la_codes),
        first=first.label,
        last=last.label,
        templates=TEMPLATES,
        period=made.period.slug,
        label=made.period.label,
    )
    return {"dataset.yaml": meta, "priorities.yaml": priorities, "README.md": readme}


# --------------------------------------------------------------------------- writing the folder


def check_out(out: Path) -> None:
    """A dataset is made in a new or empty folder, never through a link."""
    out = Path(out)
    if out.is_symlink():
        raise ConfigError(
            f"--out {out}: is a link; init writes a new dataset folder and never through a "
            "link: give a new folder"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"--out {out}: already exists and is not empty; init writes a new dataset folder: "
            "give a new (or empty) folder, or remove this one first"
        )


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`, every write confined to it, renamed to `out` when the
    block ends well and removed when it does not (an error, Ctrl-C)."""
    out = Path(os.path.abspath(out))
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=TEMPORARY, dir=out.parent))
    try:
        with confined(tmp):
            yield tmp
        check_out(out)
        if out.exists():
            out.rmdir()  # empty, as checked
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write(
    out: Path,
    region: str,
    source: Path,
    contracts: Path,
    template: TemplateWriter,
    today: datetime.date | None = None,
) -> Made:
    """Make the dataset folder `out` for `region` from the published lists in `source`, as the
    mapping in `contracts`/datapack.yaml names them; `template` writes each LA's return
    template. Nothing is left at `out` unless all of it was written."""
    check_out(out)
    mapping = Path(contracts) / "datapack.yaml"
    spec = ees.load_spec(mapping)
    check_source(source, spec)
    ref = reference_public.from_public(
        Path(source),
        spec.reference,
        ct.load_contract(Path(contracts) / "reference.yaml"),
        spec.name,
        str(mapping),
    )
    code, name = pick_region(region, ref.regions)
    tables = region_tables(ref, code)
    window, due = reporting_year(today or ref_io._today())
    las = ref.local_authorities
    own = sorted(las.loc[las["region_code"].eq(code), "la_code"])
    made = Made(Path(out), code, name, own, window, due)
    with staged(out) as folder:
        for file, table in tables.items():
            csv = table.to_csv(index=False, lineterminator="\n")
            write_text_atomic(folder / "reference" / f"{file}.csv", csv)
        for file, text in _texts(made, source).items():
            write_text_atomic(folder / file, text)
        (folder / "returns" / due.slug).mkdir(parents=True)
        written = [
            template(folder, la, due.slug, folder / TEMPLATES / due.slug / f"{la}_{due.slug}.xlsx")
            for la in own
        ]
    return dataclasses.replace(
        made, templates=[made.folder / p.relative_to(folder) for p in written]
    )


def no_returns_yet(data: Path) -> str:
    """What `tartan validate` and `tartan report` say of a dataset whose returns/ holds none."""
    returns, templates = Path(data) / "returns", Path(data) / TEMPLATES
    made = sorted(p for p in templates.iterdir() if p.is_dir()) if templates.is_dir() else []
    where = (
        f"fill the templates in {made[-1]} (one per LA) and save each LA's return in "
        f"{returns / made[-1].name}"
        if made
        else "put each LA's return there (CSV or XLSX; `tartan template --la CODE --period "
        "PERIOD` writes one to fill)"
    )
    return f"no returns yet in {returns}: {where}, then run again"
