"""Genres for movies the pipeline has never seen, from the trained models.

`Predictor` holds what it has loaded (model cards, tuned thresholds, models, featurizers), so many
movies cost one load: `Predictor().predict_many(movies)` computes each feature for all the movies
that need it at once, then runs each model once on its movies. `predict(movie)` is the same path
for one movie. Without a model name, each movie gets the default model for the inputs it has (models/defaults.json,
chosen by the pipeline's choose_defaults stage).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from movie_genres import paths
from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.evaluation.default_models import input_key
from movie_genres.features.store import join_columns
from movie_genres.models.predictions import DEFAULT_THRESHOLD, at_least_one_genre
from movie_genres.models.training import ModelCard
from movie_genres.parallel import LoadedOnce
from movie_genres.predict.features import (
    FEATURES,
    TRAINING_WORDS,
    Engine,
    Featurizers,
    inputs_read,
    load_json,
    load_pickle,
    model_file_error,
)
from movie_genres.predict.language import clearly_not_english, language_warning
from movie_genres.predict.movie import DETAIL_FIELDS, ModelFilesError, MovieInput, PredictError, ordered

DETAIL_FLAGS = ", ".join(f"--{name.replace('_', '-')}" for name in DETAIL_FIELDS)
KERAS_BATCH = 256  # rows a Keras model scores at once in predict: a fixed shape, so one trace per model


def _needs_message(name: str, missing: set[str]) -> str:
    hints = {"overview": "--overview", "poster": "--poster", "details": DETAIL_FLAGS}
    wanted = "; ".join(f"{kind} ({hints[kind]})" for kind in sorted(missing))
    return f"model `{name}` needs {sorted(missing)} as well: give {wanted}"


class Predictor:
    """The trained models of models/, loaded on first use and kept for every later movie; the networks
    and the Keras models run on `engine` (see predict/features.py)."""

    def __init__(self, engine: Engine = "tensorflow") -> None:
        self.engine = engine
        self.featurizers = Featurizers(engine)
        self._cards: dict[str, ModelCard] = {}
        self._decisions: dict[str, dict] = {}
        self._models: LoadedOnce[Any] = LoadedOnce()  # loaded on threads beside the networks, see _compute
        self._genres: list[str] | None = None
        self._defaults: dict[str, dict] | None = None
        self.trained = sorted(p.stem for p in paths.CARDS.glob("*.json"))

    # --- what is on disk ------------------------------------------------------------------------

    def check_model(self, name: str) -> None:
        if not self.trained:
            raise ModelFilesError(f"no trained model in {paths.MODELS}/: run `dvc repro` (or `dvc pull`) first")
        if name not in self.trained:
            raise ModelFilesError(f"unknown model `{name}`: the trained models are {', '.join(self.trained)}")

    def card(self, name: str) -> ModelCard:
        if name not in self._cards:
            self.check_model(name)
            path = paths.model_card(name)
            try:
                self._cards[name] = ModelCard(**load_json(path))
            except TypeError as err:
                raise model_file_error(path, err) from None
        return self._cards[name]

    def decision(self, name: str) -> dict:
        if name not in self._decisions:
            path = paths.model_decision(name)
            decision = load_json(path)
            if not isinstance(decision, dict) or not {"thresholds", "out_of_fold_f1_micro"} <= set(decision):
                raise model_file_error(path, ValueError("no thresholds or out_of_fold_f1_micro"))
            missing = [genre for genre in self.genres() if genre not in decision["thresholds"]]
            if missing:
                raise ModelFilesError(
                    f"{path} has no threshold for {', '.join(missing)} of {paths.GENRES}: "
                    "run `dvc repro` so models and genres match"
                )
            self._decisions[name] = decision
        return self._decisions[name]

    def genres(self) -> list[str]:
        if self._genres is None:
            import pandas as pd

            if not paths.GENRES.is_file():
                raise model_file_error(paths.GENRES)
            try:
                self._genres = pd.read_csv(paths.GENRES)["name"].astype(str).tolist()
            except Exception as err:
                raise model_file_error(paths.GENRES, err) from None
        return self._genres

    def leaves(self, name: str) -> list[str]:
        """The models whose scores make up `name`'s: a stacked model's components, else the model itself."""
        return list(self.card(name).components) or [name]

    def features(self, name: str) -> list[str]:
        """The feature files `name` reads, its components' included."""
        found: list[str] = []
        for leaf in self.leaves(name):
            for feature in self.card(leaf).features:
                if feature not in FEATURES:
                    raise ModelFilesError(
                        f"model `{leaf}` was trained on {feature}, which predict cannot compute: "
                        "add it to movie_genres/predict/features.py"
                    )
                if feature not in found:
                    found.append(feature)
        return found

    def needed_inputs(self, name: str) -> set[str]:
        return set().union(*(FEATURES[f].needs for f in self.features(name)))

    def inputs_read(self, name: str) -> set[str]:
        """The input fields `name` reads of a movie, when given (INPUT_FIELDS)."""
        return set().union(*(inputs_read(f, self.featurizers) for f in self.features(name)))

    def _model(self, name: str) -> Any:
        """A trained model (a leaf or a stacker), loaded on first use."""

        def load() -> Any:
            path = Path(self.card(name).artifact)
            return self._keras_model(path) if self._is_keras(name) else load_pickle(path)

        return self._models.get(name, load)

    def _is_keras(self, name: str) -> bool:
        return self.card(name).artifact.endswith(".keras")

    def _keras_model(self, path: Path) -> Any:
        from movie_genres.models.mlp_numpy import NumpyMlp

        if not path.is_file():
            raise model_file_error(path)
        try:
            if self.engine == "numpy":
                return NumpyMlp.load(path)
            from movie_genres.models.mlp import load_keras_model

            return load_keras_model(path)
        except NumpyEngineUnsupported:
            raise
        except Exception as err:  # a damaged archive raises zip, h5 or Keras errors
            raise model_file_error(path, err) from None

    # --- choosing ---------------------------------------------------------------------------------

    def usable(self, movie: MovieInput) -> list[str]:
        have = movie.available()
        return [name for name in self.trained if self.needed_inputs(name) <= have]

    def defaults(self) -> dict[str, dict]:
        """models/defaults.json: input set -> the default model and why (stage choose_defaults)."""
        if self._defaults is None:
            defaults = load_json(paths.DEFAULT_MODELS)
            if not isinstance(defaults, dict) or not all(
                isinstance(d, dict) and "model" in d for d in defaults.values()
            ):
                raise model_file_error(paths.DEFAULT_MODELS, ValueError("no model for some input set"))
            self._defaults = defaults
        return self._defaults

    def missing_details(self, movie: MovieInput, with_problems: bool = False) -> list[str]:
        """The detail fields the details models read that a movie with some details lacks; [] when it
        has all of them, or none at all."""
        given = movie.given() | (set(movie.problems) if with_problems else set())
        if not given & set(DETAIL_FIELDS):
            return []
        read = self.featurizers.detail_blocks()
        return [field for field in DETAIL_FIELDS if field in read and field not in given]

    def default_inputs(self, movie: MovieInput, with_problems: bool = False) -> set[str]:
        """The kinds of input the default model is chosen by. Details count only when every detail
        field the details models read is given: they were trained with all of them, and a movie with a
        release date alone scored worse with them than without on held-out movies (docs/predict.md)."""
        have = movie.available(with_problems)
        return have - {"details"} if self.missing_details(movie, with_problems) else have

    def choose(self, movie: MovieInput, with_problems: bool = False) -> str:
        """The default model for the largest set of inputs this movie has that some model can use
        (with `with_problems`, counting the fields given that could not be read)."""
        self._check_inputs(movie, with_problems)
        have = self.default_inputs(movie, with_problems)
        fitting = [key for key in self.defaults() if set(key.split("+")) <= have]
        if not fitting:
            raise PredictError(
                f"no trained model can use only {sorted(have) or 'nothing'}: "
                "give an overview (--overview) or a poster (--poster)"
            )
        return self.defaults()[max(fitting, key=lambda key: len(key.split("+")))]["model"]

    def _check_inputs(self, movie: MovieInput, with_problems: bool = False) -> None:
        if movie.overview is not None and not movie.overview.strip():
            raise PredictError("the overview is empty: give the movie's plot summary")
        if not movie.available(with_problems) & {"overview", "poster"}:
            given = ordered(movie.given())
            had = f"only {', '.join(given)} given" if given else "nothing given"
            raise PredictError(
                f"{had}: every model needs an overview (--overview or --overview-file) or a poster (--poster)"
            )

    def _plan(self, movie: MovieInput, model: str | None) -> str:
        if movie.problems:
            # A field that could not be read fails the movie where the model would read it: by default,
            # the model its inputs would get if they were all readable.
            reader = model or self.choose(movie, with_problems=True)
            read = [field for field in ordered(set(movie.problems)) if field in self.inputs_read(reader)]
            if read:
                raise PredictError("; ".join(movie.problems[field] for field in read))
        if model is None:
            return self.choose(movie)
        self._check_inputs(movie)
        missing = self.needed_inputs(model) - movie.available()
        if missing:
            raise PredictError(_needs_message(model, missing))
        return model

    # --- predicting -------------------------------------------------------------------------------

    def predict(self, movie: MovieInput, model: str | None = None) -> dict:
        """One movie's prediction (see `predict_many`); a movie that cannot be predicted raises PredictError."""
        result = self.predict_many([movie], model)[0]
        if "error" in result:
            raise PredictError(result["error"])
        return result

    def predict_many(self, movies: Sequence[MovieInput], model: str | None = None) -> list[dict]:
        """Each movie's prediction, in order: the model, the inputs used and ignored, warnings, and
        every genre's score, predicted where it reaches the genre's tuned threshold.

        A movie that cannot be predicted (no usable input, an input the model needs is missing) gets
        {"error": message}. Errors of the trained files themselves (an unknown model, a missing or
        damaged file) concern every movie and raise PredictError.
        """
        if model is not None:
            self.check_model(model)
            self.features(model)  # a feature predict cannot compute is every movie's problem
        elif not self.trained:
            self.check_model("")
        chosen: list[str | None] = []
        errors: dict[int, str] = {}
        for i, movie in enumerate(movies):
            try:
                chosen.append(self._plan(movie, model))
            except ModelFilesError:
                raise
            except PredictError as err:
                chosen.append(None)
                errors[i] = str(err)

        # Which movies each leaf model scores, and which movies each feature describes.
        leaf_rows: dict[str, list[int]] = {}
        for i, name in enumerate(chosen):
            if name is not None:
                for leaf in self.leaves(name):
                    leaf_rows.setdefault(leaf, []).append(i)
        feature_rows: dict[str, list[int]] = {}
        for leaf, rows in leaf_rows.items():
            for feature in self.card(leaf).features:
                feature_rows[feature] = sorted(set(feature_rows.get(feature, [])) | set(rows))

        text_rows = [i for i, name in enumerate(chosen) if name is not None and "overview" in self.needed_inputs(name)]
        # The language check (its model takes 0.37 s to load) runs beside the features: 0.16 s sooner a call.
        with ThreadPoolExecutor(1) as side:
            languages = side.submit(lambda: {i: clearly_not_english(movies[i].overview or "") for i in text_rows})
            models = [*leaf_rows, *(name for name in dict.fromkeys(chosen) if name and self.card(name).components)]
            computed = {
                feature: (rows, _positions(feature_rows[feature]))
                for feature, rows in self._compute(movies, feature_rows, models)
            }
        unknown_to_training: set[int] = set()
        if text_rows:
            flags = self.featurizers.unknown_to_training_words([movies[i] for i in text_rows])
            unknown_to_training = {i for i, flag in zip(text_rows, flags) if flag}
        leaf_scores = {}
        for leaf, rows in leaf_rows.items():
            x = join_columns([_take(computed[f][0].matrix, computed[f][1], rows) for f in self.card(leaf).features])
            leaf_scores[leaf] = (self._scores(leaf, x), _positions(rows))

        model_scores = {}
        for name in dict.fromkeys(n for n in chosen if n is not None):
            rows = [i for i, chosen_name in enumerate(chosen) if chosen_name == name]
            model_scores[name] = (self._combined(name, leaf_scores, rows), _positions(rows))

        results: list[dict] = []
        for i, name in enumerate(chosen):
            if name is None:
                results.append({"error": errors[i]})
                continue
            scores = model_scores[name][0][model_scores[name][1][i]]
            result = self._result(name, movies[i], np.asarray(scores), computed, i, i in unknown_to_training)
            language = languages.result().get(i)
            if language:
                result["warnings"].append(language_warning(language))
            result["chosen"] = "requested" if model else f"the default for {input_key(self.default_inputs(movies[i]))}"
            missing = [] if model else self.missing_details(movies[i])
            if missing:
                result["warnings"].append(_partial_details_warning(missing))
            results.append(result)
        return results

    def _compute(
        self, movies: Sequence[MovieInput], feature_rows: dict[str, list[int]], models: list[str]
    ) -> Iterator[tuple[str, Any]]:
        """Each feature's rows for its movies. The networks (MiniLM, the poster CNN) run one after the
        other, each a batch on every core at once: run together too they took as long (1,500 movies:
        29.6 s against 23.7 s and 5.5 s), with more memory. The later networks load, the Python
        featurizers load and run, and the `models` that will score the movies load, on other threads
        meanwhile (a load that fails raises again where the model is used)."""
        networks = [feature for feature in feature_rows if FEATURES[feature].network]
        keras_models = [name for name in models if self._is_keras(name)]
        if (networks or keras_models) and self.engine == "tensorflow":
            # TensorFlow's start-up changes process-wide state for a while (sys.modules, file descriptor
            # 2; see tf_runtime): on this thread, before the others import what it holds back.
            import movie_genres.tf_runtime  # noqa: F401

        def compute(feature: str) -> Any:
            return FEATURES[feature].compute(self.featurizers, [movies[i] for i in feature_rows[feature]])

        def compute_networks() -> dict[str, Any]:
            return {feature: compute(feature) for feature in networks}

        others = [feature for feature in feature_rows if feature not in networks]
        with ThreadPoolExecutor(len(networks) + len(models) + len(others) + 1) as pool:
            network_rows = pool.submit(compute_networks)
            if networks:
                # The first network's load is the longest wait, and mostly Python: the other loads, which
                # are too, would hold the GIL half the time (it took 5.6 s beside them, 2.8 s alone).
                first = pool.submit(FEATURES[networks[0]].network, self.featurizers)  # type: ignore[arg-type]
                wait([first])
            for feature in networks[1:]:
                pool.submit(FEATURES[feature].network, self.featurizers)  # type: ignore[arg-type]
            for name in models:
                pool.submit(self._model, name)
            futures = {feature: pool.submit(compute, feature) for feature in others}
            for feature, future in futures.items():
                yield feature, future.result()
            yield from network_rows.result().items()

    def _combined(self, name: str, leaf_scores: dict, rows: list[int]) -> np.ndarray:
        """`name`'s scores of these movies: its own, or its stacker's on its components' scores."""
        parts = {leaf: _take(leaf_scores[leaf][0], leaf_scores[leaf][1], rows) for leaf in self.leaves(name)}
        if not self.card(name).components:
            return parts[name]
        from movie_genres.models.stacking import stacker_input

        inputs = np.hstack([stacker_input(scores, self.card(leaf).kind) for leaf, scores in parts.items()])
        return np.asarray(self._model(name).predict_proba(inputs))

    def _scores(self, leaf: str, x: Any) -> np.ndarray:
        card = self.card(leaf)
        model = self._model(leaf)
        if self._is_keras(leaf) and self.engine == "numpy":
            scores = model.predict(np.asarray(x))
        elif self._is_keras(leaf):
            from movie_genres.keras_batches import predict_in_batches

            # Rows in padded batches of one size: one traced graph per model however many movies come
            # (chunks of a file, one movie), where each new row count retraced it and TensorFlow warned.
            predict = predict_in_batches(model, KERAS_BATCH)
            scores = np.concatenate(
                [predict(np.asarray(x[start : start + KERAS_BATCH])) for start in range(0, x.shape[0], KERAS_BATCH)]
            )
        else:
            scores = model.decision_function(x) if card.kind == "margin" else model.predict_proba(x)
        scores = np.asarray(scores)
        if scores.shape[1] != len(self.genres()):
            raise ModelFilesError(
                f"model `{leaf}` scores {scores.shape[1]} genres, {paths.GENRES} lists {len(self.genres())}: "
                "run `dvc repro` so models and genres match"
            )
        return scores

    def _result(
        self, name: str, movie: MovieInput, scores: np.ndarray, computed: dict, i: int, unknown_to_training: bool
    ) -> dict:
        card = self.card(name)
        thresholds = self.decision(name)["thresholds"]
        used = self.inputs_read(name) & movie.given()
        unknown_to = [TRAINING_WORDS] if unknown_to_training else []
        for feature in self.features(name):
            rows, position = computed[feature]
            vocabulary = FEATURES[feature].vocabulary
            if rows.no_known_word is not None and rows.no_known_word[position[i]] and vocabulary not in unknown_to:
                unknown_to.append(vocabulary)
        warnings = list(movie.notes)
        for field in ordered(set(movie.problems)):
            warnings.append(f"{movie.problems[field]}: ignored (`{name}` does not read {field})")
        if unknown_to:
            warnings.append(
                f"the overview has no word known to {' or to '.join(unknown_to)}: the scores of `{name}` "
                "may not reflect it; give the movie's plot summary in English"
            )
        cut = np.array([thresholds[genre] for genre in self.genres()])
        predicted = at_least_one_genre(scores[None], cut)[0]
        genres: list[dict[str, Any]] = [
            {"genre": genre, "score": round(float(score), 4), "predicted": bool(hit)}
            for genre, score, hit in zip(self.genres(), scores, predicted)
        ]
        genres.sort(key=lambda g: -g["score"])
        return {
            "model": name,
            "chosen": "",  # set by the caller
            "out_of_fold_f1_micro": self.decision(name)["out_of_fold_f1_micro"],
            "inputs_used": ordered(used),
            "inputs_ignored": ordered(movie.given() - used),
            "warnings": warnings,
            "predicted_genres": [g["genre"] for g in genres if g["predicted"]],
            "score_kind": card.kind,
            "default_threshold": DEFAULT_THRESHOLD[card.kind],
            "genres": genres,
        }


def _partial_details_warning(missing: list[str]) -> str:
    flags = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
    return (
        f"details given in part (no {', '.join(missing)}): the details models were trained with every detail "
        f"known, so the default leaves the details out; give {flags} as well, or --model to use a details model"
    )


def _positions(rows: list[int]) -> dict[int, int]:
    return {row: position for position, row in enumerate(rows)}


def _take(matrix: Any, position: dict[int, int], rows: list[int]) -> Any:
    return matrix[[position[r] for r in rows]]


@cache
def _shared(models_dir: Path) -> Predictor:
    return Predictor()


def predict(movie: MovieInput, model: str | None = None) -> dict:
    """One movie's prediction, with a Predictor kept for the models folder of the working directory,
    so later calls reuse the loaded models."""
    return _shared(paths.MODELS.resolve()).predict(movie, model)
