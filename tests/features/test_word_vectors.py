import numpy as np
import pandas as pd
import pytest

from movie_genres.features.word_vectors import (
    WordVectorsUnavailable,
    load_glove_6b_50d,
    load_word_vectors,
    mean_word_vectors,
    tokenize,
)
from movie_genres.params import WordVectorsParams


@pytest.fixture(scope="module")
def glove():
    return load_glove_6b_50d()


def test_glove_from_the_wheel_is_the_real_400k_vocabulary(glove):
    assert len(glove) == 400_000 and glove.vector_size == 50

    def similarity(a: str, b: str) -> float:
        u, v = glove.vectors[glove.rows([a, b])]
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    # Real GloVe geometry: "king" is nearer to "queen" than to "banana".
    assert similarity("king", "queen") > similarity("king", "banana") + 0.3


def test_a_word_without_a_vector_has_no_row(glove):
    assert glove.rows(["king", "zxqv", "king"]).tolist() == [glove.rows(["king"])[0], -1, glove.rows(["king"])[0]]
    assert glove.rows([]).tolist() == []


def test_tokenize_drops_stopwords_and_punctuation():
    assert tokenize("The Dark Knight, and his city.", lowercase=True) == ["dark", "knight", "city"]


def test_mean_vector_is_the_average_of_known_words(glove):
    means = mean_word_vectors(pd.Series(["A space war between aliens.", "zxqv qqzx!", ""]), glove, lowercase=True)
    expected = glove.vectors[glove.rows(["space", "war", "aliens"])].mean(axis=0)
    np.testing.assert_allclose(means.matrix[0], expected, rtol=1e-6)
    assert means.no_known_word.tolist() == [False, True, True]
    assert not means.matrix[1:].any()


def test_a_word2vec_file_can_replace_glove(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("2 3\nspace 1 0 0\nwar 0 1 0\n")
    params = WordVectorsParams(source="word2vec_file", path=str(path), binary=False, lowercase=False)
    vectors = load_word_vectors(params)
    means = mean_word_vectors(pd.Series(["space war"]), vectors, lowercase=False)
    np.testing.assert_allclose(means.matrix[0], [0.5, 0.5, 0])


def test_a_missing_word2vec_file_says_what_to_do(tmp_path):
    params = WordVectorsParams(
        source="word2vec_file", path=str(tmp_path / "GoogleNews.bin"), binary=True, lowercase=False
    )
    with pytest.raises(WordVectorsUnavailable, match="GoogleNews.bin not found"):
        load_word_vectors(params)
