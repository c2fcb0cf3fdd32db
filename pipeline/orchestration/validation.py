"""Ingest and validate every incoming return once, in the driver.

1. Read each file as sent (CSV or workbook); a file that cannot be read is a finding, not a crash.
2. Derive the facts the checks read (:mod:`pipeline.core.checks`), decide which LA and period
   each return is for.
3. Run the return contract's rules in Great Expectations over three assets at once: the files,
   their rows, and each file's coverage of the catalogue. A return with any error is quarantined.
4. Then the rules that compare with the LA's previous accepted return (implausible change).

Files are only read; nothing here writes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core import checks
from pipeline.core.catalogue import Catalogue
from pipeline.core.disclosure import FIELDS, Rule, Screen
from pipeline.core.errors import DataError
from pipeline.core.periods import parse_slug
from pipeline.core.vocabulary import FIGURE_COLUMNS
from pipeline.edges import contracts as ct
from pipeline.edges.files import sha256_file
from pipeline.edges.reference import Reference
from pipeline.edges.return_files import find_returns, read_return
from pipeline.edges.return_limits import shown as shown_path
from pipeline.orchestration import versions

ACCEPTED = "accepted"
QUARANTINED = "quarantined"
FILE_COLUMNS = [
    "file",
    "row",
    "read_error",
    "missing_columns",
    "duplicate_columns",
    "unknown_columns",
    "repeated_header",
    "repeated_header_row",
    "data_rows",
    "other_return",
    "version_problem",
]
#: the disclosure rule when none is given: DfE's defaults
DEFAULT_RULE = Rule()
#: the cells of a return not accepted that its published findings are judged on
QUARANTINED_COLUMNS = ["file", "row", "la_code", "indicator_id", *FIELDS, "status"]
#: columns whose quoted cell is a code, not a figure (a finding on one is never masked)
_CODES = {"la_code", "time_period", "time_identifier", "indicator_id", "status"}


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
    version: int | None = 1  # from the file's name; None when written oddly
    provisional: bool = False  # marked so in the file's name
    used: bool = False  # the latest accepted version of its LA's return for the period


@dataclass
class Validation:
    outcomes: list[ReturnOutcome]
    findings: pd.DataFrame
    accepted_rows: pd.DataFrame  # typed rows of the accepted returns
    contract: str
    rules: list[ct.Rule]
    window: str
    #: the cells as sent of the returns not accepted (QUARANTINED_COLUMNS)
    quarantined_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the primary disclosure rule its published findings follow; None: an unsuppressed run
    screen: Screen | None = None
    #: typed rows of the accepted versions not in accepted_rows: earlier versions a later one
    #: supersedes, and (`tartan validate RETURNS`) the context's accepted returns
    other_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the context's returns (`tartan validate RETURNS`): not reported on, but known versions
    others: list[ReturnOutcome] = field(default_factory=list)

    @property
    def rejected(self) -> list[ReturnOutcome]:
        return [o for o in self.outcomes if o.status == QUARANTINED]

    def published(self, withheld: pd.DataFrame) -> Validation:
        """This validation as its pages, validation.json, JUnit XML and packs may show it:
        wherever disclosure control would withhold a figure of a row, its findings quote c for
        the values in their message.

        Accepted returns: a finding on a row whose figure disclosure control withholds
        (`withheld`: la_code, period, indicator_id), and a change check wherever the LA has a
        withheld figure for the indicator up to that period (the earlier figure it quotes may
        be one). Returns not accepted, which their LA's feedback page and the validation report
        list: a finding that quotes a number, on a row whose cells as sent the primary rule
        (`screen`) would withhold a figure of. The command line of `tartan validate` quotes
        the LA's own cells, for the LA to find them."""
        f = self.findings
        if f.empty:
            return self
        masked = set(self._on_withheld(withheld)) | set(self._on_quarantined())
        masked = [i for i in f.index if i in masked and not checks.is_more(f.at[i, "message"])]
        if not masked:
            return self
        templates = {(r.id, r.column or ""): r.message for r in self.rules}
        out = f.copy()
        for i in masked:
            template = templates.get((out.at[i, "check_id"], out.at[i, "column"]))
            if template is None:
                template = "a figure here is withheld by disclosure control (c)"
            out.at[i, "message"] = (
                template.replace("{value!r}", "c")
                .replace("{value}", "c")
                .replace("{expected}", "c")
                .replace("{column}", str(out.at[i, "column"]))
            )
            out.at[i, "value"] = "c"
        return dataclasses.replace(self, findings=out)

    def _on_withheld(self, withheld: pd.DataFrame) -> list:
        """Findings on accepted returns' rows with a withheld figure (see `published`)."""
        f = self.findings
        if withheld.empty or self.accepted_rows.empty:
            return []
        cols = ["file", "row", "la_code", "period_slug", "indicator_id"]
        rows = pd.concat([self.accepted_rows[cols], *self._others(cols)], ignore_index=True)
        cells = f[["file", "row"]].merge(rows, on=["file", "row"], how="left")
        cells.index = f.index
        held = set(
            zip(withheld["la_code"], withheld["period"], withheld["indicator_id"], strict=True)
        )
        earliest: dict[tuple[str, str], int] = {}
        for la, period, ind in held:
            o = parse_slug(period).ordinal
            earliest[(la, ind)] = min(o, earliest.get((la, ind), o))
        changes = {r.id for r in self.rules if r.implementation in ct.PHASE_TWO}
        out = []
        keys = cells[["la_code", "period_slug", "indicator_id"]].itertuples(index=False)
        for i, check, (la, period, ind) in zip(f.index, f["check_id"], keys, strict=True):
            if isinstance(period, str) and (
                (la, period, ind) in held
                or (
                    check in changes
                    and earliest.get((la, ind), 1 << 62) <= parse_slug(period).ordinal
                )
            ):
                out.append(i)
        return out

    def _on_quarantined(self) -> list:
        """Findings quoting a number on returns not accepted, on rows whose cells as sent the
        primary rule would withhold a figure of (see `published`)."""
        q, f = self.quarantined_rows, self.findings
        if more := self._others(QUARANTINED_COLUMNS):
            q = pd.concat([*([q] if len(q) else []), *more], ignore_index=True)
        if self.screen is None or q.empty:
            return []
        cells = q.assign(**{c: checks.lenient_numbers(q[c]) for c in FIELDS})
        held = self.screen.primary(cells).any
        rows = set(zip(q.loc[held, "file"], q.loc[held, "row"], strict=True))
        quoted = checks.lenient_numbers(f["value"]).notna() & ~f["column"].isin(_CODES)
        keys = zip(f.index, f["file"], f["row"], quoted, strict=True)
        return [i for i, file, row, number in keys if number and (file, row) in rows]

    def _others(self, columns: list[str]) -> list[pd.DataFrame]:
        """The other accepted versions' rows (a superseded version's findings are published
        as its rows allow, like a quarantined return's), as `columns`; none without any."""
        if self.other_rows.empty:
            return []
        return [self.other_rows[columns]]

    def to_json(self) -> dict:
        f = self.findings
        return {
            "contract": self.contract,
            "reporting_window": self.window,
            "checks": [
                {"id": r.id, "severity": r.severity, "column": r.column or "", "rule": r.describe()}
                for r in _unique_rules(self.rules)
            ],
            "returns": [asdict(o) for o in self.outcomes],
            "findings": f.to_dict(orient="records"),
            "summary": {
                "returns": len(self.outcomes),
                "accepted": len(self.outcomes) - len(self.rejected),
                "quarantined": len(self.rejected),
                # counted by return: findings are listed up to checks.FINDINGS_KEPT a check
                "errors": sum(o.errors for o in self.outcomes),
                "warnings": sum(o.warnings for o in self.outcomes),
            },
        }


def _unique_rules(rules: Iterable[ct.Rule]) -> list[ct.Rule]:
    seen: dict[str, ct.Rule] = {}
    for r in rules:
        seen.setdefault(r.id, r)
    return list(seen.values())


def _display(path: Path, root: Path | None) -> str:
    """The file's name as reports show it: relative to the dataset folder when inside it."""
    if root is not None:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        if not rel.startswith(".."):
            return shown_path(Path(rel).as_posix())
    return shown_path(path.as_posix())


def _sha256(path: Path) -> str:
    """The file's SHA-256, or "" for a file that cannot be read (it is rejected as such)."""
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _without_path(message: str, path: Path) -> str:
    prefix = f"{shown_path(path)}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _read_all(
    files: Sequence[tuple[Path, str]], table: ct.Table
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every file to (one row per file, one frame of all readable rows as strings)."""
    per_file = []
    data: dict[str, list] = {c: [] for c in [*table.columns, "file", "row", "extra_cells"]}
    for path, shown in files:
        rec: dict = dict.fromkeys(FILE_COLUMNS)
        rec |= {"file": shown, "row": 0}
        try:
            sheet = read_return(path, table.columns)
        except DataError as exc:
            rec["read_error"] = _without_path(str(exc), path)
            per_file.append(rec)
            continue
        rec["row"] = sheet.header_line
        missing = [c for c in table.header_required if c not in sheet.header]
        unknown = [c for c in dict.fromkeys(sheet.header) if c not in table.columns]
        dup = sheet.duplicate_columns
        rec["missing_columns"] = ", ".join(missing) or None
        rec["duplicate_columns"] = ", ".join(dup) or None
        rec["unknown_columns"] = ", ".join(unknown) or None
        if sheet.repeated_header:
            more = len(sheet.repeated_header) - 1
            rec["repeated_header"] = str(sheet.repeated_header[0]) + (
                f" (and {more} more)" if more else ""
            )
            rec["repeated_header_row"] = sheet.repeated_header[0]
        per_file.append(rec)
        if missing or dup:
            continue
        rec["data_rows"] = len(sheet.rows)
        n = len(sheet.rows)
        for c in table.columns:
            if c in sheet.header:
                j = sheet.header.index(c)
                data[c] += [r[j] for r in sheet.rows]
            else:
                data[c] += [None] * n
        data["file"] += [shown] * n
        data["row"] += sheet.lines
        data["extra_cells"] += [e or None for e in sheet.extra]
    return pd.DataFrame(per_file, columns=FILE_COLUMNS), pd.DataFrame(data, dtype=object)


def validate_returns(
    paths: Iterable[Path],
    catalogue: Catalogue,
    contract: ct.Contract,
    reference: Reference,
    root: Path | None = None,
    context: Iterable[Path] = (),
    disclosure: Rule | None = DEFAULT_RULE,
) -> Validation:
    """Validate the returns in `paths` (files or folders).

    `context`: further returns (files or folders) read only so that the checks comparing with an
    LA's previous accepted return have it; they are not reported on. `disclosure`: the rule the
    findings on returns not accepted follow where published (:meth:`Validation.published`);
    None for an unsuppressed run. Each file's findings of one check on one column are listed up
    to checks.FINDINGS_KEPT, then one finding says how many more rows have the same problem.
    """
    table = contract.table
    files, n_checked = _files_to_read(paths, context, root)
    shown_checked = {shown for _, shown in files[:n_checked]}
    per_file, rows = _read_all(files, table)

    known = set(reference.local_authorities["la_code"])
    first, last = reference.window
    typed = checks.typed_rows(rows, catalogue, known, (first, last), table.columns)
    ident = versions.identities(per_file, typed, known)
    typed = versions.with_identity(typed, ident)
    per_file, typed = versions.one_return_each(per_file, typed, ident, shown_checked)

    found = _check(contract, _context(reference, catalogue, table, typed), per_file, typed, ident)
    kept = set(per_file["file"])
    outcomes = _outcomes([f for f in files if f[1] in kept], ident, found, typed)
    found = found[found["file"].isin(shown_checked)].reset_index(drop=True)
    checked = [o for o in outcomes if o.file in shown_checked]
    used = {o.file for o in checked if o.used}
    rejected = typed[typed["file"].isin({o.file for o in checked if o.status == QUARANTINED})]
    others = {o.file for o in outcomes if o.status == ACCEPTED and o.file not in used}
    return Validation(
        outcomes=checked,
        findings=checks.bounded(found),
        accepted_rows=typed[typed["file"].isin(used)].reset_index(drop=True),
        contract=contract.label,
        rules=table.rules,
        window=f"{first.label} to {last.label}",
        quarantined_rows=rejected.assign(
            la_code=rejected["return_la_code"].fillna(rejected["la_code"])
        )[QUARANTINED_COLUMNS].reset_index(drop=True),
        screen=None
        if disclosure is None
        else Screen.of(disclosure, catalogue, reference.population),
        other_rows=typed[typed["file"].isin(others)].reset_index(drop=True),
        others=[o for o in outcomes if o.file not in shown_checked],
    )


def _context(
    reference: Reference, catalogue: Catalogue, table: ct.Table, typed: pd.DataFrame
) -> ct.Context:
    """What the contract's rules look up: the LAs, the region's, the catalogue, the window."""
    known = set(reference.local_authorities["la_code"])
    first, last = reference.window
    # a regional dataset takes returns from its own LAs only; an unknown code is told once
    own = set(reference.own_las["la_code"]) | (set(typed["la_code"].dropna()) - known)
    return ct.Context(
        lookups={
            "reference.local_authorities.la_code": sorted(known),
            "dataset.region.la_code": sorted(own),
            "catalogue.id": catalogue.ids,
            "reporting_window": [first.ordinal, last.ordinal],
        },
        catalogue=catalogue,
        expected_columns=", ".join(table.columns),
    )


def _files_to_read(
    paths: Iterable[Path], context: Iterable[Path], root: Path | None
) -> tuple[list[tuple[Path, str]], int]:
    """(path, name as shown) of the returns checked, then of the context's other returns; and
    how many of them are checked."""
    checked = find_returns(paths)
    mine = {os.path.abspath(p) for p in checked}
    extra = [p for p in find_returns(context) if os.path.abspath(p) not in mine]
    return [(p, _display(p, root)) for p in checked + extra], len(checked)


def _check(
    contract: ct.Contract,
    ctx: ct.Context,
    per_file: pd.DataFrame,
    typed: pd.DataFrame,
    ident: dict[str, versions.Identity],
) -> pd.DataFrame:
    """Every finding, on every file read: the return contract's rules over the files, their rows
    and their coverage of the catalogue; then, over the returns without errors, the rules that
    compare each version with the LA's previous accepted return (the latest accepted version of
    each earlier period)."""
    table, catalogue = contract.table, ctx.catalogue
    with_rows = typed[typed["file"].isin(per_file.loc[per_file["data_rows"].fillna(0) > 0, "file"])]
    assets = {
        "returns": per_file,
        "rows": typed,
        "coverage": checks.coverage(with_rows[["file", "indicator_id"]], catalogue),
    }
    phase_one = [r for r in table.rules if r.implementation not in ct.PHASE_TWO]
    found = ct.run(ct.compile_rules(phase_one, ctx), assets, contract.id)
    errors = found.loc[found["severity"] == "error", "file"].value_counts()
    accepted_files = set(per_file["file"]) - set(errors.index)

    accepted = typed[typed["file"].isin(accepted_files)]
    history = accepted[accepted["file"].isin(versions.latest_accepted(accepted_files, ident))]
    for rule in table.rules:
        if rule.implementation not in ct.PHASE_TWO:
            continue
        a = rule.arguments
        changes = checks.changes(
            accepted,
            history,
            catalogue,
            relative=float(a.get("relativeChange", 0.5)),
            absolute={str(k): float(v) for k, v in (a.get("minimumChange") or {}).items()},
            lookback=int(a.get("lookbackPeriods", 4)),
        )
        more = ct.run(ct.compile_rules([rule], ctx), {"changes": changes}, contract.id)
        if len(more):
            found = ct.findings_frame(found.to_dict("records") + more.to_dict("records"))
    return found


def _outcomes(
    files: list[tuple[Path, str]],
    ident: dict[str, versions.Identity],
    found: pd.DataFrame,
    typed: pd.DataFrame,
) -> list[ReturnOutcome]:
    """Each return's outcome, by file name: quarantined if any finding is an error; used if
    it is the latest accepted version of its LA's return for the period."""
    counts = found.groupby(["file", "severity"]).size().to_dict()
    n_rows = typed["file"].value_counts().to_dict()
    used = versions.latest_accepted(
        [shown for _, shown in files if not counts.get((shown, "error"))], ident
    )
    outcomes = []
    for path, shown in files:
        la, _, period, _ = ident[shown]
        n_err = int(counts.get((shown, "error"), 0))
        version, provisional, _ = checks.return_version(shown)
        outcomes.append(
            ReturnOutcome(
                file=shown,
                sha256=_sha256(path),
                la_code=la or "",
                period=period or "",
                rows=int(n_rows.get(shown, 0)),
                errors=n_err,
                warnings=int(counts.get((shown, "warning"), 0)),
                status=QUARANTINED if n_err else ACCEPTED,
                version=version,
                provisional=provisional,
                used=shown in used,
            )
        )
    outcomes.sort(key=lambda o: o.file)
    return outcomes


def canonical_figures(accepted: pd.DataFrame) -> pd.DataFrame:
    """Accepted (typed) rows to the canonical figures frame: period as slug, numbers as floats."""
    if accepted.empty:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    return pd.DataFrame(
        {
            "la_code": accepted["la_code"].astype(str),
            "period": accepted["period_slug"].astype(str),
            "indicator_id": accepted["indicator_id"].astype(str),
            "numerator": accepted["numerator_n"].astype(float),
            "denominator": accepted["denominator_n"].astype(float),
            "value": accepted["value_n"].astype(float),
            "status": accepted["status"].fillna("").astype(str),
        }
    ).reset_index(drop=True)
