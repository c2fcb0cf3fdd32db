"""What a quarterly run reads and checks before anything is planned: the contracts, catalogue,
reference data and disclosure rule (`Inputs`), the returns validated against them, what of them
may be published, and the validation pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.disclosure import Disclosure, Rule, suppress, unsuppressed
from pipeline.core.errors import ConfigError
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import MISSING, NOT_ACCEPTED
from pipeline.edges import contracts as ct
from pipeline.edges import reference as ref_io
from pipeline.edges.files import remove_file, sha256_file, write_template, write_text_atomic
from pipeline.edges.init_dataset import no_returns_yet
from pipeline.edges.render import stylesheet
from pipeline.edges.return_files import find_returns
from pipeline.html.validation import feedback_html, validation_html
from pipeline.orchestration import provenance as prov
from pipeline.orchestration.records import dumps_json, junit_xml
from pipeline.orchestration.settings import Settings
from pipeline.orchestration.validation import (
    ACCEPTED,
    QUARANTINED,
    Validation,
    canonical_figures,
    validate_returns,
)


@dataclass
class Inputs:
    """Everything a run reads besides the returns, each checked against its contract."""

    catalogue: Catalogue
    contract: ct.Contract  # the LA return contract
    reference: ref_io.Reference
    contracts: dict[str, str]  # contract or catalogue -> version, as every page prints it
    disclosure: Rule  # data_contracts/disclosure.yaml


#: every page of an unsuppressed run says so, at the top
UNSUPPRESSED = (
    "Not for circulation: unsuppressed. Small numbers are shown as returned; "
    "this run is for internal use only."
)


def banners(s: Settings, reference: ref_io.Reference) -> list[tuple[str, str]]:
    """The notices on every page of a run: its protective marking, whether it is unsuppressed,
    and whether its data is for demonstration."""
    marking = reference.marking if s.marking is None else s.marking
    out = [(marking, "marking")] if marking else []
    if not s.suppress:
        out.append((UNSUPPRESSED, "warning"))
    if reference.banner:
        out.append((reference.banner, "demo"))
    return out


def disclosure_text(s: Settings, inputs: Inputs) -> str:
    """What a page says of the disclosure control its figures went through."""
    if not s.suppress:
        return prov.NO_DISCLOSURE_CONTROL
    return inputs.disclosure.statement(inputs.catalogue)


def published(s: Settings, v: Validation, inputs: Inputs) -> tuple[pd.DataFrame, Disclosure]:
    """Every (LA, period, indicator) figure as returned, and what of it may be published."""
    grid = figures_grid(v, inputs.catalogue, inputs.reference)
    if not s.suppress:
        return grid, unsuppressed(grid)
    region_of = inputs.reference.local_authorities.set_index("la_code")["region_code"]
    return grid, suppress(
        grid, region_of, inputs.disclosure, inputs.catalogue, inputs.reference.population
    )


def config_hash(s: Settings) -> str:
    """One SHA-256 over the contracts and catalogue a run reads, and the dataset's dataset.yaml
    and priorities.yaml."""
    files = [
        (f"data_contracts/{p.name}", p)
        for p in sorted(s.contracts.glob("*.yaml"))
        if p.name != "datapack.yaml"  # the annual datapack's mapping: not read by this run
    ]
    files += [(name, s.data / name) for name in ("dataset.yaml", "priorities.yaml")]
    return prov.combined_hash([(name, sha256_file(p)) for name, p in files if p.is_file()])


def load_inputs(s: Settings) -> Inputs:
    contracts = s.contracts
    return_contract = ct.load_contract(contracts / "la_return.yaml")
    reference_contract = ct.load_contract(contracts / "reference.yaml")
    catalogue_contract = ct.load_contract(contracts / "catalogue.yaml")
    catalogue = ct.load_catalogue(contracts / "indicators.yaml", catalogue_contract)
    reference = ref_io.load(s.data, reference_contract)
    versions = {c.id: c.version for c in (return_contract, reference_contract, catalogue_contract)}
    versions["indicators"] = catalogue.version
    rule = ct.load_disclosure(contracts / "disclosure.yaml", catalogue)
    if rule.version:
        versions["disclosure"] = rule.version
    return Inputs(catalogue, return_contract, reference, versions, rule)


def validate(s: Settings) -> tuple[Validation, Inputs]:
    """Validate the dataset's returns (or only `s.returns`, with the rest as history)."""
    inputs = load_inputs(s)
    returns = s.data / "returns"
    if s.returns:
        paths, context = s.returns, [returns] if returns.is_dir() else []
    else:
        if not returns.is_dir():
            raise ConfigError(f"{returns}: no returns folder (expected one file per LA per period)")
        if not find_returns([returns]):
            raise ConfigError(no_returns_yet(s.data))
        paths, context = [returns], []
    v = validate_returns(
        paths,
        inputs.catalogue,
        inputs.contract,
        inputs.reference,
        root=s.data,
        context=context,
        disclosure=inputs.disclosure if s.suppress else None,
    )
    return v, inputs


def template(
    s: Settings, la_code: str, period: str, out: Path | None = None, inputs: Inputs | None = None
) -> Path:
    """Write the XLSX return template for one LA and period; returns its path. `inputs`: the
    dataset's, when already loaded (one load for many templates)."""
    inputs = inputs or load_inputs(s)
    names = inputs.reference.la_names
    if la_code not in names:
        raise ConfigError(f"LA {la_code!r} is not in the reference data of {s.data}")
    p = parse_slug(period)
    first, last = inputs.reference.window
    if not first <= p <= last:
        raise ConfigError(
            f"period {p.slug} is outside the reporting window ({first.slug} to {last.slug})"
        )
    table = inputs.contract.table
    rows = []
    for ind in inputs.catalogue:
        fill = {
            "la_code": la_code,
            "time_period": str(p.time_period),
            "time_identifier": p.time_identifier,
            "indicator_id": ind.id,
        }
        rows.append([fill.get(c, "") for c in table.columns])
    path = out or Path(f"{la_code}_{p.slug}.xlsx")
    write_template(
        path,
        table.columns,
        rows,
        title=f"{names[la_code]} ({la_code}): quarterly return for {p.label}",
        notes=[
            f"Data contract {inputs.contract.label}. Fill in numerator, denominator and value",
            "for each indicator (numbers only, no commas or % signs); when there is no value,",
            "leave it blank and put c, x, z, low or k in status. Do not add or remove rows.",
        ],
        definitions=[
            (
                i.id,
                i.label,
                i.theme,
                i.unit,
                {"high": "higher is better", "low": "lower is better"}.get(i.polarity, "neither"),
                i.decimals,
                i.description,
            )
            for i in inputs.catalogue
        ],
        definition_headings=(
            "indicator_id",
            "label",
            "theme",
            "unit",
            "polarity",
            "decimals",
            "numerator and denominator",
        ),
    )
    return path


def missing_returns(v: Validation, reference: ref_io.Reference) -> dict[str, list[str]]:
    """Per period that has any return: the LAs with none."""
    periods = {o.period for o in v.outcomes if o.period}
    las = reference.own_las.sort_values("la_name")
    out = {}
    for period in periods:
        sent = {o.la_code for o in v.outcomes if o.period == period}
        out[period] = [
            f"{n} ({c})"
            for c, n in zip(las["la_code"], las["la_name"], strict=True)
            if c not in sent
        ]
    return out


def write_validation(
    out: Path,
    v: Validation,
    reference: ref_io.Reference,
    footer: str,
    banners: list[tuple[str, str]],
    complete: bool = True,
    tracker: list[dict] | None = None,
) -> dict:
    """validation/index.html, validation.json, junit.xml and feedback/<la_code>.html, from a
    validation whose findings quote no withheld figure (:meth:`Validation.published`).

    `complete`: whether every return of the dataset was checked (only then are LAs without a
    return listed). Feedback pages of LAs that sent nothing this time are removed. `tracker`:
    the returns tracker's entries (``orchestration.tracker``), in validation.json and on the
    pages.
    """
    css = stylesheet()
    vjson = v.to_json() | {"tracker": tracker or []}
    names = reference.la_names
    folder = out / "validation"
    write_text_atomic(folder / "validation.json", dumps_json(vjson))
    write_text_atomic(folder / "junit.xml", junit_xml(vjson))
    write_text_atomic(
        folder / "index.html",
        validation_html(
            css,
            banners,
            vjson,
            footer,
            la_names=names,
            missing_returns=missing_returns(v, reference) if complete else None,
            tracker=tracker,
        ),
    )
    las = sorted({o.la_code for o in v.outcomes if o.la_code in names})
    for la in las:
        write_text_atomic(
            folder / "feedback" / f"{la}.html",
            feedback_html(css, banners, la, names[la], vjson, footer, tracker=tracker),
        )
    if (folder / "feedback").is_dir():
        for old in (folder / "feedback").glob("*.html"):
            if old.stem in names and old.stem not in las:  # a page of ours no longer due
                remove_file(old)
    return vjson


def figures_grid(v: Validation, catalogue: Catalogue, reference: ref_io.Reference) -> pd.DataFrame:
    """Every (LA, period, indicator): accepted figures, else 'not accepted' or 'missing'."""
    figs = canonical_figures(v.accepted_rows)
    figs = figs[figs["indicator_id"].isin(catalogue.ids)]
    periods = sorted({o.period for o in v.outcomes if o.period}, key=parse_slug)
    grid = pd.MultiIndex.from_product(
        [sorted(reference.own_las["la_code"]), periods, catalogue.ids],
        names=["la_code", "period", "indicator_id"],
    ).to_frame(index=False)
    out = grid.merge(figs, how="left", on=["la_code", "period", "indicator_id"])
    rejected = {(o.la_code, o.period) for o in v.outcomes if o.status == QUARANTINED}
    accepted = {(o.la_code, o.period) for o in v.outcomes if o.status == ACCEPTED}
    keys = list(zip(out["la_code"], out["period"], strict=True))
    no_row = out["status"].isna()
    is_rejected = pd.Series([k in rejected and k not in accepted for k in keys], index=out.index)
    out.loc[no_row & is_rejected, "status"] = NOT_ACCEPTED
    out.loc[no_row & ~is_rejected, "status"] = MISSING
    return out


def return_states(v: Validation) -> dict[tuple[str, str], str]:
    """(LA, period) -> 'accepted' or 'not accepted'; an accepted resubmission wins."""
    out: dict[tuple[str, str], str] = {}
    for o in v.outcomes:
        key = (o.la_code, o.period)
        if o.status == ACCEPTED:
            out[key] = "accepted"
        elif o.status == QUARANTINED:
            out.setdefault(key, NOT_ACCEPTED)
    return out
