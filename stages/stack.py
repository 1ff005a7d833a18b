"""Stage stack: the stacked models of params `stack.models`, each a logistic regression per genre on
the out-of-fold scores of the models it names."""

from movie_genres import paths
from movie_genres.models.predictions import Predictions, load_predictions, save_predictions
from movie_genres.models.stacking import fit_stack
from movie_genres.models.training import ModelCard, labels_of, load_labels, save_card
from movie_genres.params import OutOfFoldParams, StackParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage, save_model


def main() -> None:
    raw = read_params()
    params = load_section(raw, "stack", StackParams)
    folds = load_section(raw, "out_of_fold", OutOfFoldParams).folds
    seed = load_seed(raw)
    dataset, labels, _ = load_labels()
    for name, components in params.models.items():
        out_of_fold = [load_predictions(paths.out_of_fold_file(part)) for part in components]
        final = [load_predictions(paths.predictions_file(part)) for part in components]
        share_ids, evaluated_ids = out_of_fold[0].movie_ids, final[0].movie_ids
        share_labels = labels_of(share_ids, dataset, labels)
        stack = fit_stack(out_of_fold, final, share_ids, share_labels, evaluated_ids, params.C, folds, seed)
        save_model(name, stack.model)
        save_predictions(paths.predictions_file(name), Predictions(evaluated_ids, stack.scores, "probability"))
        save_predictions(paths.out_of_fold_file(name), Predictions(share_ids, stack.out_of_fold, "probability"))
        save_card(ModelCard(name, "probability", str(paths.model_file(name)), [], list(components)))


if __name__ == "__main__":
    run_stage(main)
