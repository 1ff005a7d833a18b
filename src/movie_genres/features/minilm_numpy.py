"""all-MiniLM-L6-v2 in NumPy: `SentenceEncoder`'s embeddings (to about 1e-7) without TensorFlow.

For predict's one-movie calls (`predict --engine numpy`): importing TensorFlow and keras-hub, building
the Keras model and tracing it took about 4 s of a 6.7 s call; reading the weights here takes 0.1 s and
a text about 0.06 s. The network is transformers' BertModel (post-LayerNorm blocks, exact GELU)
followed by sentence-transformers' mean pooling and L2 normalisation. Each text runs alone at its own
length, so there is no padding to mask; the word pieces are `WordPieces`', the same as the Keras path's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.special import erf

from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.features.sentence_encoder import WordPieces


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = np.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gamma + beta


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class NumpySentenceEncoder(WordPieces):
    """all-MiniLM-L6-v2 as sentence-transformers runs it, in NumPy: `encode(texts)` -> (n, 384) unit vectors."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file

        super().__init__(model_dir)
        self.config = json.loads((model_dir / "config.json").read_text())
        if self.config.get("model_type") != "bert" or self.config.get("hidden_act") != "gelu":
            raise NumpyEngineUnsupported(
                f"{model_dir} is no BERT with exact GELU (model_type {self.config.get('model_type')!r}, "
                f"hidden_act {self.config.get('hidden_act')!r}): predict it with --engine tensorflow"
            )
        self.weights = load_file(model_dir / "model.safetensors")

    @property
    def dimension(self) -> int:
        return int(self.config["hidden_size"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of `texts`, in their order."""
        embeddings = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, ids in enumerate(self.token_ids(texts)):
            hidden = self._hidden_states(np.array([self.cls_id, *ids, self.sep_id]))
            pooled = hidden.mean(axis=0)
            embeddings[row] = pooled / np.linalg.norm(pooled)
        return embeddings

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self.weights
        return _layer_norm(x, w[f"{name}.weight"], w[f"{name}.bias"], self.config["layer_norm_eps"])

    def _hidden_states(self, token_ids: np.ndarray) -> np.ndarray:
        """The last layer's states of one text's tokens ([CLS] and [SEP] included): (tokens, hidden)."""
        w, heads, n = self.weights, self.config["num_attention_heads"], len(token_ids)
        x = (
            w["embeddings.word_embeddings.weight"][token_ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        for layer in range(self.config["num_hidden_layers"]):
            block = f"encoder.layer.{layer}"
            q, k, v = (
                self._dense(x, f"{block}.attention.self.{part}").reshape(n, heads, -1).transpose(1, 0, 2)
                for part in ("query", "key", "value")
            )
            attention = _softmax(q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1], dtype=np.float32))
            context = (attention @ v).transpose(1, 0, 2).reshape(n, -1)
            x = self._norm(
                x + self._dense(context, f"{block}.attention.output.dense"), f"{block}.attention.output.LayerNorm"
            )
            inner = self._dense(x, f"{block}.intermediate.dense")
            inner = inner * 0.5 * (1 + erf(inner / np.sqrt(2, dtype=np.float32)))
            x = self._norm(x + self._dense(inner, f"{block}.output.dense"), f"{block}.output.LayerNorm")
        return x
