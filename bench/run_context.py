"""What a benchmark's results file says about the run itself: command, date, commit, machine, load."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
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
