"""The compare command: DVC experiments side by side.

    dvc exp run --temp -S train_nb.alpha=0.5   (any experiments of the current commit)
    movie-genres compare [--models NAME ...| --all-models] [--md] [--width 120]

One row per experiment of HEAD (`dvc exp show`): its name, the params it changed against HEAD, and each
model's test micro-F1 under the rule predict applies, with its Δ against HEAD's and a verdict from a
paired bootstrap over the test movies (better / worse / no clear difference). Rows are sorted by the
first model, best first. The models: by default predict's default of each input set (HEAD's
models/defaults.json). Run at the repository root.

Exit status: 0 the table; 1 HEAD has no finished experiment; 2 a usage error or unreadable files.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

DEFAULT_WIDTH = 120


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A usage error in one line, like every other error of the command."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser(prog: str | None) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--models", nargs="+", metavar="NAME", help="these models, the first one sorting the rows")
    which.add_argument("--all-models", action="store_true", help="every model with test metrics")
    parser.add_argument("--md", action="store_true", help="a GitHub markdown table (for a pull request)")
    parser.add_argument(
        "--width", type=int, default=DEFAULT_WIDTH, metavar="COLUMNS", help="the widest a line may be (default: 120)"
    )
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = _parser(prog)
    args = parser.parse_args(argv)
    from dvc.exceptions import DvcException

    from movie_genres.evaluation.compare import MIN_WIDTH, legend, table

    if args.width < MIN_WIDTH:
        parser.error(f"--width must be at least {MIN_WIDTH}")

    try:
        # Imported here: movie_genres.paths reads paths.yaml on import, which outside the repository root
        # fails with a message worth its one line.
        from movie_genres.evaluation.experiments import (
            RevisionFiles,
            compare,
            default_models,
            models_with_metrics,
            show_experiments,
        )

        found = show_experiments()
        if not found:
            raise ValueError("dvc exp show lists no commit to compare against (HEAD)")
        baseline = found[0]
        known = models_with_metrics(baseline)
        if args.models:
            unknown = [model for model in args.models if model not in known]
            if unknown:
                raise ValueError(f"no test metrics of {', '.join(unknown)} at HEAD (models: {', '.join(known)})")
        models = known if args.all_models else args.models or default_models(RevisionFiles(".", baseline.rev))
        if not baseline.experiments:
            print(f"HEAD ({baseline.name}) has no finished experiment: run `dvc exp run -S key=value`", file=sys.stderr)
            return 1
        comparison = compare(baseline, models)
    except (DvcException, ValueError, OSError, KeyError) as err:  # not a DVC repository, a missing file, bad params
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    rows = [comparison.baseline, *comparison.experiments]
    print("\n".join(table(rows, models, args.width, args.md)))
    print()
    print("\n".join(legend(rows, comparison.draws, args.width)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
