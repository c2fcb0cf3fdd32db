"""The datapack's mapping of DfE's published files (``data_contracts/datapack.yaml``), checked.

Per indicator, the mapping names its catalogue entry (id, label, theme, unit, polarity or a LAIT
measure, decimals, ...), its file, the rows it reads (filter values) and the columns that are its
numerator, denominator and published value; it also names the reference files
(:func:`pipeline.edges.reference_public.from_public`). Every problem names the entry it is in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.catalogue import UNITS, Catalogue
from pipeline.core.errors import ConfigError
from pipeline.edges.contract_model import load_yaml
from pipeline.edges.files import read_text_csv

#: the catalogue fields an indicator entry carries through
CATALOGUE_FIELDS = ("id", "label", "short_label", "theme", "unit", "decimals", "description")
CATALOGUE_FIELDS += ("source", "valid_range", "count_model")


#: a number as EES files write one
NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
#: LAIT's polarity words -> Tartan's
LAIT_POLARITY = {"high": "high", "low": "low", "-": "neutral", "": "neutral"}
#: what a year ends on when an entry does not say (DfE's reporting year: to 31 March)
YEAR_END = "31 March"
_MONTHS = "January February March April May June July August September October November December"
_YEAR_END = re.compile(r"^([1-9]|[12][0-9]|3[01]) (" + _MONTHS.replace(" ", "|") + ")$")
#: the keys an indicator entry may have
ENTRY_KEYS = frozenset(CATALOGUE_FIELDS) | {"polarity", "lait", "file", "filters", "numerator"}
ENTRY_KEYS |= {"denominator", "value", "year_end", "tolerance"}


@dataclass(frozen=True)
class Column:
    """A column of one EES file, over the rows its filters pick; `years_earlier` shifts it (a
    population of the year before is the denominator of a year's rate).

    Several `columns` are summed (the agency rate's denominator is agency plus in-post FTE); a
    filter with several values picks one row for each, summed per LA and year (a sum of rows)."""

    file: str
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    columns: tuple[str, ...]
    years_earlier: int = 0

    @property
    def column(self) -> str:
        """The column's name (its names joined by + when it is a sum)."""
        return " + ".join(self.columns)

    @property
    def summed_filters(self) -> list[str]:
        """The filter columns with more than one value: their rows are summed."""
        return [name for name, values in self.filters if len(values) > 1]

    @property
    def parts(self) -> int:
        """How many published cells make one figure (1 unless a sum)."""
        n = len(self.columns)
        for _, values in self.filters:
            n *= len(values)
        return n

    def describe(self) -> str:
        rows = ", ".join(f"{k} = {_either(v)}" for k, v in self.filters) or "every row"
        lag = f", {self.years_earlier} year(s) earlier" if self.years_earlier else ""
        return f"{self.column} of {self.file} ({rows}{lag})"


def _either(values: tuple[str, ...]) -> str:
    return repr(values[0]) if len(values) == 1 else "any of " + ", ".join(map(repr, values))


@dataclass(frozen=True)
class Source:
    """Where one indicator's figures sit: its catalogue entry and its columns; the date its
    year ends on (`year_end`) and the cross-check's tolerance for its published value."""

    indicator: Mapping[str, Any]
    numerator: Column
    denominator: Column
    value: Column | None
    lait: str | None
    where: str  # "data_contracts/datapack.yaml, indicator 3 (cla_rate)"
    year_end: str = YEAR_END
    tolerance: float | None = None

    @property
    def id(self) -> str:
        return str(self.indicator["id"])

    @property
    def columns(self) -> dict[str, Column]:
        out = {"numerator": self.numerator, "denominator": self.denominator}
        return out | ({"value": self.value} if self.value else {})


@dataclass(frozen=True)
class Spec:
    """The datapack's mapping: its sources and its reference files."""

    path: Path
    version: str
    name: str
    trend_years: int
    reference: Mapping[str, Any]
    sources: tuple[Source, ...]

    @property
    def files(self) -> list[str]:
        """Every file the mapping reads, relative to the source folder."""
        names = {c.file for s in self.sources for c in s.columns.values()}
        for entry in self.reference.values():
            if isinstance(entry, Mapping) and "file" in entry:
                names.add(str(entry["file"]))
            elif isinstance(entry, str):
                names.add(entry)
        return sorted(names)

    @property
    def tolerances(self) -> dict[str, float]:
        """Indicator id -> the cross-check's allowed difference in its value, where the
        mapping sets one."""
        return {s.id: s.tolerance for s in self.sources if s.tolerance is not None}

    @property
    def parts(self) -> dict[tuple[str, str], int]:
        """(indicator id, measure) -> how many published cells make one of its figures."""
        return {(s.id, role): c.parts for s in self.sources for role, c in s.columns.items()}

    def catalogue(self, lait: Mapping[str, tuple[str, int | None]]) -> Catalogue:
        """The datapack's indicator catalogue: polarity (and, unless the entry gives them,
        decimals) from LAIT's dictionary where an entry names a LAIT measure."""
        records = []
        for s in self.sources:
            rec = {k: s.indicator[k] for k in CATALOGUE_FIELDS if k in s.indicator}
            if s.lait is not None:
                if s.lait not in lait:
                    raise ConfigError(
                        f"{s.where}: lait {s.lait!r} is not a measure_short in LAIT's "
                        f"dictionary ({self.reference.get('lait')})"
                    )
                polarity, dps = lait[s.lait]
                rec["polarity"] = polarity
                if "decimals" not in rec and dps is not None:
                    rec["decimals"] = dps
            else:
                rec["polarity"] = s.indicator.get("polarity")
            if "decimals" not in rec:
                raise ConfigError(
                    f"{s.where}: missing decimals; LAIT's dictionary gives none for "
                    f"{s.lait!r}: say how many decimals DfE publishes (e.g. decimals: 1)"
                )
            unit = rec.get("unit")
            rec.setdefault("valid_range", [0, 100 if unit == "percentage" else None])
            records.append(rec)
        return Catalogue.from_records(records, self.version, places=[s.where for s in self.sources])


def filters_of(raw: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """{column: value or [values]} as sorted pairs; several values pick a row each (summed)."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: filters must be a mapping of column to value")
    out = []
    for k, v in raw.items():
        values = v if isinstance(v, list) else [v]
        if not values or any(isinstance(x, (Mapping, list)) or x is None for x in values):
            raise ConfigError(
                f"{where}: filter {k!r} must be a value or a list of values, not {v!r}"
            )
        if len(set(map(str, values))) != len(values):
            raise ConfigError(f"{where}: filter {k!r} names a value twice: {v!r}")
        out.append((str(k), tuple(str(x) for x in values)))
    return tuple(sorted(out))


def _names(raw: object, where: str) -> tuple[str, ...] | None:
    """A column name, or a list of names (summed); None when `raw` is neither."""
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(x, str) and x.strip() for x in items):
        return None
    names = tuple(x.strip() for x in items)
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: a column is named twice in {raw!r}")
    return names


def _column(raw: object, file: str | None, filters, where: str) -> Column:
    """A numerator, denominator or value: a column name (of the entry's file), a list of them
    (summed), or a mapping {file, filters, column, years_earlier}."""
    names = _names(raw, where)
    if names is not None:
        if file is None:
            raise ConfigError(f"{where}: no file for column {raw!r}")
        return Column(file, filters, names)
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"file", "filters", "column", "years_earlier"}
        names = _names(raw.get("column"), where)
        if unknown or names is None:
            raise ConfigError(
                f"{where}: expected {{file, filters, column, years_earlier}} with column a "
                f"name or a list of names, got {', '.join(map(str, raw))}"
            )
        lag = raw.get("years_earlier", 0)
        if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= 10:
            raise ConfigError(f"{where}: years_earlier must be a whole number 0-10, not {lag!r}")
        return Column(
            str(raw.get("file", file)),
            filters_of(raw["filters"], where) if "filters" in raw else filters,
            names,
            lag,
        )
    raise ConfigError(
        f"{where}: expected a column name, a list of them or {{file, filters, column}}, not {raw!r}"
    )


def _entry(raw: object, n: int, path: Path, seen: set[str]) -> Source:
    """One indicator entry, checked: every problem names the file, the entry and its key."""
    ident = raw.get("id") if isinstance(raw, Mapping) else None
    where = f"{path}, indicator {n}" + (f" ({ident})" if ident else "")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping (id, label, file, numerator, ...)")
    required = ("id", "label", "theme", "unit", "file", "numerator", "denominator")
    missing = [k for k in required if k not in raw]
    if "polarity" not in raw and "lait" not in raw:
        missing.append("polarity (or lait)")
    if "decimals" not in raw and "lait" not in raw:
        missing.append("decimals")
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(map(str, raw)) - ENTRY_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected "
            f"{', '.join(sorted(ENTRY_KEYS))}"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", str(ident)):
        raise ConfigError(
            f"{where}: id {ident!r} must be lower-case letters, digits and _ (e.g. cla_rate)"
        )
    if ident in seen:
        raise ConfigError(f"{where}: id {ident!r} appears twice")
    seen.add(str(ident))
    if raw["unit"] not in UNITS:
        raise ConfigError(f"{where}: unit {raw['unit']!r} is not one of {', '.join(UNITS)}")
    file = str(raw["file"])
    filters = filters_of(raw.get("filters"), f"{where}: filters")
    return Source(
        indicator={k: raw[k] for k in (*CATALOGUE_FIELDS, "polarity") if k in raw},
        numerator=_column(raw["numerator"], file, filters, f"{where}: numerator"),
        denominator=_column(raw["denominator"], file, filters, f"{where}: denominator"),
        value=_column(raw["value"], file, filters, f"{where}: value") if raw.get("value") else None,
        lait=str(raw["lait"]) if raw.get("lait") else None,
        where=where,
        year_end=_year_end(raw.get("year_end", YEAR_END), f"{where}: year_end"),
        tolerance=_tolerance(raw.get("tolerance"), f"{where}: tolerance"),
    )


def _year_end(raw: object, where: str) -> str:
    text = " ".join(str(raw).split())
    if not _YEAR_END.match(text):
        raise ConfigError(f"{where}: {raw!r} is not a day and month; expected e.g. 30 September")
    return text


def _tolerance(raw: object, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 < raw <= 10:
        raise ConfigError(
            f"{where}: {raw!r} is not a number above 0 and at most 10 (the difference allowed "
            "between DfE's published area value and Tartan's, in the indicator's units)"
        )
    return float(raw)


def load_spec(path: Path) -> Spec:
    """The mapping file, checked: every problem names the entry it is in."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("indicators"), list):
        raise ConfigError(f"{path}: expected a mapping with an `indicators` list")
    reference = doc.get("reference") or {}
    if not isinstance(reference, Mapping):
        raise ConfigError(f"{path}: reference must be a mapping of reference files")
    seen: set[str] = set()
    sources = [_entry(raw, n, path, seen) for n, raw in enumerate(doc["indicators"], start=1)]
    years = doc.get("trend_years", 5)
    if not isinstance(years, int) or not 2 <= years <= 20:
        raise ConfigError(f"{path}: trend_years must be a whole number 2-20, not {years!r}")
    return Spec(
        path=path,
        version=str(doc.get("version", "")),
        name=str(doc.get("name", "DfE published statistics")),
        trend_years=years,
        reference=reference,
        sources=tuple(sources),
    )


def lait_dictionary(path: Path) -> dict[str, tuple[str, int | None]]:
    """LAIT's data dictionary: measure_short -> (polarity, decimals or None). LAIT's High and
    Low are Tartan's high and low; its "-" (no judgement) is neutral."""
    df = read_text_csv(path, ConfigError, "LAIT's data dictionary (see reference.lait)")
    missing = [c for c in ("measure_short", "Polarity", "dps") if c not in df.columns]
    if missing:
        raise ConfigError(f"{path}: no column(s) {', '.join(missing)}")
    out = {}
    for rec in df.to_dict("records"):
        word = rec["Polarity"].lower()
        if word not in LAIT_POLARITY:
            raise ConfigError(
                f"{path}, row {rec['row']}, column Polarity: {rec['Polarity']!r}; expected "
                "High, Low or -"
            )
        decimals = int(float(rec["dps"])) if NUMBER.match(rec["dps"]) else None
        out[rec["measure_short"]] = (LAIT_POLARITY[word], decimals)
    return out
