"""TensorFlow for this project: loaded quietly, with the settings that make its numbers the same on any machine.

Import this module before `keras` or `tensorflow` (the modules that use them do). What it sets, and
why (measured on this project's data; docs/reproducibility.md has the tables):

- `ONEDNN_MAX_CPU_ISA=AVX2`: oneDNN, TensorFlow's CPU kernel library, picks its kernels by the
  processor's instruction set, and AVX-512 kernels add floats in another order than AVX2 ones: the
  MiniLM embeddings and the MLPs' weights came out different on an AVX-512 machine and an AVX2
  one. Every x86-64 processor of the last decade has AVX2, so capping there gives every machine the
  same kernels. (Set the variable yourself to trade that for speed.)
- `TF_ENABLE_ONEDNN_OPTS=1`: oneDNN's kernels (the default on x86); the poster CNN runs ~3x slower
  without them, and turning them off changes every output.
- `TF_CPP_MIN_LOG_LEVEL=3` and a filter on what TensorFlow's C++ side prints while it loads: the
  start-up lines (CUDA probing on a machine without a GPU, oneDNN and CPU-feature notices) are
  noise on a CPU machine; anything else it prints then is passed through.
- TensorFlow's warning that Keras' predict step "triggered tf.function retracing" is dropped: with
  several Keras models loaded it counts each model's first trace as a retrace (see the filter).
- Keras loads without scikit-learn and matplotlib (when they are not loaded yet): it imports them
  at start-up only for its scikit-learn wrappers and image galleries, which the project does not
  use, and that took about 1 s of a 6 s `predict` call with a Keras model. Keras then leaves those
  two features out, as if the packages were not installed; importing them later works as usual.
- One intra-op thread: every TensorFlow op runs on the thread that calls it, and the project's code
  runs as many calls at once as the process has cores (MiniLM's and the CNN's batches, each on a
  thread of its own). Splitting each op over the cores instead cost time in handing work between
  them: on 2 cores MiniLM took 26.5 s for 1,500 texts against 23.7 s, and the CNN 7.7 s for 1,500
  posters at 160 pixels against 5.5 s (the same bits: inference does not depend on the thread count,
  docs/reproducibility.md). Training needs it too: how a kernel splits a sum over threads depends on
  their number, which depends on the machine (`models.mlp.make_deterministic`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

SETTINGS = {
    "KERAS_BACKEND": "tensorflow",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "TF_ENABLE_ONEDNN_OPTS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}

# What TensorFlow prints while it loads on a CPU machine, none of it actionable.
START_UP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog"
    r"|oneDNN custom operations are on"
    r"|cudart_stub|Could not find cuda drivers|cuInit|cuda_platform|cuda_executor|CUDA"
    r"|This TensorFlow binary is optimized|To enable the following instructions"
    r"|rebuild TensorFlow with the appropriate compiler flags"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|TF-TRT Warning"
)


@contextmanager
def _native_stderr_filtered() -> Iterator[None]:
    """Capture what C++ code writes to file descriptor 2, then pass on the lines that are not noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines():
                if line.strip() and not START_UP_NOISE.search(line):
                    print(line, file=sys.stderr)


# What Keras imports at start-up only for features the project does not use (see the docstring).
KERAS_OPTIONAL_IMPORTS = ("sklearn", "matplotlib")


@contextmanager
def not_importable(names: tuple[str, ...]) -> Iterator[None]:
    """Inside the block, importing any of `names` that is not loaded yet raises ImportError: for
    the optional imports of a library, which it then leaves out as if they were not installed."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # Python's own "cannot be imported" mark
    try:
        yield
    finally:
        for name in blocked:
            del sys.modules[name]


class _KerasPredictTracesFilter(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning about Keras' predict step. Keras
    builds that step anew for every model, and TensorFlow counts the first trace of each model's copy as
    a retrace of one function: `predict` with a stack (four Keras models, each traced once) warned."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "one_step_on_data" in message)


# The settings that decide TensorFlow's numbers (the others only decide what it prints).
NUMERIC_SETTINGS = ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS")


def _load() -> None:
    for name, value in SETTINGS.items():
        chosen = os.environ.setdefault(name, value)
        if name in NUMERIC_SETTINGS and chosen != value:
            logging.getLogger(__name__).warning(
                "%s=%s is set: results match only machines with the same setting (the project uses %s)",
                name,
                chosen,
                value,
            )
    with _native_stderr_filtered(), not_importable(KERAS_OPTIONAL_IMPORTS):
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA is probed here, inside the filter
        tf.config.threading.set_intra_op_parallelism_threads(1)  # before the first op (see the docstring)
        import keras  # noqa: F401  (keras' own start-up, also inside the filter)
    logging.getLogger("tensorflow").addFilter(_KerasPredictTracesFilter())


_load()
