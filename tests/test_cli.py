"""The `movie-genres` entry point: its ending skips the slow teardown but delivers everything."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from movie_genres.cli import collection_paused
from tests.conftest import ROOT

WRITE_THEN_EXIT = """
import sys
from movie_genres import tf_runtime  # loads TensorFlow, as a Keras model does
from movie_genres.cli import exit_process
print("x" * 100_000, end="")  # more than one buffer: nothing may be left unflushed
print("done", file=sys.stderr, end="")
exit_process(3)
"""


def test_exiting_with_tensorflow_loaded_keeps_the_output_and_the_status():
    done = subprocess.run([sys.executable, "-c", WRITE_THEN_EXIT], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000
    assert done.stderr.endswith("done")


WRITE_THEN_EXIT_WITHOUT_TENSORFLOW = """
import atexit, sys
import sklearn.linear_model  # what a one-movie call imports: its objects are frozen at exit, not collected
from movie_genres.cli import exit_process
atexit.register(lambda: print("atexit ran", file=sys.stderr, end=""))
print("x" * 100_000, end="")
exit_process(3)
"""


def test_exiting_without_tensorflow_keeps_the_output_the_status_and_the_exit_handlers():
    done = subprocess.run(
        [sys.executable, "-c", WRITE_THEN_EXIT_WITHOUT_TENSORFLOW], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000
    assert done.stderr == "atexit ran"


@pytest.mark.parametrize("enabled_before", [True, False])
def test_a_paused_collection_leaves_the_collector_as_it_found_it(enabled_before: bool):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
        with pytest.raises(KeyError), collection_paused():
            raise KeyError("a failed call")
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_the_command_lists_its_subcommands():
    done = subprocess.run([sys.executable, "-m", "movie_genres", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    assert all(name in done.stderr for name in ("predict", "lookup", "crosscheck", "compare"))


def test_a_reader_that_stops_reading_ends_the_command_quietly():
    """`movie-genres compare | head -3`: the rest of the table meets a closed pipe, which is no error."""
    script = "import sys\nfor i in range(100_000):\n    print('a row of the table', i)\n"
    command = [
        sys.executable,
        "-c",
        f"from movie_genres import cli\ncli.main = lambda: exec({script!r}) or 0\ncli.run()",
    ]
    done = subprocess.run(
        f"{subprocess.list2cmdline(command)} | head -3", shell=True, capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.splitlines() == [f"a row of the table {i}" for i in range(3)]
    assert done.stderr == ""
