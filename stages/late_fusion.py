"""Stage late_fusion: the text and poster models' probabilities averaged, the weight tuned on validation."""

import numpy as np

from movie_genres import paths
from movie_genres.data.dataset import subset_mask
from movie_genres.models.fusion import fuse, tune_text_weight
from movie_genres.models.predictions import load_predictions, save_predictions
from movie_genres.models.training import ModelCard, load_labels, save_card
from movie_genres.params import LateFusionParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    params = load_section(read_params(), "late_fusion", LateFusionParams)
    text = load_predictions(paths.predictions_file(params.text_model))
    image = load_predictions(paths.predictions_file(params.image_model))
    dataset, labels, _ = load_labels()
    val = subset_mask(dataset, "val")
    grid = np.round(np.linspace(0, 1, params.weight_steps), 6)  # 0.7, not 0.7000000000000001
    weight, val_ap = tune_text_weight(text, image, dataset["movie_id"].to_numpy()[val], labels[val], grid)
    save_predictions(paths.predictions_file("late_fusion"), fuse(text, image, weight))
    components = {params.text_model: weight, params.image_model: 1 - weight}
    save_card(ModelCard("late_fusion", "probability", "", [], components))
    write_json(
        paths.training_report("late_fusion"), {"text_weight": weight, "val_average_precision": round(val_ap, 4)}
    )


if __name__ == "__main__":
    run_stage(main)
