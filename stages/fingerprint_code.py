"""Stage fingerprint_code: per stage module, the project files it runs with their MD5s (reports/code/).

Every other stage depends on its module's file, so it reruns exactly when code it runs changes
(movie_genres.stage_code).
"""

from pathlib import Path

from movie_genres import paths
from movie_genres.stage_code import fingerprint, stage_modules
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    root = Path(".")
    for module in stage_modules(root):
        write_json(paths.code_fingerprint(module), fingerprint(root, module))


if __name__ == "__main__":
    run_stage(main)
