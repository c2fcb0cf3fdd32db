"""The command line: ``tartan <command>`` or ``python -m pipeline <command>``.

Each command's options are declared in ``pipeline.orchestration.settings.COMMANDS``; each command
is one handler here. Exit codes: 0 success; 1 data problems found (a return rejected, a report
failed); 2 usage or configuration error, or what the system refused (a full disk, a folder that
cannot be written), said in one line without a traceback; 128 + the signal's number when stopped
by one: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP, each handled alike (the workers
and their kernels stopped, nothing half-written left).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pipeline import __version__
from pipeline.core.errors import TartanError
from pipeline.orchestration.settings import (
    COMMANDS,
    Option,
    check_out_folder,
    settings_for,
)

#: every command's help line and description, in the order the top-level --help lists them
_DESCRIBED = {
    "demo-data": (
        "write the fictional demonstration dataset",
        "Write the seeded, fictional demonstration dataset. Same seed, same bytes.",
    ),
    "kernel": (
        "register the project's Jupyter kernel in this environment",
        "Register the 'tartan' Jupyter kernel inside this environment "
        "(not in your home folder). Reports do this themselves.",
    ),
    "init": (
        "make a region's dataset folder from DfE's published lists",
        "Make a ready dataset folder for one of England's nine regions (REGION: its E12 code "
        'or name, e.g. E12000009 or "South West"): every LA in England with its region, the '
        "region's LAs' statistical neighbours (2025 model, those in other regions kept) and "
        "0-17 populations, dataset.yaml (region, reporting year, published comparators), an "
        "empty priorities.yaml, and each LA's XLSX return template for the quarter whose "
        "returns are due. --out must be new or empty; nothing is left there unless all of it "
        "was written.",
    ),
    "template": (
        "write the XLSX return template for one LA and period",
        "Write the Excel return template an LA fills in: one row per catalogue "
        "indicator, pre-filled with the LA code and period, and a sheet defining each indicator.",
    ),
    "validate": (
        "check LA returns against the data contract",
        "Check LA returns (CSV or .xlsx) against the data contract and write "
        "validation/index.html, validation.json, junit.xml and feedback/<la_code>.html. "
        "Exit 0 if every return is accepted, 1 if any is not, 2 on a usage or contract error.",
    ),
    "report": (
        "validate, benchmark and build every report",
        "Validate the returns, then build the regional benchmarking "
        "report for every region and period, each LA's self-assessment evidence pack (for the "
        "latest period built, by default), the index and manifest.",
    ),
    "datapack": (
        "build the annual datapack from DfE's published statistics",
        "Build each region's annual datapack (every LA against its statistical "
        "neighbours, the region and England, with ranks, bands, trends and narrative) from the "
        "Explore Education Statistics files in --source, as data_contracts/datapack.yaml maps "
        "them, and cross-check DfE's own region and England figures against the LA rows. "
        "Exit 1 if a report fails or a published figure differs from its LAs' sum.",
    ),
}


def _parser() -> argparse.ArgumentParser:
    """The ``tartan`` parser: one sub-command per entry of ``COMMANDS``, with its options."""
    parser = argparse.ArgumentParser(
        prog="tartan",
        description=(
            "Validate LA returns and build regional children's-services benchmarking reports."
        ),
        epilog="Exit codes: 0 success, 1 data problems found, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"tartan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command, (help_line, description) in _DESCRIBED.items():
        p = sub.add_parser(command, help=help_line, description=description)
        for option in COMMANDS[command]:
            _add_option(p, option)
    return parser


def _add_option(p: argparse.ArgumentParser, option: Option) -> None:
    """Add one declared option to a command's parser, passing argparse only what it declares."""
    given = {
        "action": option.action,
        "nargs": option.nargs,
        "type": _argument_type(option.check) if option.check else option.type,
        "default": option.default,
        "choices": option.choices,
        "metavar": option.metavar,
        "required": option.required or None,
    }
    kwargs = {k: v for k, v in given.items() if v is not None}
    p.add_argument(option.flag, help=option.help, **kwargs)


def _argument_type(check):
    """argparse's type for a declared value check: its ValueError is the usage error's text."""

    @functools.wraps(check)
    def checked(text: str):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return checked


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _print_validation(v, limit: int = 5) -> None:
    from pipeline.core.findings import finding_place, group_findings

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


def _print_failed(failed) -> None:
    """One line per failed report: where it failed, why, and its executed notebook."""
    for r in failed:
        where = f" in {r.where}" if r.where else ""
        log = f" (the executed notebook: {r.log})" if r.log else ""
        print(f"  failed: {r.id}{where}: {r.error}{log}", file=sys.stderr)


def _print_report(summary, args) -> int:
    """What a quarterly run built, and its exit code."""
    _print_validation(summary.validation)
    ok = len(summary.results) - len(summary.failed)
    packs = sum(r.id.endswith("/self-assessment") for r in summary.results)
    groups = sum("/peer-challenge-" in r.id for r in summary.results)
    print(
        f"Reports: {ok} of {len(summary.results)} built in {args.out} "
        f"({_n(len(summary.results) - packs - groups, 'regional report')}, "
        f"{_n(packs, 'self-assessment pack')}"
        + (f", {_n(groups, 'peer-challenge group pack')})" if groups else ")")
    )
    ran = sum(not r.cached for r in summary.results)
    if ran < len(summary.results):
        print(
            f"  {ran} run, {len(summary.results) - ran} unchanged since the last run "
            "(--force runs every one)"
        )
    _print_failed(summary.failed)
    print(f"Open {args.out / 'index.html'}")
    if summary.failed or (args.strict and summary.validation.rejected):
        return 1
    return 0


def _print_datapack(summary) -> int:
    """What a datapack run built, its published cross-check, and its exit code."""
    from pipeline.core import crosscheck

    results = summary.results
    ok = len(results) - len(summary.failed)
    print(f"Datapack {summary.year}: {ok} of {_n(len(results), 'regional datapack')} built")
    ran = sum(not r.cached for r in results)
    if ran < len(results):
        print(f"  {ran} run, {len(results) - ran} unchanged since the last run (--force)")
    _print_failed(summary.failed)
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
    for r in summary.left_out.itertuples():
        print(
            f"  left out: {r.file}, row(s) {r.rows}: LA code {r.la_code!r} ({r.la_name}) is "
            f"{r.reason} ({r.indicators})",
            file=sys.stderr,
        )
    print(f"Open {summary.index}")
    return 1 if summary.failed or len(summary.differs) else 0


# --------------------------------------------------------------------------- one handler a command
# Each calls the pipeline in one place, then prints what it did and returns the exit code.


def _demo_data(args) -> int:
    from pipeline.edges import demo

    files = demo.write(args.out, seed=args.seed)
    print(f"Demonstration data: {len(files)} files in {args.out}")
    return 0


def _kernel(args) -> int:
    from pipeline.orchestration.jobs import ensure_kernel

    print(f"Kernel 'tartan' registered in {ensure_kernel()}")
    return 0


def _init(args) -> int:
    from pipeline.edges import init_dataset
    from pipeline.orchestration.inputs import load_inputs, template
    from pipeline.orchestration.settings import Settings

    @functools.cache
    def inputs(data: Path):  # the new dataset's, read once for all its templates
        return load_inputs(Settings(data=data, contracts=args.contracts))

    def write_template(data: Path, la: str, period: str, path: Path) -> Path:
        s = Settings(data=data, contracts=args.contracts)
        return template(s, la, period, path, inputs(data))

    made = init_dataset.write(args.out, args.region, args.source, args.contracts, write_template)
    first, last = made.window
    print(
        f"Dataset for {made.region_name} ({made.region_code}, {_n(len(made.la_codes), 'LA')}) "
        f"in {made.folder}: reporting window {first.slug} to {last.slug}"
    )
    print(
        f"  return templates for {made.period.slug}: "
        f"{made.folder / init_dataset.TEMPLATES / made.period.slug}"
    )
    print(
        f"Next: fill them, save each in {made.folder / 'returns' / made.period.slug}, then "
        f"tartan validate --data {made.folder}"
    )
    return 0


def _template(args) -> int:
    from pipeline.orchestration.inputs import template

    path = template(settings_for(args.command, vars(args)), args.la, args.period, args.out)
    print(f"Return template: {path}")
    return 0


def _validate(args) -> int:
    from pipeline.orchestration import products

    v = products.run("validation", settings_for(args.command, vars(args)))
    _print_validation(v)
    print(f"Validation report: {args.out / 'validation' / 'index.html'}")
    return 1 if v.rejected else 0


def _report(args) -> int:
    from pipeline.orchestration import products

    summary = products.run("quarterly", settings_for(args.command, vars(args)))
    if summary.up_to_date is not None:
        return _print_up_to_date(summary.up_to_date, args)
    return _print_report(summary, args)


def _datapack(args) -> int:
    from pipeline.orchestration import products

    return _print_datapack(products.run("datapack", settings_for(args.command, vars(args))))


_HANDLERS = {
    "demo-data": _demo_data,
    "init": _init,
    "kernel": _kernel,
    "template": _template,
    "validate": _validate,
    "report": _report,
    "datapack": _datapack,
}


#: commands whose --out is a folder they write into (the template's is a file)
_WRITE_FOLDERS = ("demo-data", "init", "validate", "report", "datapack")
#: signals that stop a run as Ctrl-C does (unless the run was started with them ignored)
_STOPPING = (signal.SIGTERM, signal.SIGHUP)
#: what the system's refusals mean to the user, by error number
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or give --out a folder on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or give --out another folder",
    errno.EROFS: "the file system is read-only: give --out a folder you can write to",
    errno.EACCES: "permission denied: give --out a folder you can write to",
    errno.EPERM: "not permitted: give --out a folder you can write to",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EISDIR: "a folder is where a file was expected",
}


class Stopped(KeyboardInterrupt):
    """Told to stop by a signal other than Ctrl-C: handled exactly as Ctrl-C is (the workers and
    their kernels stopped, the work folder removed), then exit 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Stopped` in the main thread while a command runs (a signal the
    run was started with ignored, as under nohup, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.getsignal(sig) for sig in _STOPPING}
    for sig, handler in before.items():
        if handler is signal.SIG_DFL:
            signal.signal(sig, _stop)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _failed_path(exc: OSError) -> str:
    """The file an OS error is about, as it carries it (an output refused while it was written
    names the output, see `write_bytes_atomic`)."""
    names = (exc.filename, exc.filename2)
    return " -> ".join(os.fsdecode(n) for n in names if n is not None)


def _os_error(exc: OSError) -> str:
    """An OS error as one line: the path, the system's reason, and what it means."""
    path = _failed_path(exc)
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _OS_HINTS.get(exc.errno)
    return f"{path + ': ' if path else ''}{reason}{' (' + hint + ')' if hint else ''}"


def _say(text: str) -> None:
    with contextlib.suppress(OSError):  # a terminal already closed (SIGHUP) reads nothing
        print(f"tartan: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with _stopped_by_signals():
        try:
            if args.command in _WRITE_FOLDERS:
                check_out_folder(args.out)
            return _HANDLERS[args.command](args)
        except TartanError as exc:
            _say(f"error: {exc}")
            return exc.exit_code
        except BrokenPipeError:  # output piped into head or less, which closed early
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            return 0
        except OSError as exc:  # what the system refused: a full disk, a folder not writable
            _say(f"error: {_os_error(exc)}")
            return 2
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
            how = "interrupted" if signum == signal.SIGINT else f"stopped by {exc}"
            _say(f"{how}; outputs already written are complete, nothing half-written was left")
            return 128 + signum
