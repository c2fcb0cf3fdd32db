"""The command line: ``tartan <command>`` or ``python -m pipeline <command>``.

Exit codes: 0 success; 1 data problems found (a return rejected, a report failed);
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.core.errors import TartanError
from pipeline.orchestration.settings import EXECUTORS, PACK_CHOICES

DEFAULT_DATA = Path("data/demo")
DEFAULT_OUT = Path("outputs")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="dataset folder holding reference/ and returns/ (default: %(default)s)",
    )
    p.add_argument(
        "--contracts",
        type=Path,
        default=None,
        help="folder of data contracts and the indicator catalogue "
        "(default: the project's data_contracts/)",
    )


def _add_publishing(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--marking",
        type=_marking,
        default=None,
        metavar="TEXT",
        help="protective marking printed at the top and foot of every page, e.g. "
        "OFFICIAL-SENSITIVE (default: the dataset's protective_marking in dataset.yaml; "
        "'' for none)",
    )
    p.add_argument(
        "--unsuppressed",
        action="store_true",
        help="no disclosure control: small numbers are shown as returned, and every page is "
        "stamped 'Not for circulation: unsuppressed' (for internal runs only)",
    )


def _marking(text: str) -> str:
    from pipeline.edges.reference import check_marking

    try:
        return check_marking(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tartan",
        description=(
            "Validate LA returns and build regional children's-services benchmarking reports."
        ),
        epilog="Exit codes: 0 success, 1 data problems found, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"tartan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo-data",
        help="write the fictional demonstration dataset",
        description="Write the seeded, fictional demonstration dataset. Same seed, same bytes.",
    )
    demo.add_argument(
        "--out", type=Path, default=DEFAULT_DATA, help="folder (default: %(default)s)"
    )
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default: %(default)s)")

    sub.add_parser(
        "kernel",
        help="register the project's Jupyter kernel in this environment",
        description="Register the 'tartan' Jupyter kernel inside this environment "
        "(not in your home folder). Reports do this themselves.",
    )

    tpl = sub.add_parser(
        "template",
        help="write the XLSX return template for one LA and period",
        description="Write the Excel return template an LA fills in: one row per catalogue "
        "indicator, pre-filled with the LA code and period, and a sheet defining each indicator.",
    )
    tpl.add_argument(
        "--la", required=True, type=_code, metavar="CODE", help="the LA's code, e.g. ZL101"
    )
    tpl.add_argument(
        "--period", required=True, type=_period, metavar="PERIOD", help="e.g. 2026-27-Q2"
    )
    tpl.add_argument("--out", type=Path, default=None, help="file (default: CODE_PERIOD.xlsx)")
    _add_common(tpl)

    val = sub.add_parser(
        "validate",
        help="check LA returns against the data contract",
        description="Check LA returns (CSV or .xlsx) against the data contract and write "
        "validation/index.html, validation.json, junit.xml and feedback/<la_code>.html. "
        "Exit 0 if every return is accepted, 1 if any is not, 2 on a usage or contract error.",
    )
    val.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="return files or folders to check (default: every return in DATA/returns); the "
        "dataset's other returns are read as the LAs' earlier periods",
    )
    _add_common(val)
    _add_publishing(val)
    val.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)"
    )

    rep = sub.add_parser(
        "report",
        help="validate, benchmark and build every report",
        description="Validate the returns, then build the regional benchmarking "
        "report for every region and period, each LA's self-assessment evidence pack (for the "
        "latest period built, by default), the index and manifest.",
    )
    _add_common(rep)
    _add_publishing(rep)
    rep.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)"
    )
    rep.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the report notebooks (default: the project's notebooks/)",
    )
    rep.add_argument(
        "--region",
        action="append",
        type=_code,
        metavar="CODE",
        help="only this region (repeatable), e.g. ZR1",
    )
    rep.add_argument(
        "--period",
        action="append",
        type=_latest_or_period,
        metavar="PERIOD",
        help="only this period (repeatable): a slug like 2026-27-Q2, or 'latest'",
    )
    rep.add_argument(
        "--packs",
        choices=PACK_CHOICES,
        default="latest",
        help="self-assessment packs for the latest period built (default), every period "
        "built, or none",
    )
    _add_running(rep)
    rep.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if any return was not accepted (default: only failed reports do)",
    )

    dp = sub.add_parser(
        "datapack",
        help="build the annual datapack from DfE's published statistics",
        description="Build each region's annual datapack (every LA against its statistical "
        "neighbours, the region and England, with ranks, bands, trends and narrative) from the "
        "Explore Education Statistics files in --source, as data_contracts/datapack.yaml maps "
        "them, and cross-check DfE's own region and England figures against the LA rows. "
        "Exit 1 if a report fails or a published figure differs from its LAs' sum.",
    )
    dp.add_argument(
        "--source",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder of DfE's published files as downloaded, with the reference lists (the "
        "mapping's paths are relative to it)",
    )
    dp.add_argument(
        "--year",
        type=_latest_or_period,
        default=None,
        metavar="YYYY",
        help="the year to build, e.g. 2025 (default: the latest the files hold)",
    )
    dp.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder; the datapack goes in its datapack/ folder (default: %(default)s)",
    )
    dp.add_argument(
        "--contracts",
        type=Path,
        default=None,
        help="folder holding datapack.yaml and reference.yaml (default: the project's "
        "data_contracts/)",
    )
    dp.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the report notebooks (default: the project's notebooks/)",
    )
    dp.add_argument(
        "--region",
        action="append",
        type=_code,
        metavar="CODE",
        help="only this region (repeatable), e.g. E12000001",
    )
    dp.add_argument(
        "--marking",
        type=_marking,
        default=None,
        metavar="TEXT",
        help="protective marking printed at the top and foot of every page (default: none)",
    )
    _add_running(dp)
    return parser


def _add_running(p: argparse.ArgumentParser) -> None:
    """How a command that runs notebooks runs them."""
    p.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="notebooks run at once (default: one more than the CPU cores)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="run every report again, even those whose inputs, notebook and code are unchanged "
        "since the last run in --out",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="where notebooks run: local worker processes (default), or a Dask cluster (a local "
        "one, or the one at --scheduler)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --executor dask: an existing scheduler, e.g. tcp://10.0.0.5:8786 (its "
        "workers need this environment and the same paths; see the README)",
    )
    p.add_argument(
        "--cell-timeout",
        type=_positive,
        default=600,
        metavar="SECONDS",
        help="a notebook cell running longer fails its report (default: %(default)s)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return n


def _code(text: str) -> str:
    """An LA or region code: letters and digits only, so that it can never name a path."""
    if not text.isascii() or not text.isalnum():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a code: expected letters and digits only, e.g. E12000007"
        )
    return text


def _period(text: str) -> str:
    from pipeline.core.errors import DataError
    from pipeline.core.periods import parse_slug

    try:
        return parse_slug(text).slug
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _latest_or_period(text: str) -> str:
    return text if text == "latest" else _period(text)


def _settings(args):
    from pipeline.orchestration.settings import PROJECT, Settings

    return Settings(
        data=args.data,
        out=getattr(args, "out", None) or DEFAULT_OUT,
        contracts=args.contracts or PROJECT / "data_contracts",
        notebooks=getattr(args, "notebooks", None) or PROJECT / "notebooks",
        regions=getattr(args, "region", None),
        returns=getattr(args, "paths", None) or None,
        periods=getattr(args, "period", None),
        workers=getattr(args, "workers", None),
        packs=getattr(args, "packs", "latest"),
        progress=False if getattr(args, "no_progress", False) else None,
        force=getattr(args, "force", False),
        executor=getattr(args, "executor", "local"),
        scheduler=getattr(args, "scheduler", None),
        cell_timeout=getattr(args, "cell_timeout", 600),
        suppress=not getattr(args, "unsuppressed", False),
        marking=getattr(args, "marking", None),
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _print_validation(v, limit: int = 5) -> None:
    from pipeline.orchestration.site import finding_place, group_findings

    s = v.to_json()["summary"]
    print(
        f"Validation: {_n(s['returns'], 'return')}, {s['accepted']} accepted, "
        f"{s['quarantined']} not accepted ({_n(s['errors'], 'error')}, "
        f"{_n(s['warnings'], 'warning')})."
    )
    errors = v.findings[v.findings["severity"] == "error"].to_dict("records")
    for o in v.rejected:
        print(f"  not accepted: {o.file} ({_n(o.errors, 'error')})")
        groups = group_findings([f for f in errors if f["file"] == o.file])
        for g in groups[:limit]:
            print(f"    {finding_place(g['rows'], g['column'])}: {g['message']}")
        if len(groups) > limit:
            print(f"    ... and {len(groups) - limit} more in the validation report")


def _print_up_to_date(manifest: dict, args) -> int:
    inputs = manifest.get("inputs", [])
    rejected = [i for i in inputs if i.get("status") != "accepted"]
    jobs = manifest.get("jobs", [])
    print(
        f"Nothing to do: no return, reference file, contract, notebook or code has changed "
        f"since the last run, and its {_n(len(jobs), 'report')} in {args.out} are intact "
        "(--force runs them again)."
    )
    if rejected:
        print(
            f"  {_n(len(rejected), 'return')} not accepted, as before: see "
            f"{args.out / 'validation' / 'index.html'}"
        )
    print(f"Open {args.out / 'index.html'}")
    return 1 if args.strict and rejected else 0


def _datapack(args) -> int:
    from pipeline.core import crosscheck
    from pipeline.orchestration.datapack import datapack

    args.data = args.source
    args.period = None if args.year is None else [args.year]
    summary = datapack(_settings(args))
    results = summary.results
    ok = len(results) - len(summary.failed)
    print(f"Datapack {summary.year}: {ok} of {_n(len(results), 'regional datapack')} built")
    ran = sum(not r.cached for r in results)
    if ran < len(results):
        print(f"  {ran} run, {len(results) - ran} unchanged since the last run (--force)")
    for r in summary.failed:
        where = f" in {r.where}" if r.where else ""
        log = f" (the executed notebook: {r.log})" if r.log else ""
        print(f"  failed: {r.id}{where}: {r.error}{log}", file=sys.stderr)
    counts = crosscheck.summary(summary.checked)
    print(
        f"Published cross-check: {_n(len(summary.checked), 'comparison')}, "
        f"{counts[crosscheck.AGREES]} agree, {counts[crosscheck.INCOMPLETE]} incomplete "
        f"(LAs withheld), {counts[crosscheck.DIFFERS]} differ"
    )
    for r in summary.differs.itertuples():
        print(
            f"  differs: {r.area_code} {r.period} {r.indicator_id} {r.measure}: DfE published "
            f"{r.published:g}, the LA rows give {r.tartan:.4g} (allowed {r.allowed:g}, "
            f"{r.las_contributing} of {r.las_in_area} LAs)",
            file=sys.stderr,
        )
    print(f"Open {summary.index}")
    return 1 if summary.failed or len(summary.differs) else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo-data":
            from pipeline.edges import demo

            files = demo.write(args.out, seed=args.seed)
            print(f"Demonstration data: {len(files)} files in {args.out}")
            return 0
        if args.command == "kernel":
            from pipeline.orchestration.jobs import ensure_kernel

            print(f"Kernel 'tartan' registered in {ensure_kernel()}")
            return 0
        if args.command == "template":
            from pipeline.orchestration.run import template

            path = template(_settings(args), args.la, args.period, args.out)
            print(f"Return template: {path}")
            return 0
        if args.command == "validate":
            from pipeline.orchestration import provenance as prov
            from pipeline.orchestration.run import (
                PROJECT,
                banners,
                disclosure_text,
                published,
                validate,
                write_validation,
            )

            settings = _settings(args)
            v, inputs = validate(settings)
            footer = prov.footer_html(
                prov.run_provenance(
                    PROJECT,
                    inputs.reference.name,
                    inputs.contracts,
                    disclosure=disclosure_text(settings, inputs),
                ),
                "About these pages' data",
            )
            from pipeline.edges.files import folder_lock

            _, sdc = published(settings, v, inputs)
            with folder_lock(args.out):
                write_validation(
                    args.out,
                    v.published(sdc.removed),
                    inputs.reference,
                    footer,
                    banners(settings, inputs.reference),
                    complete=not settings.returns,
                )
            _print_validation(v)
            print(f"Validation report: {args.out / 'validation' / 'index.html'}")
            return 1 if v.rejected else 0
        if args.command == "report":
            from pipeline.orchestration.run import report

            summary = report(_settings(args))
            if summary.up_to_date is not None:
                return _print_up_to_date(summary.up_to_date, args)
            _print_validation(summary.validation)
            ok = len(summary.results) - len(summary.failed)
            packs = sum(r.id.endswith("/self-assessment") for r in summary.results)
            print(
                f"Reports: {ok} of {len(summary.results)} built in {args.out} "
                f"({_n(len(summary.results) - packs, 'regional report')}, "
                f"{_n(packs, 'self-assessment pack')})"
            )
            ran = sum(not r.cached for r in summary.results)
            if ran < len(summary.results):
                print(
                    f"  {ran} run, {len(summary.results) - ran} unchanged since the last run "
                    "(--force runs every one)"
                )
            for r in summary.failed:
                where = f" in {r.where}" if r.where else ""
                log = f" (the executed notebook: {r.log})" if r.log else ""
                print(f"  failed: {r.id}{where}: {r.error}{log}", file=sys.stderr)
            print(f"Open {args.out / 'index.html'}")
            if summary.failed or (args.strict and summary.validation.rejected):
                return 1
            return 0
        if args.command == "datapack":
            return _datapack(args)
    except TartanError as exc:
        print(f"tartan: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into head or less, which closed early
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except KeyboardInterrupt:
        print(
            "tartan: interrupted; outputs already written are complete, nothing half-written "
            "was left",
            file=sys.stderr,
        )
        return 130
    parser.error(f"unknown command {args.command}")
    return 2
