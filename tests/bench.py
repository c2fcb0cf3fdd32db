"""Benchmarks: ``make bench`` (or ``python -m tests.bench``). Not part of ``make test``.

validation: a generated national-size set (9 regions, 153 LAs x 40 indicators x 8 quarters =
1,224 returns, 48,960 rows) validated by ``tartan validate`` in a fresh process, so the time
includes starting Python and importing Great Expectations. Targets: <= 8 s wall, <= 600 MB peak.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from pipeline.core.periods import Period, window

ROOT = Path(__file__).resolve().parents[1]
N_REGIONS, N_LAS, N_INDICATORS, N_QUARTERS = 9, 153, 40, 8
LATEST = Period(2026, 2)


def national_dataset(folder: Path, seed: int = 7) -> dict[str, int]:
    """Write contracts/ (with a 40-indicator catalogue) and data/ (reference, returns)."""
    rng = np.random.default_rng(seed)
    contracts = folder / "contracts"
    contracts.mkdir(parents=True)
    for name in ("la_return.yaml", "reference.yaml", "catalogue.yaml"):
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
                if 1 <= num <= 5:
                    body.append(
                        f"{code},{p.time_period},{p.time_identifier},{ind['id']},,{den},,c,"
                    )
                else:
                    value = round(num / den * scale, ind["decimals"])
                    body.append(
                        f"{code},{p.time_period},{p.time_identifier},{ind['id']},{num},{den},"
                        f"{value},,"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    result = bench_validation(args.repeats)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
