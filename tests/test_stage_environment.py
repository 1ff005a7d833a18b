"""Every stage process runs with the same BLAS kernel, whatever the machine or its environment says."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from tests.conftest import ROOT

REPORT_BLAS = """
import stages  # what `python -m stages.<name>` runs first
import numpy, threadpoolctl
print(*[lib["architecture"] for lib in threadpoolctl.threadpool_info() if lib["internal_api"] == "openblas"])
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the pinned kernel is x86-64's")
@pytest.mark.parametrize("machine_setting", [None, "SkylakeX"])
def test_stages_run_openblas_with_the_avx2_kernel(machine_setting):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    if machine_setting:
        env["OPENBLAS_CORETYPE"] = machine_setting
    done = subprocess.run([sys.executable, "-c", REPORT_BLAS], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {"Haswell"}
