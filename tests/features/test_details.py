import numpy as np

from movie_genres.data.dataset import normalise_movies
from movie_genres.features.details import DetailFeaturizer
from movie_genres.params import DetailFeaturesParams

PARAMS = DetailFeaturesParams(
    tagline=True,
    keywords=True,
    companies=True,
    release_year=True,
    runtime=True,
    min_movies=3,
    year_bins=[1990, 2010],
    runtime_bins=[100],
)


def test_blocks_come_from_the_real_details_learned_on_training_movies(bundled):
    raw, _ = bundled
    movies, _ = normalise_movies(raw, max_movies=300)
    featurizer = DetailFeaturizer(PARAMS).fit(movies.head(200))
    matrix, names = featurizer.transform(movies), featurizer.feature_names
    assert matrix.shape == (300, len(names))
    prefixes = {name.split(":")[0] for name in names}
    assert prefixes == {"tagline", "keyword", "company", "year", "runtime"}
    column = {name: j for j, name in enumerate(names)}
    # Every kept keyword is on at least 3 training movies; each movie has exactly one year and one runtime bin.
    keyword_cols = [j for name, j in column.items() if name.startswith("keyword:")]
    assert (np.asarray(matrix[:200][:, keyword_cols].sum(axis=0)) >= 3).all()
    year_cols = [j for name, j in column.items() if name.startswith("year:")]
    assert (np.asarray(matrix[:, year_cols].sum(axis=1)) == 1).all()
    # A real movie's own keyword is set: the most popular movie has the keyword it carries.
    first = movies.iloc[0]
    shared = [k for k in first["keywords"] if f"keyword:{k}" in column]
    assert shared and all(matrix[0, column[f"keyword:{k}"]] == 1 for k in shared)


def test_disabled_blocks_and_a_tiny_profile_give_an_empty_matrix(bundled):
    raw, _ = bundled
    movies, _ = normalise_movies(raw, max_movies=20)
    none = DetailFeaturesParams(
        **{
            **PARAMS.__dict__,
            "tagline": False,
            "keywords": False,
            "companies": False,
            "release_year": False,
            "runtime": False,
        }
    )
    featurizer = DetailFeaturizer(none).fit(movies)
    assert featurizer.transform(movies).shape == (20, 0) and featurizer.feature_names == []
    rare = DetailFeaturizer(DetailFeaturesParams(**{**PARAMS.__dict__, "min_movies": 50})).fit(movies)
    assert not any(n.startswith(("keyword:", "company:", "tagline:")) for n in rare.feature_names)
    assert rare.transform(movies).shape == (20, len(rare.feature_names))


def test_a_new_movie_without_details_gets_only_its_unknown_bins(bundled):
    raw, _ = bundled
    movies, _ = normalise_movies(raw, max_movies=300)
    featurizer = DetailFeaturizer(PARAMS).fit(movies)
    new = movies.head(1).assign(tagline="", keywords=[[]], companies=[[]], release_date="", runtime=float("nan"))
    row = featurizer.transform(new)
    on = [featurizer.feature_names[j] for j in row.nonzero()[1]]
    assert set(on) <= {"year:nan", "runtime:nan"}  # no tagline word, keyword, company or real bin
