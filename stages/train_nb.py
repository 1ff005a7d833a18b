"""Stage train_nb: one-vs-rest multinomial naive Bayes on word counts."""

from src import paths
from src.models import train_multinomial_nb
from src.params import TrainNbParams, load_section, read_params
from src.training import ModelCard, load_modelling_data, save_card, save_model, save_scores


def main() -> None:
    params = load_section(read_params(), "train_nb", TrainNbParams)
    data = load_modelling_data(paths.TEXT_COUNTS)
    model = train_multinomial_nb(data.train.x, data.train.y, params)
    save_model("nb", model)
    save_scores("nb", data, model.predict_proba(data.evaluated.x), "probability")
    save_card(ModelCard("nb", "probability", str(paths.model_file("nb")), [str(paths.TEXT_COUNTS)]))


if __name__ == "__main__":
    main()
