"""The quarterly product as the runner sees it: light to import (no pandas, none of the core),
so that a run with nothing to do finds it out and ends in a fraction of a second. Its work is
in `pipeline.orchestration.products.quarterly`, loaded when the run has something to build."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import DataError
from pipeline.core.periods import parse_slug
from pipeline.orchestration import cache
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.runner import Product
from pipeline.orchestration.settings import Settings

if TYPE_CHECKING:
    from pipeline.orchestration.planning import Planned
    from pipeline.orchestration.products.quarterly_plan import Plan
    from pipeline.orchestration.runner import Context, Site, Spec
    from pipeline.orchestration.validation import Validation


@dataclass
class RunSummary:
    validation: Validation | None  # None when nothing had changed (see up_to_date)
    results: list[JobResult] = field(default_factory=list)
    up_to_date: dict | None = None  # the last run's manifest, when this run had nothing to do

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != "ok"]


def _work():
    from pipeline.orchestration.products import quarterly

    return quarterly


class Quarterly(Product):
    name = "quarterly"
    what = "Reports"

    def places(self, out: Path) -> list[Path]:
        """The folder's index and manifest, the validation pages, the logs, and each quarter's
        reports."""
        quarters = [p for p in out.iterdir() if _is_quarter(p.name)] if out.is_dir() else []
        own = ["index.html", cache.MANIFEST, "validation", "logs"]
        return [out / name for name in own] + sorted(quarters)

    def up_to_date(self, s: Settings) -> dict | None:
        return cache.up_to_date(s)

    def prepare(self, ctx: Context) -> Plan:
        return _work().prepare(ctx)

    def specs(self, plan: Plan) -> list[Spec]:
        """What the settings ask for: each LA's pack, then each regional report, which needs
        its LAs' packs of its period (it links only to those that were built)."""
        return _work().specs(plan)

    def plan(self, plan: Plan, spec: Spec, needs: dict[str, JobResult]) -> Planned:
        return _work().plan_job(plan, spec, needs)

    def keep(self, plan: Plan, entry: dict) -> bool:
        return _work().keep(plan, entry)

    def write_site(self, plan: Plan, entries: list[dict]) -> Site:
        return _work().write_site(plan, entries)

    def summary(self, plan: Plan, results: list[JobResult], site: Site | None) -> RunSummary:
        return RunSummary(plan.v, results)

    def nothing_to_do(self, manifest: dict) -> RunSummary:
        return RunSummary(None, up_to_date=manifest)


def _is_quarter(name: str) -> bool:
    """Whether a name in the output folder is a quarter's, as its reports' folder is named."""
    try:
        period = parse_slug(name)
    except DataError:
        return False
    return period.is_quarter and period.slug == name
