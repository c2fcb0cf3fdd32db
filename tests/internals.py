"""The package's internals that tests reach past the command line for, imported here only.

Most tests go through the public entry points (`pipeline.cli.main`, `Settings`, the products'
`report` and `datapack`); a few need a step of a run on its own (validation and disclosure
control, a report's prepared slice). When the package moves one of these names, this is the one
file to change.
"""

from __future__ import annotations

from pipeline.orchestration.inputs import load_inputs, published, validate
from pipeline.orchestration.planning import NEIGHBOUR_COLUMNS
from pipeline.orchestration.products.published import (
    DFE_COUNTS,
    DFE_VALUE,
    TARTAN_SUM,
    area_figures,
    choose_year,
    load_published,
    trend_window,
)
from pipeline.orchestration.products.quarterly import prepare_plan, report
from pipeline.orchestration.products.quarterly_jobs import pack_job, regional_job

__all__ = [
    "DFE_COUNTS",
    "DFE_VALUE",
    "NEIGHBOUR_COLUMNS",
    "TARTAN_SUM",
    "area_figures",
    "choose_year",
    "load_inputs",
    "load_published",
    "pack_job",
    "prepare_plan",
    "published",
    "regional_job",
    "report",
    "trend_window",
    "validate",
]
