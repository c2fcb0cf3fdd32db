"""The validation pages on their own (``tartan validate``): every return checked against its
contract, and the pages an LA reads to fix its return. No notebooks run; the runner still holds
the folder's lock and clears what a killed run left."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.html.base import footer
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.inputs import (
    Inputs,
    banners,
    disclosure_text,
    published,
    validate,
    write_validation,
)
from pipeline.orchestration.jobs import JobResult
from pipeline.orchestration.runner import Context, Product, Site, run
from pipeline.orchestration.settings import PROJECT, Settings
from pipeline.orchestration.tracker import for_run
from pipeline.orchestration.validation import Validation


@dataclass
class Checked:
    validation: Validation  # as found: the command line quotes its findings to the LA
    published: Validation  # its findings quoting no withheld figure, as the pages show them
    inputs: Inputs
    run_prov: dict
    s: Settings
    tracker: list[dict]  # the returns tracker's entries (orchestration.tracker)


class ValidationPages(Product):
    name = "validation"
    notebooks = False

    def places(self, out: Path) -> list[Path]:
        return [out / "validation"]

    def prepare(self, ctx: Context) -> Checked:
        s = ctx.s
        v, inputs = validate(s)
        run_prov = prov.run_provenance(
            PROJECT,
            inputs.reference.name,
            inputs.contracts,
            disclosure=disclosure_text(s, inputs),
        )
        _, sdc = published(s, v, inputs)
        shown = v.published(sdc.removed)
        return Checked(v, shown, inputs, run_prov, s, for_run(s, shown, inputs, sdc.removed))

    def write_site(self, checked: Checked, entries: list[dict]) -> None:
        s, reference = checked.s, checked.inputs.reference
        write_validation(
            s.out,
            checked.published,
            reference,
            footer(prov.facts(checked.run_prov), "About these pages' data"),
            banners(s, reference),
            complete=not s.returns,
            tracker=checked.tracker,
        )

    def summary(self, checked: Checked, results: list[JobResult], site: Site | None):
        return checked.validation


def validate_pages(s: Settings) -> Validation:
    """Validate the returns `s` names and write the validation pages into `s.out`."""
    return run(ValidationPages(), s)
