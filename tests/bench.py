"""Benchmarks: ``make bench`` (or ``python -m tests.bench``). Not part of ``make test``.

Both run on a generated national-size dataset: 9 regions, 153 LAs x 40 indicators x 8 quarters =
1,224 returns, 48,960 rows.

validation: ``tartan validate`` in a fresh process, so the time includes starting Python and
importing Great Expectations. Targets: <= 8 s wall, <= 600 MB peak.

reports: ``tartan report --period latest``, the latest quarter's 9 regional reports and 153
self-assessment packs (162 notebooks): a cold run, an unchanged re-run, and a re-run after one LA
resubmits one figure; peak memory of the whole process tree (driver, workers, kernels). Then the
naive baseline on the same slices: each report by the papermill CLI, then the jupyter nbconvert
CLI, one after another, on slices prepared by Tartan's own driver (whose time is counted, as the
cold run's is). Targets: cold at least 15x faster than the naive loop; the re-run after
one LA resubmits one figure at most 20% of the cold run; unchanged re-run <= 1 s; peak memory
<= 1.5 GB (PSS: shared pages counted once; the RSS sum is printed too). The cold run's profile
(``--profile``: where the driver's and the workers' time went) is printed.

datapack: ``tartan datapack`` on DfE's real published files (``../shared/public-data`` or
``$TARTAN_PUBLIC_DATA``; skipped, saying so, when absent): the nine regional datapacks of the
latest year, cold and unchanged. Targets: cold <= 10 s; unchanged re-run <= 2 s; peak memory
<= 1.5 GB.

hostile: ``tartan validate`` on one hostile return at a time, beside the demo's returns: a 6 KB
workbook claiming Excel's whole grid, a workbook of 1,000,000 rows (a return's, and of one cell), a
50 MB CSV and a CSV just under the 20 MB limit of 300,000 rows. Each is read or refused with a
message; target: peak memory < 1 GB each (an address space of 3 GB is the most any is given).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import yaml

from pipeline.core.periods import Period, window
from pipeline.edges import demo

ROOT = Path(__file__).resolve().parents[1]
N_REGIONS, N_LAS, N_INDICATORS, N_QUARTERS = 9, 153, 40, 8
LATEST = Period(2026, 2)


def national_dataset(folder: Path, seed: int = 7) -> dict[str, int]:
    """Write contracts/ (with a 40-indicator catalogue) and data/ (reference, returns)."""
    rng = np.random.default_rng(seed)
    contracts = folder / "contracts"
    contracts.mkdir(parents=True)
    for name in ("la_return.yaml", "reference.yaml", "catalogue.yaml", "disclosure.yaml"):
        shutil.copy(ROOT / "data_contracts" / name, contracts / name)
    base = yaml.safe_load((ROOT / "data_contracts" / "indicators.yaml").read_text("utf-8"))
    indicators = []
    for k in range(N_INDICATORS):
        ind = dict(base["indicators"][k % len(base["indicators"])])
        if k >= len(base["indicators"]):
            ind["id"] = f"{ind['id']}_{k}"
        indicators.append(ind)
    (contracts / "indicators.yaml").write_text(
        yaml.safe_dump({"version": "bench", "indicators": indicators}, sort_keys=False), "utf-8"
    )

    data = folder / "data"
    (data / "reference").mkdir(parents=True)
    periods = window(LATEST, N_QUARTERS)
    (data / "dataset.yaml").write_text(
        f"name: National benchmark\nreporting_window: {{first: {periods[0].slug}, "
        f"last: {periods[-1].slug}}}\n",
        "utf-8",
    )
    las = [(f"E{9000 + i:05d}", f"LA {i}", f"E1200000{i % N_REGIONS + 1}") for i in range(N_LAS)]
    lines = ["la_code,la_name,region_code,region_name"]
    lines += [f"{c},{n},{r},Region {r[-1]}" for c, n, r in las]
    (data / "reference" / "local_authorities.csv").write_text("\n".join(lines) + "\n", "utf-8")
    lines = ["la_code,neighbour_rank,neighbour_la_code,closeness"]
    for i, (c, _, _) in enumerate(las):
        for r in range(1, 11):
            lines.append(f"{c},{r},{las[(i + r) % N_LAS][0]},Close")
    (data / "reference" / "statistical_neighbours.csv").write_text("\n".join(lines) + "\n", "utf-8")
    lines = ["la_code,year,population_0_17"]
    pops = rng.integers(20_000, 300_000, N_LAS)
    lines += [f"{c},2025,{p}" for (c, _, _), p in zip(las, pops, strict=True)]
    (data / "reference" / "population.csv").write_text("\n".join(lines) + "\n", "utf-8")

    header = (
        "la_code,time_period,time_identifier,indicator_id,numerator,denominator,value,status,note"
    )
    # Each LA has a level per indicator that drifts a little each quarter, as real figures do.
    level = rng.uniform(0.15, 0.85, (N_LAS, N_INDICATORS))
    size = rng.integers(40, 2000, (N_LAS, N_INDICATORS))
    files = rows = 0
    for q, p in enumerate(periods):
        out = data / "returns" / p.slug
        out.mkdir(parents=True)
        drift = np.clip(level * rng.normal(1, 0.04, level.shape) + 0.002 * q, 0, 1)
        for i, (code, _, _) in enumerate(las):
            body = [header]
            for k, ind in enumerate(indicators):
                scale = {"percentage": 100, "rate per 10,000": 10_000, "ratio": 1}[ind["unit"]]
                if ind["unit"] == "rate per 10,000":
                    den = int(pops[i])
                    num = int(drift[i, k] * den * 0.01)
                elif ind["unit"] == "percentage":
                    den = int(size[i, k])
                    num = round(float(drift[i, k]) * den)
                else:
                    den = int(size[i, k] // 10 + 5)
                    num = int(den * (10 + 10 * drift[i, k]))
                # Small counts come back as they are: the pipeline withholds them (issue 8).
                value = round(num / den * scale, ind["decimals"])
                body.append(
                    f"{code},{p.time_period},{p.time_identifier},{ind['id']},{num},{den},{value},,"
                )
            if i % 50 == 7 and p == periods[-1]:  # a few faulty returns, as in real life
                body[3] = body[3].replace(",,", ",,,", 1)
                body.append(body[5])
            (out / f"{code}_{p.slug}.csv").write_text("\n".join(body) + "\n", "utf-8")
            files += 1
            rows += len(body) - 1
    return {"files": files, "rows": rows}


def _run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak resident MB and exit code of one command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        sys.exit(f"benchmark command failed ({proc.returncode}):\n{proc.stderr}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; runs are in increasing order of
    # nothing, so report the maximum over the runs, which is what a user's machine must have.
    return wall, max(peak, before) / 1024, proc.returncode


def bench_validation(repeats: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tartan-bench-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        size = national_dataset(folder)
        made = time.perf_counter() - t
        print(
            f"validation: generated {size['files']:,} returns, {size['rows']:,} rows "
            f"({N_LAS} LAs x {N_INDICATORS} indicators x {N_QUARTERS} quarters) in {made:.1f} s"
        )
        cmd = [
            sys.executable,
            "-m",
            "pipeline",
            "validate",
            "--data",
            str(folder / "data"),
            "--contracts",
            str(folder / "contracts"),
            "--out",
            str(folder / "out"),
        ]
        walls, peak, code = [], 0.0, 0
        for _ in range(repeats):
            wall, peak, code = _run(cmd)
            walls.append(wall)
        med = statistics.median(walls)
        print(
            f"validation: tartan validate wall {med:.2f} s (median of {repeats}: "
            f"{', '.join(f'{w:.2f}' for w in walls)}), peak memory {peak:.0f} MB, exit {code}"
        )
        ok_time, ok_mem = med <= 8.0, peak <= 600
        print(
            f"validation: targets <= 8 s {'met' if ok_time else 'MISSED'}, "
            f"<= 600 MB {'met' if ok_mem else 'MISSED'}"
        )
        return {"wall_s": med, "peak_mb": peak, "met": float(ok_time and ok_mem)}


def _tree_memory(proc) -> tuple[int, int]:
    """Memory of a process and all its descendants, in bytes: the sum of their resident sets
    (RSS), and of their proportional sets (PSS: a page shared by n of them counts 1/n to each,
    so the libraries every worker maps and the pages a forked kernel shares with its server are
    counted once: what the machine must have)."""
    import psutil

    rss = pss = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error, OSError):
            r = p.memory_info().rss
            rss, pss = rss + r, pss + (_pss(p.pid) or r)
    return rss, pss


def _pss(pid: int) -> int:
    """A process's PSS in bytes from /proc/PID/smaps_rollup (0 where there is none). Not
    psutil's memory_full_info, which reads the whole of smaps: sampled ten times a second over a
    run's dozen processes, that took a core of its own and slowed the run it measured."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


#: seconds between two samples of a run's memory. Reading a process's smaps_rollup walks its
#: page tables (about 45 ms of CPU for a national run's dozen processes, and their page faults
#: wait meanwhile): sampled every 0.1 s, that took a quarter of a core from the run it measured
SAMPLE_EVERY = 0.5


def _timed(cmd: list[str]) -> dict:
    """Wall seconds, exit code and peak memory of the whole process tree (sampled every
    SAMPLE_EVERY s), of one command in a fresh process; and the CPU seconds sampling took."""
    import psutil

    t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps, rss, pss = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            now = _tree_memory(ps)
            rss, pss = max(rss, now[0]), max(pss, now[1])
        # wait, not sleep: a run that ends between samples is timed to its end, not the next
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(SAMPLE_EVERY)
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    sampling = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode not in (0, 1):
        sys.exit(f"benchmark command failed ({proc.returncode}):\n{out}\n{err}")
    return {
        "wall": wall,
        "peak_mb": pss / 2**20,
        "peak_rss_mb": rss / 2**20,
        "sampling_cpu": sampling,
        "code": proc.returncode,
        "out": out + err,
    }


def print_profile(what: str, path: Path) -> None:
    """Where a run's time went, from its profile (``--profile``): the driver's stages, then the
    workers' stages summed over the reports that ran, largest first."""
    p = json.loads(path.read_text("utf-8"))
    print(f"{what}: profile of the cold run, {p['wall_s']:.1f} s from preparing to the manifest")
    driver = sorted(p["driver"].items(), key=lambda kv: -kv[1])
    print(f"{what}:   driver {sum(p['driver'].values()):7.1f} s")
    for name, seconds in driver:
        print(f"{what}:     {name:<40} {seconds:7.1f} s")
    n = p["jobs_run"]
    workers = sorted(p["workers"].items(), key=lambda kv: -kv[1])
    total = sum(p["workers"].values())
    print(f"{what}:   workers {total:6.1f} s over {n} reports ({total / max(n, 1):.2f} s each)")
    for name, seconds in workers:
        print(f"{what}:     {name:<40} {seconds:7.1f} s  {seconds / max(n, 1):6.3f} s each")
    for kind, k in p["by_kind"].items():
        each = sum(k["workers"].values()) / max(k["jobs"], 1)
        print(f"{what}:   {kind}: {k['jobs']} reports, {each:.2f} s each in their workers")


def _resubmit_one(data: Path) -> str:
    """One LA resubmits its latest return with one figure corrected (its re-referrals, a
    percentage to one decimal); returns the LA's code."""
    for path in sorted((data / "returns" / LATEST.slug).glob("*.csv"))[20:]:
        lines = path.read_text("utf-8").splitlines(keepends=True)
        i = next(k for k, line in enumerate(lines) if ",rereferrals_pct," in line)
        cells = lines[i].split(",")
        if not cells[4]:
            continue  # suppressed: try the next LA
        num, den = int(cells[4]) + 3, int(cells[5])
        cells[4], cells[6] = str(num), f"{num / den * 100:.1f}"
        lines[i] = ",".join(cells)
        path.write_text("".join(lines), "utf-8")
        return path.name.split("_")[0]
    raise RuntimeError("no LA with a re-referrals figure to correct")


def _naive_slices(folder: Path, work: Path) -> list[tuple[str, dict, Path]]:
    """Every job's slice, written by Tartan's own driver, for the naive loop to run: (notebook,
    parameters, slice folder) per report."""
    from pipeline.orchestration.planning import WORK
    from pipeline.orchestration.products import quarterly
    from pipeline.orchestration.products.quarterly_jobs import pack_job, regional_job
    from pipeline.orchestration.runner import Context
    from pipeline.orchestration.settings import Settings

    s = Settings(data=folder / "data", out=work, contracts=folder / "contracts", periods=["latest"])
    plan = quarterly.prepare(Context(s, work / WORK))
    period = plan.available[-1]
    regions = plan.inputs.reference.regions
    las = plan.inputs.reference.local_authorities
    planned = []
    for code, name in regions.itertuples(index=False):
        for la in sorted(las.loc[las["region_code"] == code, "la_code"]):
            planned.append(pack_job(plan, period, la, code, name))
    built = {(p.job.parameters["la_code"], period): True for p in planned}
    for code, name in regions.itertuples(index=False):
        planned.append(regional_job(plan, period, code, name, built))
    out = []
    for p in planned:
        p.write_slice()
        params = {**p.job.parameters, "slice_dir": p.job.slice_dir}
        out.append((p.job.notebook, params, Path(p.job.slice_dir)))
    return out


def bench_reports(sample: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tartan-bench-") as tmp:
        folder = Path(tmp)
        size = national_dataset(folder)
        data, out = folder / "data", folder / "out"
        print(
            f"reports: {size['files']:,} returns ({N_LAS} LAs, {N_INDICATORS} indicators, "
            f"{N_QUARTERS} quarters); building the latest quarter's reports on "
            f"{os.cpu_count()} cores"
        )
        cmd = [sys.executable, "-m", "pipeline", "report", "--data", str(data)]
        cmd += ["--contracts", str(folder / "contracts"), "--out", str(out)]
        cmd += ["--period", "latest", "--no-progress"]
        cold = _timed([*cmd, "--profile"])
        jobs = json.loads((out / "manifest.json").read_text("utf-8"))["jobs"]
        built = sum(j["status"] == "ok" for j in jobs)
        print(
            f"reports: cold run {cold['wall']:.1f} s for {built} of {len(jobs)} reports "
            f"({cold['wall'] / max(len(jobs), 1):.2f} s each), peak memory "
            f"{cold['peak_mb']:.0f} MB (driver, workers and kernels together, PSS; their RSS "
            f"summed, counting shared pages once per process: {cold['peak_rss_mb']:.0f} MB; "
            f"sampling it every {SAMPLE_EVERY} s took {cold['sampling_cpu']:.1f} s of CPU)"
        )
        print_profile("reports", out / "logs" / "profile.json")
        again = _timed(cmd)
        print(f"reports: unchanged re-run {again['wall']:.2f} s ({again['out'].splitlines()[0]})")
        la = _resubmit_one(data)
        one = _timed(cmd)
        reran = [line for line in one["out"].splitlines() if " run, " in line]
        print(
            f"reports: re-run after {la} resubmits one figure {one['wall']:.1f} s "
            f"({reran[0].strip() if reran else 'every report run'})"
        )

        t = time.perf_counter()
        slices = _naive_slices(folder, folder / "naive")
        prep = time.perf_counter() - t
        kinds = {
            "packs": [x for x in slices if "self_assessment" in x[0]],
            "regional reports": [x for x in slices if "regional" in x[0]],
        }
        naive, measured = 0.0, []
        bin_dir = Path(sys.executable).parent
        for kind, items in kinds.items():
            # a sample spread over each kind, in proportion, at least 2 of each
            k = len(items)
            if sample:
                k = min(len(items), max(2, round(sample * len(items) / len(slices))))
            chosen = [items[round(i * len(items) / k)] for i in range(k)]
            t = time.perf_counter()
            for notebook, params, where in chosen:
                executed = where / "naive.ipynb"
                pm = [str(bin_dir / "papermill"), notebook, str(executed), "-k", "tartan"]
                pm += ["--cwd", str(where), "--no-progress-bar"]
                for key, value in params.items():
                    pm += ["-p", key, str(value)]
                subprocess.run(pm, check=True, capture_output=True)
                nbc = [str(bin_dir / "jupyter"), "nbconvert", "--to", "html", str(executed)]
                subprocess.run(nbc, check=True, capture_output=True)
            each = (time.perf_counter() - t) / k
            naive += each * len(items)
            measured.append(f"{kind} {each:.2f} s each, on {k} of {len(items)}")
        how = "all of them" if not sample else "a sample, extrapolated"
        print(
            f"reports: naive loop (papermill CLI then nbconvert CLI, one report after another) "
            f"{naive:.0f} s for {len(slices)} reports ({'; '.join(measured)}; {how}), after "
            f"{prep:.0f} s preparing their slices with Tartan's own driver (validation, "
            f"benchmark, evidence): {prep + naive:.0f} s in all"
        )
        naive += prep  # like for like: the cold run's time includes the same preparation
        ratio, share = naive / cold["wall"], one["wall"] / cold["wall"]
        met = {
            ">= 15x faster than naive": ratio >= 15,
            "resubmission <= 20% of cold": share <= 0.2,
            "unchanged re-run <= 1 s": again["wall"] <= 1,
            "peak <= 1.5 GB": cold["peak_mb"] <= 1536,
        }
        print(f"reports: cold run is {ratio:.1f}x faster than the naive loop")
        print(f"reports: the resubmission's re-run took {share:.0%} of the cold run's time")
        print(
            "reports: targets "
            + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in met.items())
        )
        return {"met": float(all(met.values()))}


def bench_datapack() -> dict[str, float]:
    from tests.conftest import PUBLIC_DATA

    if not (PUBLIC_DATA / "ees").is_dir():
        print(f"datapack: skipped, no published statistics in {PUBLIC_DATA}")
        return {"met": 1.0}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pipeline", "datapack", "--source", str(PUBLIC_DATA)]
        cmd += ["--out", tmp, "--no-progress"]
        cold, again = _timed([*cmd, "--profile"]), _timed(cmd)
        print_profile("datapack", Path(tmp) / "logs" / "datapack" / "profile.json")
        print(
            f"datapack: cold {cold['wall']:.1f} s, peak {cold['peak_mb']:.0f} MB "
            f"({cold['out'].splitlines()[0]})"
        )
        print(f"datapack: unchanged re-run {again['wall']:.1f} s")
        met = {
            "cold <= 10 s": cold["wall"] <= 10,
            "unchanged <= 2 s": again["wall"] <= 2,
            "peak <= 1.5 GB": cold["peak_mb"] <= 1536,
        }
        print(
            "datapack: targets "
            + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in met.items())
        )
        return {"met": float(all(met.values()))}


def _million_row_workbook(path: Path, rows: int, line) -> None:
    """A workbook whose sheet has `rows` rows of `line(r)`, streamed into the zip (openpyxl takes
    minutes to write a million rows)."""
    from tests.test_hostile_returns import a_return

    with zipfile.ZipFile(io.BytesIO(a_return())) as base:
        parts = {n: base.read(n) for n in base.namelist()}
    sheet = parts.pop("xl/worksheets/sheet1.xml").decode()
    head, tail = sheet.split("</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(head.encode())
            for start in range(100, 100 + rows, 10_000):
                f.write("".join(line(r) for r in range(start, start + 10_000)).encode())
            f.write(("</sheetData>" + tail).encode())


def _hostile_files(folder: Path) -> dict[str, Path]:
    from tests.conftest import RETURN_COLUMNS
    from tests.test_hostile_returns import a_return, claims_the_whole_grid

    la, period = "ZL107", "2026-27-Q2"
    files = {}
    for i, (name, ext) in enumerate(
        [
            ("a 6 KB workbook claiming Excel's whole grid", ".xlsx"),
            ("a workbook of 1,000,000 rows of a return", ".xlsx"),
            ("a workbook of 1,000,000 rows of one cell", ".xlsx"),
            ("a CSV of 50 MB", ".csv"),
            ("a CSV of 19 MB, 300,000 rows", ".csv"),
        ]
    ):
        (folder / str(i)).mkdir()  # one return at a time, each named as an LA's
        files[name] = folder / str(i) / f"{la}_{period}{ext}"
    grid, every, one, csv50, csv19 = files.values()
    grid.write_bytes(claims_the_whole_grid(a_return()))
    cells = '<c r="{c}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
    values = [la, "202627", "Financial year Q2", "referrals_rate", "2333", "53712", "434.4"]
    _million_row_workbook(
        every,
        1_000_000,
        lambda r: (
            f'<row r="{r}">'
            + "".join(cells.format(c=c, r=r, v=v) for c, v in zip("ABCDEFG", values, strict=True))
            + "</row>"
        ),
    )
    _million_row_workbook(
        one, 1_000_000, lambda r: f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
    )
    line = f"{la},202627,Financial year Q2,referrals_rate,2333,53712,434.4,,\n".encode()
    header = ",".join(RETURN_COLUMNS).encode() + b"\n"
    for path, size in ((csv50, 50 << 20), (csv19, 19 << 20)):
        with open(path, "wb") as f:
            f.write(header + line * (size // len(line)))
    return files


def bench_hostile() -> dict[str, float]:
    from tests.test_hostile_returns import MEASURE

    with tempfile.TemporaryDirectory(prefix="tartan-bench-") as tmp:
        folder = Path(tmp)
        demo.write(folder / "data")
        files = _hostile_files(folder)
        met = True
        for name, path in files.items():
            out = folder / "out" / path.parent.name
            cmd = [sys.executable, "-m", "pipeline", "validate", "--data", str(folder / "data")]
            cmd += ["--out", str(out), str(path)]
            t = time.perf_counter()
            ran = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True)
            wall = time.perf_counter() - t
            result = json.loads(ran.stdout)
            v = json.loads((out / "validation" / "validation.json").read_text("utf-8"))
            said = [f["message"] for f in v["findings"] if f["check_id"] == "readable"]
            ok = result["peak"] < 1 << 30 and "Traceback" not in result["stderr"]
            met &= ok
            print(
                f"hostile: {name} ({path.stat().st_size / (1 << 20):,.1f} MB): tartan validate "
                f"wall {wall:.1f} s, peak memory {result['peak'] / (1 << 20):,.0f} MB, exit "
                f"{result['rc']}, {'refused: ' + said[0] if said else 'read'}; target < 1 GB "
                f"{'met' if ok else 'MISSED'}"
            )
        return {"met": float(met)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=("validation", "reports", "datapack", "hostile"),
        help="run one benchmark (default: all)",
    )
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=None,
        metavar="N",
        help="time the naive loop on N reports and extrapolate (default: all 162, ~25 min)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the start")
    met = True
    if args.only in (None, "validation"):
        met &= bool(bench_validation(args.repeats)["met"])
    if args.only in (None, "reports"):
        met &= bool(bench_reports(args.naive_sample)["met"])
    if args.only in (None, "datapack"):
        met &= bool(bench_datapack()["met"])
    if args.only in (None, "hostile"):
        met &= bool(bench_hostile()["met"])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
