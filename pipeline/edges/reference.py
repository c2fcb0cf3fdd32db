"""Reference data: local authorities and regions, statistical neighbours, populations.

A dataset folder holds ``reference/`` (these files), ``returns/`` (LA returns) and ``dataset.yaml``.
"""

from __future__ import annotations

import datetime
import os
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


def read_reference_file(path: Path, columns: list[str]) -> pd.DataFrame:
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
    ref = {
        name: read_reference_file(dataset / "reference" / f"{name}.csv", cols)
        for name, cols in FILES.items()
    }
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
