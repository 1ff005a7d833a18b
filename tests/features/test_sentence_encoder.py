"""The Keras all-MiniLM-L6-v2 against sentence-transformers' own output, and its two fixes."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import erf

from movie_genres.features import sentence_encoder
from movie_genres.features.sentence_encoder import (
    ModelNotFound,
    SentenceEncoder,
    WordPieces,
    find_model_dir,
    length_batches,
    max_sequence_length,
    movie_texts,
)
from tests.conftest import ROOT

REFERENCE = json.loads((ROOT / "tests/fixtures/minilm_reference.json").read_text())["texts"]


def test_embeddings_match_sentence_transformers(encoder):
    """Reference vectors made once by sentence-transformers (tests/fixtures/make_minilm_reference.py)."""
    texts = [entry["text"] for entry in REFERENCE]
    embeddings = encoder.encode(texts)
    reference = np.array([entry["embedding"] for entry in REFERENCE])
    cosines = np.sum(embeddings * reference, axis=1) / np.linalg.norm(reference, axis=1)
    assert embeddings.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    assert cosines.min() >= 0.9999, dict(zip(texts, cosines.round(6), strict=True))
    # Tighter, per component: tanh-approximated GELU still scores cosines of 0.999998 but is off
    # by up to 3e-4 here; the exact one by about 1e-7.
    np.testing.assert_allclose(embeddings, reference, atol=2e-5)


def test_word_pieces_match_the_reference_tokenizer(encoder):
    """Same ids as BERT's uncased tokenizer, [CLS] and [SEP] around, cut at 256 tokens."""
    for entry, ids in zip(REFERENCE, encoder.token_ids([e["text"] for e in REFERENCE]), strict=True):
        assert [101, *ids, 102] == entry["token_ids"], entry["text"]
    assert max(len(entry["token_ids"]) for entry in REFERENCE) == encoder.max_tokens == 256


def test_accents_are_stripped_not_unknown(encoder):
    unknown = encoder.tokenizer.token_to_id("[UNK]")
    accented, plain = encoder.token_ids(["Amélie, naïve Zürich café", "amelie, naive zurich cafe"])
    assert unknown not in accented
    assert accented == plain


def test_normalization_is_berts_not_nfkc_casefold():
    """Control and zero-width characters go, spaces become " ", accents go; "…" and "ﬁ" stay."""
    text = "Amélie\u2026\u200bX\u00a0Y\x07 ﬁ Straße"
    assert WordPieces(find_model_dir()).normalize(text) == "amelie\u2026x y ﬁ straße"


def test_feed_forward_activation_is_exact_gelu(encoder):
    """The intermediate dense layer of every block computes x * Phi(x) with erf, not the tanh form."""
    x = np.random.default_rng(0).normal(size=(8, 384)).astype(np.float32)
    for block in encoder.embedder.backbone.transformer_layers:
        dense = block._feedforward_intermediate_dense
        pre = x @ np.asarray(dense.kernel) + np.asarray(dense.bias)
        exact = 0.5 * pre * (1 + erf(pre / np.sqrt(2)))
        tanh_form = 0.5 * pre * (1 + np.tanh(np.sqrt(2 / np.pi) * (pre + 0.044715 * pre**3)))
        out = np.asarray(dense(x))
        np.testing.assert_allclose(out, exact, atol=2e-5)
        assert np.abs(out - tanh_form).max() > 1e-4  # the check tells the two forms apart


def test_a_text_embeds_the_same_bits_alone_and_in_any_batch(encoder):
    """Full batches padded to steps of 16 tokens: the same bits whatever else is in the batch, and where
    (what lets the feature cache reuse an embedding computed in another run)."""
    texts = [entry["text"] for entry in REFERENCE]
    alone = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_array_equal(encoder.encode(texts), alone)
    np.testing.assert_array_equal(encoder.encode(texts[::-1])[::-1], alone)
    np.testing.assert_array_equal(encoder.encode(texts[1::2] + texts[::2]), np.vstack([alone[1::2], alone[::2]]))
    np.testing.assert_allclose(encoder.encode(texts, bucket_by_length=False), alone, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(encoder):
    assert encoder.encode([]).shape == (0, 384)


def test_length_batches_pad_to_steps_of_16_tokens_and_cover_every_text():
    lengths = [30, 5, 12, 5, 40, 7, 31, 250, 16]
    batches = [(batch.tolist(), length) for batch, length in length_batches(lengths, batch_size=3, limit=256)]
    assert batches == [([1, 2, 3], 16), ([5, 8], 16), ([0, 6], 32), ([4], 48), ([7], 256)]
    assert length_batches([250], batch_size=3, limit=250)[0][1] == 250  # never beyond the model's limit


def test_movie_texts_overview_or_title_and_overview():
    movies = pd.DataFrame({"title": ["Jaws", "Up"], "overview": ["A shark.", "A house flies."]})
    assert movie_texts(movies, "overview") == ["A shark.", "A house flies."]
    assert movie_texts(movies, "title_overview") == ["Jaws. A shark.", "Up. A house flies."]


def test_max_sequence_length_is_the_model_folders_else_keras_hubs_default(tmp_path):
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 128, "do_lower_case": false}')
    assert max_sequence_length(tmp_path) == 128
    (tmp_path / "sentence_bert_config.json").write_text("{}")
    assert max_sequence_length(tmp_path) == 256


def test_a_model_folder_without_weights_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFound, match=r"lacks model\.safetensors, vocab\.txt"):
        find_model_dir(tmp_path)


@pytest.mark.parametrize("token", ["[CLS]", "[PAD]"])
def test_a_vocabulary_without_berts_special_tokens_is_named(tmp_path, token):
    vocab = (find_model_dir() / "vocab.txt").read_text().split("\n")
    (tmp_path / "vocab.txt").write_text("\n".join(word for word in vocab if word != token))
    for name in ("tokenizer_config.json", "sentence_bert_config.json"):
        (tmp_path / name).write_bytes((find_model_dir() / name).read_bytes())
    with pytest.raises(ModelNotFound, match=r"vocab\.txt.*not a BERT vocabulary"):
        WordPieces(tmp_path)


def test_a_missing_model_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sentence_encoder, "MODEL_PACKAGE", "no_such_model_package")
    with pytest.raises(ModelNotFound, match=r"requirements-nodeps\.txt.*embed_text\.model_dir"):
        find_model_dir()


def test_the_stage_names_a_missing_model_folder(in_tmp_repo):
    from stages import embed_text

    raw = yaml.safe_load((in_tmp_repo / "params.yaml").read_text())
    raw["embed_text"]["model_dir"] = "no/such/folder"
    (in_tmp_repo / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ModelNotFound, match=r"no/such/folder .*lacks config\.json"):
        embed_text.main()


def test_a_missing_safetensors_says_how_to_install_it(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "safetensors" else find_spec(name, *a)
    )
    with pytest.raises(ModuleNotFoundError, match=r"safetensors.*requirements\.txt"):
        SentenceEncoder(find_model_dir())
