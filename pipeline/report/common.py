"""What every report facade shares: reading a slice, the facts every report states, and
figures with tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.periods import parse_slug
from pipeline.html.sections import figure
from pipeline.report.prepared import HTML  # noqa: F401 (the facades' sections return it)

#: columns of a slice that hold text; every other column is a number (blank = none)
TEXT_COLUMNS = {"la_code", "area_code", "area_type", "period", "indicator_id", "region_code"}
TEXT_COLUMNS |= {"status", "band", "trend", "shared", "as_at"}
#: how a figure compares with a benchmark, and whether a change is significant ('' untested)
TEXT_COLUMNS |= {"vs_england", "vs_region", "vs_sn", "change_previous_sig", "change_year_sig"}


def _read_csv(path: Path) -> pd.DataFrame:
    """A slice the driver wrote: blanks are missing numbers, but an empty status stays ''."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in df.columns:
        if col in TEXT_COLUMNS:
            continue
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
    for col in ("band", "trend"):
        if col in df:
            df[col] = df[col].replace("", None)
    return df


class Report:
    """What every report facade shares: the slice the driver wrote (context.json and the CSV
    files named in `CSVS`, each loaded as the attribute of its name) and the facts every
    report states."""

    CSVS: tuple[str, ...] = ("figures", "areas")

    def __init__(self, context: dict, frames: dict[str, pd.DataFrame]):
        self.context = context
        for name in self.CSVS:
            setattr(self, name, frames[name])
        self.catalogue = Catalogue.from_records(context["catalogue"], context["catalogue_version"])

    #: the sections a notebook shows, in order (laid out ahead by Facade.prepare)
    SECTIONS: tuple[str, ...] = ()
    #: the files the report is also published as, beside its page: a suffix (".xlsx": the
    #: page's stem with it) or a whole file name ("member-briefing.html": that file in the
    #: page's folder) -> the name of the method that makes its bytes from what the page says of
    #: itself (Facade.artefacts; where each goes: orchestration.jobs.artefact_path; a new file
    #: name is also listed in orchestration.runner.OUTPUT_NAMES, for clean-up)
    ARTEFACTS: ClassVar[dict[str, str]] = {}

    @classmethod
    def load(cls, slice_dir: str | Path):
        d = Path(slice_dir)
        context = json.loads((d / "context.json").read_text(encoding="utf-8"))
        return cls(context, {name: _read_csv(d / f"{name}.csv") for name in cls.CSVS})

    @property
    def period(self) -> str:
        return self.context["period"]

    @property
    def published(self) -> bool:
        """Whether England, the neighbours and the bands are DfE's published figures."""
        return self.context.get("comparators", {}).get("mode") == "published"

    @property
    def as_at(self) -> dict[str, str]:
        """Indicator id -> the date of its published comparators (published mode only)."""
        return self.context.get("comparators", {}).get("as_at", {})

    @property
    def period_label(self) -> str:
        return parse_slug(self.period).label

    @property
    def noun(self) -> str:
        """What one of the report's periods is called: quarter or year."""
        return parse_slug(self.period).noun

    @property
    def region_name(self) -> str:
        return self.context["region"]["name"]


def _figure(fig_id: str, title: str, svg: str, desc: str, tbl: str) -> str:
    """A chart with its caption, a text description and its figures as a table."""
    from pipeline.edges.charts import labelled

    return figure(fig_id, title, labelled(svg, title, desc), desc, tbl)


def rank_text(rank, of) -> str:
    """'3 of 10', or blank when there is no rank."""
    return "" if pd.isna(rank) else f"{int(rank)} of {int(of)}"
