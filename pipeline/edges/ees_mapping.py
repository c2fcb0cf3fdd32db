"""The datapack's mapping of DfE's published files (``data_contracts/datapack.yaml``), checked.

Per indicator, the mapping names its catalogue entry (id, label, theme, unit, polarity or a LAIT
measure, decimals, ...), its file, the rows it reads (filter values) and the columns that are its
numerator, denominator and published value; it also names the reference files
(:func:`pipeline.edges.reference.from_public`). Every problem names the entry it is in.
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

#: the catalogue fields an indicator entry carries through
CATALOGUE_FIELDS = ("id", "label", "short_label", "theme", "unit", "decimals", "description")
CATALOGUE_FIELDS += ("source", "valid_range")


@dataclass(frozen=True)
class Column:
    """A column of one EES file, over the rows its filters pick; `years_earlier` shifts it (a
    population of the year before is the denominator of a year's rate)."""

    file: str
    filters: tuple[tuple[str, str], ...]
    column: str
    years_earlier: int = 0

    def describe(self) -> str:
        rows = ", ".join(f"{k} = {v!r}" for k, v in self.filters) or "every row"
        lag = f", {self.years_earlier} year(s) earlier" if self.years_earlier else ""
        return f"{self.column} of {self.file} ({rows}{lag})"


@dataclass(frozen=True)
class Source:
    """Where one indicator's figures sit: its catalogue entry and its columns."""

    indicator: Mapping[str, Any]
    numerator: Column
    denominator: Column
    value: Column | None
    lait: str | None
    where: str  # "data_contracts/datapack.yaml, indicator 3 (cla_rate)"

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
            unit = rec.get("unit")
            rec.setdefault("valid_range", [0, 100 if unit == "percentage" else None])
            records.append(rec)
        return Catalogue.from_records(records, self.version)


def filters_of(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: filters must be a mapping of column to value")
    return tuple(sorted((str(k), str(v)) for k, v in raw.items()))


def _column(raw: object, file: str | None, filters, where: str) -> Column:
    """A numerator, denominator or value: a column name (of the entry's file) or a mapping
    {file, filters, column, years_earlier}."""
    if isinstance(raw, str) and raw.strip():
        if file is None:
            raise ConfigError(f"{where}: no file for column {raw!r}")
        return Column(file, filters, raw.strip())
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"file", "filters", "column", "years_earlier"}
        if unknown or "column" not in raw:
            raise ConfigError(
                f"{where}: expected {{file, filters, column, years_earlier}}, got "
                f"{', '.join(map(str, raw))}"
            )
        lag = raw.get("years_earlier", 0)
        if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= 10:
            raise ConfigError(f"{where}: years_earlier must be a whole number 0-10, not {lag!r}")
        return Column(
            str(raw.get("file", file)),
            filters_of(raw["filters"], where) if "filters" in raw else filters,
            str(raw["column"]),
            lag,
        )
    raise ConfigError(f"{where}: expected a column name or {{file, filters, column}}, not {raw!r}")


def load_spec(path: Path) -> Spec:
    """The mapping file, checked: every problem names the entry it is in."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("indicators"), list):
        raise ConfigError(f"{path}: expected a mapping with an `indicators` list")
    reference = doc.get("reference") or {}
    if not isinstance(reference, Mapping):
        raise ConfigError(f"{path}: reference must be a mapping of reference files")
    sources, seen = [], set()
    for n, raw in enumerate(doc["indicators"], start=1):
        ident = raw.get("id") if isinstance(raw, Mapping) else None
        where = f"{path}, indicator {n}" + (f" ({ident})" if ident else "")
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping (id, label, file, numerator, ...)")
        missing = [
            k
            for k in ("id", "label", "theme", "unit", "file", "numerator", "denominator")
            if k not in raw
        ]
        if "polarity" not in raw and "lait" not in raw:
            missing.append("polarity (or lait)")
        if "decimals" not in raw and "lait" not in raw:
            missing.append("decimals")
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", str(ident)):
            raise ConfigError(
                f"{where}: id {ident!r} must be lower-case letters, digits and _ (e.g. cla_rate)"
            )
        if ident in seen:
            raise ConfigError(f"{where}: id {ident!r} appears twice")
        seen.add(ident)
        if raw["unit"] not in UNITS:
            raise ConfigError(f"{where}: unit {raw['unit']!r} is not one of {', '.join(UNITS)}")
        file = str(raw["file"])
        filters = filters_of(raw.get("filters"), where)
        sources.append(
            Source(
                indicator={k: raw[k] for k in (*CATALOGUE_FIELDS, "polarity") if k in raw},
                numerator=_column(raw["numerator"], file, filters, f"{where}: numerator"),
                denominator=_column(raw["denominator"], file, filters, f"{where}: denominator"),
                value=_column(raw["value"], file, filters, f"{where}: value")
                if raw.get("value")
                else None,
                lait=str(raw["lait"]) if raw.get("lait") else None,
                where=where,
            )
        )
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
