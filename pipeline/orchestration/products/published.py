"""The annual datapack's figures from DfE's published statistics: a source folder read once
through its mapping, the year and trend window asked for, and the region and England figures a
datapack shows beside its LAs'.

The mapping (``data_contracts/datapack.yaml``) names the files; `load_published` reads them into
what every datapack report shares: the indicator catalogue (polarity from LAIT's dictionary), the
reference data from the published lists, and the figures with DfE's own area figures beside
them (see ``pipeline.edges.ees``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.core.trends import movement
from pipeline.core.vocabulary import MISSING, OK, ratio
from pipeline.edges import contracts as ct
from pipeline.edges import ees, reference_check, reference_public
from pipeline.edges import reference as ref_io

#: where an area's figure comes from (the `source` column of the areas table)
DFE_VALUE, DFE_COUNTS, TARTAN_SUM = "DfE published", "DfE published counts", "sum of LAs"


@dataclass
class Published:
    """A source folder read through its mapping."""

    source: Path
    spec: ees.Spec
    catalogue: Catalogue
    reference: ref_io.Reference
    extract: ees.Extract


def load_published(source: Path, mapping: Path, reference_contract: Path) -> Published:
    """Read `source` as `mapping` says; the reference is checked against `reference_contract`
    and its window is the years the figures span."""
    with loading_published(source, mapping, reference_contract, apart=False) as published:
        return published


@contextlib.contextmanager
def loading_published(
    source: Path, mapping: Path, reference_contract: Path, apart: bool = True
) -> Iterator[Published]:
    """`load_published`, with the reference's check against `reference_contract` running in a
    process of its own (``reference_check.aside``, `apart`) until the block ends: a broken
    reference's errors are raised then, before any error of the block's own."""
    source = Path(source)
    spec = ees.load_spec(mapping)
    lait = spec.reference.get("lait")
    catalogue = spec.catalogue(ees.lait_dictionary(source / str(lait)) if lait else {})
    contract = ct.load_contract(reference_contract)
    public = reference_public.public_tables(source, spec.reference, str(mapping))
    with reference_check.aside(public.tables, contract, source, apart):
        reference = reference_public.from_tables(
            public, None, source, name=spec.name, where=str(mapping)
        )
        extract = ees.extract(
            spec, source, catalogue, reference.aliases, list(reference.local_authorities["la_code"])
        )
        years = sorted({parse_slug(p) for p in extract.figures["period"]})
        if years:
            reference = dataclasses.replace(reference, window=(years[0], years[-1]))
        yield Published(source, spec, catalogue, reference, extract)


def choose_year(years: list[str], wanted: list[str] | None) -> str:
    """The year asked for (the latest when none or 'latest'), one the figures have."""
    if not years:
        raise ConfigError("the source folder gave no figures for any year")
    if not wanted or wanted == ["latest"]:
        return years[-1]
    if len(wanted) != 1:
        raise ConfigError("a datapack is built for one year at a time (--year)")
    year = parse_slug(wanted[0]).slug
    if year not in years:
        raise ConfigError(f"year {wanted[0]!r} has no figures; years held: {', '.join(years)}")
    return year


def trend_window(year: str, years: list[str], trend_years: int) -> list[str]:
    """The years a datapack for `year` shows trends over: up to `trend_years`, those held."""
    p = parse_slug(year)
    wanted = [p.shifted(-k).slug for k in range(trend_years - 1, -1, -1)]
    return [y for y in wanted if y in years]


def dfe_value(published: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """DfE's own figure for each area row: the value it publishes, else the ratio of its
    published counts (blank when it publishes neither)."""
    from_counts = ratio(
        published["numerator"], published["denominator"], published["indicator_id"], catalogue
    )
    return published["value"].where(published["value"].notna(), from_counts)


def area_figures(
    published: pd.DataFrame,
    tartan: pd.DataFrame,
    catalogue: Catalogue,
    trend_steps: int,
) -> pd.DataFrame:
    """The region and England figures a datapack shows: DfE's published value where it
    publishes one, else the ratio of DfE's published counts, else Tartan's sum of the LAs;
    with their movement over time (on those figures) and where each came from (`source`).

    `published`: the adapter's DfE area figures; `tartan`: ``benchmark``'s areas."""
    keys = ["area_code", "period", "indicator_id"]
    pub = published.copy()
    from_counts = ratio(pub["numerator"], pub["denominator"], pub["indicator_id"], catalogue)
    pub["dfe"] = dfe_value(pub, catalogue)
    pub["source"] = np.where(
        pub["value"].notna(), DFE_VALUE, np.where(from_counts.notna(), DFE_COUNTS, "")
    )
    ours = tartan[[*keys, "area_type", "value", "status", "las_contributing", "las_in_area"]]
    out = ours.merge(
        pub[[*keys, "numerator", "denominator", "dfe", "source", "status"]].rename(
            columns={"status": "dfe_status"}
        ),
        on=keys,
        how="outer",
    )
    out["area_type"] = np.where(out["area_code"].eq("england"), "england", "region")
    has_dfe = out["dfe"].notna()
    out["value"] = out["dfe"].where(has_dfe, out["value"])
    out["source"] = np.where(has_dfe, out["source"], np.where(out["value"].notna(), TARTAN_SUM, ""))
    # DfE's own symbol where it published no number; otherwise no figure
    symbol = out["dfe_status"].fillna("").astype(str)
    out["status"] = np.where(
        out["value"].notna(), OK, np.where(symbol.ne("") & symbol.ne(OK), symbol, MISSING)
    )
    for col in ("las_contributing", "las_in_area"):
        out[col] = out[col].fillna(0).astype(int)
    moved = movement(
        out.rename(columns={"area_code": "la_code"})[
            ["la_code", "period", "indicator_id", "value", "status"]
        ],
        catalogue,
        trend_steps=trend_steps,
    ).rename(columns={"la_code": "area_code"})
    out = out.merge(moved, on=keys, how="left", validate="one_to_one")
    columns = [*keys, "numerator", "denominator", "value", "status", "las_contributing"]
    columns += ["las_in_area", "area_type", "source", *(c for c in moved if c not in keys)]
    order = {p: parse_slug(p).ordinal for p in out["period"].unique()}
    out = out.assign(_o=out["period"].map(order)).sort_values(
        ["_o", "indicator_id", "area_code"], kind="stable"
    )
    return out[columns].reset_index(drop=True)


def as_at(figures: pd.DataFrame, year: str) -> dict[str, str]:
    """Each indicator's year for a datapack of `year`: `year` itself where its file reaches
    it, else the latest year before it that its file has (a file that ends earlier)."""
    target = parse_slug(year)
    out = {}
    for ind, periods in figures.groupby("indicator_id", sort=False)["period"]:
        held = [p for p in map(parse_slug, periods.unique()) if p <= target]
        if held:
            out[str(ind)] = max(held).slug
    return out


def carried(frame: pd.DataFrame, year: str, years: dict[str, str]) -> pd.DataFrame:
    """`frame` (LA or area figures, with period and indicator_id) with `as_at`: the year each
    row's figure is of. An indicator whose latest year is before `year` has its latest year's
    rows shown again as `year`'s, `as_at` naming their own year."""
    out = frame.assign(as_at=frame["period"])
    late = {ind: p for ind, p in years.items() if p != year}
    if not late:
        return out
    pick = out["indicator_id"].map(late).eq(out["period"])
    again = out[pick].assign(period=year)
    return pd.concat([out, again], ignore_index=True)
