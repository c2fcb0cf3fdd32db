"""Which comparators a quarterly run's reports take: its own returns (a national collection) or
DfE's published statistics (one region's own returns; ``pipeline.core.published_comparators``).

The dataset says which in dataset.yaml (`comparators: {mode, source}`); in `auto` mode a run
takes published comparators when a source is given and the accepted returns do not cover
England (fewer than ``COVERS`` of the LAs DfE publishes). The published files are read through
the datapack's mapping (``data_contracts/datapack.yaml``): one mapping links a catalogue
indicator to its published measure, by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core.benchmark import partner_rows, quartiles
from pipeline.core.catalogue import Catalogue
from pipeline.core.published_comparators import against_published
from pipeline.core.vocabulary import OK
from pipeline.edges import ees, init_dataset
from pipeline.edges.reference import Reference
from pipeline.orchestration.products.published import dfe_value, load_published

#: the share of England's LAs whose returns make the returns' own England (auto mode)
COVERS = 0.9
RETURNS, PUBLISHED = "returns", "published"


@dataclass
class Chosen:
    """The comparators a run's reports take: `mode` (returns or published), and in published
    mode the source folder and, per linked indicator, the year and date its comparators are
    as at (an indicator not in `years` has no published counterpart)."""

    mode: str = RETURNS
    source: str = ""
    years: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    #: each linked indicator's national spread: the interquartile range of all LAs'
    #: published figures of its year (what "how much LAs differ nationally" measures)
    spread: dict[str, float] = field(default_factory=dict)

    @property
    def england_label(self) -> str:
        return "England (DfE published)"

    def to_json(self) -> dict:
        out: dict = {"mode": self.mode}
        if self.mode == PUBLISHED:
            out |= {"source": self.source, "as_at": dict(sorted(self.dates.items()))}
        return out


def check_source(reference: Reference, contracts: Path) -> None:
    """A dataset that names a comparator source has every file the mapping reads in it, checked
    before anything is written."""
    wanted = reference.comparators
    if wanted.mode != RETURNS and wanted.source is not None:
        spec = ees.load_spec(contracts / "datapack.yaml")
        init_dataset.check_source(wanted.source, spec, "dataset.yaml comparators.source")


def choose(
    reference: Reference,
    bench: dict[str, pd.DataFrame],
    catalogue: Catalogue,
    contracts: Path,
) -> tuple[dict[str, pd.DataFrame], Chosen]:
    """The benchmarked figures with the comparators the dataset asks for, and what they are."""
    wanted = reference.comparators
    if wanted.mode == RETURNS or wanted.source is None:
        return bench, Chosen()
    source = wanted.source
    check_source(reference, contracts)
    pub = load_published(source, contracts / "datapack.yaml", contracts / "reference.yaml")
    las = bench["las"]
    returned = las.loc[las["status"].eq(OK), "la_code"].nunique()
    england = len(pub.reference.local_authorities)
    if wanted.mode == "auto" and returned >= COVERS * england:
        return bench, Chosen()
    areas = bench["areas"]
    is_england = areas["area_type"].eq("england")
    new_las, new_england, years = against_published(
        las,
        areas[is_england],
        pub.extract.figures,
        _england_published(pub.extract.published, catalogue),
        reference.statistical_neighbours,
        catalogue,
    )
    year_end = {s.id: s.year_end for s in pub.spec.sources}
    dates = {i: f"{year_end.get(i, ees.YEAR_END)} {y}" for i, y in years.items()}
    out = {"las": new_las, "areas": pd.concat([areas[~is_england], new_england])}
    out["areas"] = out["areas"].sort_index()
    return out, Chosen(PUBLISHED, str(source), years, dates, _spread(pub.extract.figures, years))


def _spread(figures: pd.DataFrame, years: dict[str, str]) -> dict[str, float]:
    """Each linked indicator's interquartile range of all LAs' published figures of its year
    (a jointly run service's once)."""
    held = figures[figures["status"].eq(OK) & ~partner_rows(figures)]
    out = {}
    for ind, year in years.items():
        q = quartiles(held.loc[held["indicator_id"].eq(ind) & held["period"].eq(year), "value"])
        out[ind] = (q[2] - q[0]) if q else float("nan")
    return out


def _england_published(published: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """DfE's England figures (indicator_id, period, value), as the datapack takes them."""
    e = published[published["area_code"].eq(ees.ENGLAND)]
    e = e[e["indicator_id"].isin(catalogue.ids)]
    return e.assign(value=dfe_value(e, catalogue))[["indicator_id", "period", "value"]]
