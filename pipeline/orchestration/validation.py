"""Ingest and validate every incoming return once, in the driver."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.catalogue import Catalogue
from pipeline.core.errors import DataError
from pipeline.core.periods import from_ees
from pipeline.edges import contracts as ct
from pipeline.edges.files import find_returns, read_return, sha256_file
from pipeline.edges.reference import Reference

ACCEPTED = "accepted"
QUARANTINED = "quarantined"


@dataclass
class ReturnOutcome:
    file: str
    sha256: str
    la_code: str
    period: str
    rows: int
    errors: int
    warnings: int
    status: str


@dataclass
class Validation:
    outcomes: list[ReturnOutcome]
    findings: pd.DataFrame
    accepted_rows: pd.DataFrame
    contract: str

    @property
    def rejected(self) -> list[ReturnOutcome]:
        return [o for o in self.outcomes if o.status == QUARANTINED]

    def to_json(self) -> dict:
        return {
            "contract": self.contract,
            "returns": [asdict(o) for o in self.outcomes],
            "findings": self.findings.to_dict(orient="records"),
            "summary": {
                "returns": len(self.outcomes),
                "accepted": len(self.outcomes) - len(self.rejected),
                "quarantined": len(self.rejected),
                "errors": int((self.findings["severity"] == "error").sum()),
                "warnings": int((self.findings["severity"] == "warning").sum()),
            },
        }


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _identity(rows: pd.DataFrame, path: Path) -> tuple[str, str]:
    """Which LA and period a return is for: the values most of its rows give."""
    la = ""
    if "la_code" in rows and len(rows):
        la = str(rows["la_code"].mode().iloc[0])
    period = ""
    if {"time_period", "time_identifier"} <= set(rows.columns) and len(rows):
        pairs = rows[["time_period", "time_identifier"]].value_counts()
        for tp, ident in pairs.index:
            try:
                period = from_ees(tp, ident).slug
                break
            except DataError:
                continue
    if not la:
        la = path.stem.split("_")[0]
    return la, period


def validate_returns(
    paths: list[Path],
    catalogue: Catalogue,
    contract: ct.Contract,
    reference: Reference,
    root: Path | None = None,
) -> Validation:
    files = find_returns(paths)
    frames, findings, meta = [], [], {}
    for path in files:
        shown = _display(path, root)
        try:
            rows = read_return(path)
        except DataError as exc:
            findings.append(
                ct.unreadable_finding(Path(shown), DataError(str(exc).replace(str(path), shown)))
            )
            meta[shown] = (path, path.stem.split("_")[0], "", 0)
            continue
        rows["source_file"] = shown
        la, period = _identity(rows, path)
        meta[shown] = (path, la, period, len(rows))
        structural = ct.structural_findings(rows, contract)
        if structural:
            findings += structural
            continue
        frames.append(rows)
    lookups = {
        "reference.local_authorities.la_code": sorted(reference.local_authorities["la_code"]),
        "catalogue.id": catalogue.ids,
    }
    all_rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    gx_findings = ct.validate(all_rows, contract, catalogue, lookups) if frames else None
    found = pd.DataFrame(findings, columns=ct.FINDING_COLUMNS)
    if gx_findings is not None and len(gx_findings):
        found = pd.concat([found, gx_findings], ignore_index=True) if len(found) else gx_findings
    found = found.sort_values(
        ["source_file", "source_line", "check_id"], kind="stable"
    ).reset_index(drop=True)
    outcomes = []
    for shown, (path, la, period, n) in sorted(meta.items()):
        mine = found[found["source_file"] == shown]
        errors = int((mine["severity"] == "error").sum())
        outcomes.append(
            ReturnOutcome(
                file=shown,
                sha256=sha256_file(path),
                la_code=la,
                period=period,
                rows=n,
                errors=errors,
                warnings=int((mine["severity"] == "warning").sum()),
                status=QUARANTINED if errors else ACCEPTED,
            )
        )
    ok_files = {o.file for o in outcomes if o.status == ACCEPTED}
    accepted = (
        all_rows[all_rows["source_file"].isin(ok_files)].reset_index(drop=True)
        if len(all_rows)
        else all_rows
    )
    return Validation(outcomes, found, accepted, contract.label)


def canonical_figures(accepted: pd.DataFrame) -> pd.DataFrame:
    """Accepted rows to the canonical figures frame (period as slug, numbers as floats)."""
    if accepted.empty:
        return pd.DataFrame(
            columns=[
                "la_code",
                "period",
                "indicator_id",
                "numerator",
                "denominator",
                "value",
                "status",
            ]
        )
    out = pd.DataFrame(
        {
            "la_code": accepted["la_code"].str.strip(),
            "period": [
                from_ees(tp, ti).slug
                for tp, ti in zip(accepted["time_period"], accepted["time_identifier"], strict=True)
            ],
            "indicator_id": accepted["indicator_id"].str.strip(),
            "status": accepted["status"].astype(str).str.strip(),
        }
    )
    for col in ("numerator", "denominator", "value"):
        out[col] = pd.to_numeric(
            accepted[col].astype(str).str.strip().replace("", None), errors="coerce"
        )
    return out
