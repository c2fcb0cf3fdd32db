"""Reference data: local authorities and regions, statistical neighbours, populations.

A dataset folder holds ``reference/`` (these files), ``returns/`` (LA returns) and an optional
``dataset.yaml`` (its name, and whether it is demonstration data).
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.periods import Period, parse_slug
from pipeline.edges import contracts as ct
from pipeline.edges.contracts import load_yaml

#: Without `reporting_window` in dataset.yaml, returns are accepted for the 12 quarters up to the
#: last one that has ended (by SOURCE_DATE_EPOCH when set, else today's date).
DEFAULT_WINDOW_QUARTERS = 12

FILES = {
    "local_authorities": ["la_code", "la_name", "region_code", "region_name"],
    "statistical_neighbours": ["la_code", "neighbour_rank", "neighbour_la_code", "closeness"],
    "population": ["la_code", "year", "population_0_17"],
}


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
    """A reference file as strings, with the row each line is on (header = row 1)."""
    if not path.exists():
        raise ConfigError(
            f"{path}: reference file not found (expected columns {', '.join(columns)})"
        )
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as 'CSV UTF-8'") from None
    except pd.errors.EmptyDataError:
        raise ConfigError(
            f"{path}: the file is empty; expected columns {', '.join(columns)}"
        ) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        where = (
            f"line {m.group(2)} has {m.group(3)} cells but the header has {m.group(1)} columns"
            if m
            else str(exc).strip()
        )
        raise ConfigError(
            f"{path}: {where}; a value probably contains a comma: write 12345, not 12,345, and "
            "put text containing commas in quotes"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    for c in df.columns:
        df[c] = df[c].str.strip()
    df["file"] = str(path)
    df["row"] = range(2, len(df) + 2)
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
    if contract is not None:
        ctx = ct.Context(
            lookups={
                "reference.local_authorities.la_code": sorted(
                    ref["local_authorities"].get("la_code", pd.Series(dtype=str))
                )
            }
        )
        found = ct.check_tables(contract, ref, ctx)
        errors = found[found["severity"] == "error"]
        if len(errors):
            raise ConfigError(
                f"{dataset / 'reference'}: the reference data breaks its contract "
                f"{contract.label}:\n" + ct.problems_text(errors)
            )
    for name, cols in FILES.items():
        missing = [c for c in cols if c not in ref[name].columns]
        if missing:
            raise ConfigError(
                f"{dataset / 'reference' / name}.csv: missing column(s) {', '.join(missing)}"
            )
        ref[name] = ref[name][cols].copy()
    try:
        sn = ref["statistical_neighbours"]
        sn["neighbour_rank"] = sn["neighbour_rank"].astype(int)
        pop = ref["population"]
        pop["year"] = pop["year"].astype(int)
        pop["population_0_17"] = pop["population_0_17"].astype(int)
    except ValueError as exc:
        raise ConfigError(
            f"{dataset / 'reference'}: a rank, year or population is not a whole number ({exc})"
        ) from None
    demo = bool(meta.get("demonstration", False))
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
        **ref,
    )


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
