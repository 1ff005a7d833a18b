"""Stage train_<model>: a Keras MLP on one feature file, params from section `train_<model>`.

Usage: python -m stages.train_mlp MODEL FEATURES [FEATURES ...]   (several files are joined column-wise)
"""

import argparse
from pathlib import Path

import movie_genres.tf_runtime  # noqa: F401  (before dvclive.keras loads keras: quiet, machine-independent TF)

# isort: split
from dvclive import Live
from dvclive.keras import DVCLiveCallback

from movie_genres import paths
from movie_genres.models.mlp import make_deterministic, predict_probabilities, refit_mlp, save_keras_model, train_mlp
from movie_genres.models.out_of_fold import write_out_of_fold
from movie_genres.models.training import ModelCard, load_modelling_data, save_card, save_scores
from movie_genres.params import MlpParams, OutOfFoldParams, TrainingInputParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="model name; its params section is train_<model>")
    parser.add_argument("features", type=Path, nargs="+", help="feature files (.npz) the model reads")
    args = parser.parse_args()
    raw = read_params()
    params = load_section(raw, f"train_{args.model}", MlpParams)
    out_of_fold = load_section(raw, "out_of_fold", OutOfFoldParams)
    seed = load_seed(raw)
    make_deterministic(seed)
    inputs = load_section(raw, "training_input", TrainingInputParams)
    data = load_modelling_data(*args.features, max_in_memory_bytes=inputs.max_in_memory_mib * 1024**2)
    # dvclive writes the training curves only; dvc.yaml declares them as plots.
    with Live(dir=str(paths.training_log(args.model)), dvcyaml=None, save_dvc_exp=False) as live:
        model, epochs = train_mlp(data.train, data.val, params, callbacks=[DVCLiveCallback(live=live)])
    artifact = paths.model_file(args.model, ".keras")
    save_keras_model(model, artifact)
    save_scores(args.model, data, predict_probabilities(model, data.evaluated.x), "probability")
    save_card(ModelCard(args.model, "probability", str(artifact), [str(f) for f in args.features]))
    write_out_of_fold(args.model, data, out_of_fold.folds, seed, refit_mlp(params, epochs, seed), "probability")
    write_json(paths.training_report(args.model), {"best_epoch": epochs})


if __name__ == "__main__":
    run_stage(main)
