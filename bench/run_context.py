"""What a benchmark's results file says about the run itself: command, date, commit, machine, load."""

from __future__ import annotations

import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_context(module: str) -> dict[str, Any]:
    """Command, date, commit and machine of this run of `python -m module`."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "src", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    return {
        "command": shlex.join(["python", "-m", module, *sys.argv[1:]]),
        "date": date.today().isoformat(),
        "commit": commit.stdout.strip() + (" + uncommitted changes" if changed.stdout.strip() else ""),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "load_average_before": [round(load, 2) for load in os.getloadavg()],
    }


def measured(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall and CPU seconds (user + system) of one child process, start-up included.

    Run from this checkout: `python -c` puts the working directory first on the path, so another
    checkout's bench/ there would be imported instead.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}
