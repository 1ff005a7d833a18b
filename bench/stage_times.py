"""Wall time of every pipeline stage: each stage reproduced alone, forced, in dvc.yaml's order.

    python -m bench.stage_times [--repeats 1]
Run after a full `dvc repro` (or on a fresh clone: stages run in order, so each finds its inputs).
Prints one line per stage with the median wall time, and the total.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def stage_names() -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "dvc", "stage", "list", "--name-only"], capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def time_stage(name: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "--force", "--single-item", name], capture_output=True, check=True
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    total = 0.0
    for name in stage_names():
        times = [time_stage(name) for _ in range(args.repeats)]
        total += statistics.median(times)
        print(f"{name:28} {statistics.median(times):7.1f} s  {[round(t, 1) for t in times]}", flush=True)
    print(f"{'total':28} {total:7.1f} s")


if __name__ == "__main__":
    main()
