import json

import numpy as np
import pytest

from tribu.nlp import sentiment
from tribu.nlp.features import FEATURE_CONFIG
from tribu.nlp.sentiment import LABELS, MODELS_DIR, FastModel, Sentiment, analyse


def test_the_shipped_model_loads_and_its_metadata_matches():
    metadata = json.loads((MODELS_DIR / sentiment.METADATA_FILE).read_text())
    assert metadata["features"] == FEATURE_CONFIG
    assert metadata["labels"] == list(LABELS)
    assert set(metadata["languages"]) == {"fr", "en"}
    assert metadata["limit"] == 0
    assert all(0.5 < score <= 1 for score in metadata["val_macro_f1"].values())
    assert (MODELS_DIR / sentiment.MODEL_FILE).stat().st_size < 5_000_000
    model = sentiment.fast_model()
    assert model.languages == ("fr", "en")


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("Je déteste ce service, c'est vraiment nul et honteux", "fr", "negative"),
        ("Merci beaucoup, j'adore, c'est génial ! Bravo à toute l'équipe", "fr", "positive"),
        ("I hate this, worst service ever, terrible", "en", "negative"),
        ("I love it, thank you so much, amazing and great!", "en", "positive"),
    ],
)
def test_clear_examples(text, lang, expected):
    result = analyse(text, lang)
    assert result.label == expected
    assert result.tier == "fast"
    assert result.lang == lang
    assert 1 / 3 < result.score <= 1


def test_other_languages_are_unknown_never_a_guess():
    assert analyse("Das ist wirklich schrecklich", "de") == Sentiment("unknown", 0.0, "fast", "de")
    assert analyse("ok", "und").label == "unknown"
    assert analyse("   ", "fr").label == "unknown"


def test_a_model_trained_with_other_features_is_refused(tmp_path):
    metadata = json.loads((MODELS_DIR / sentiment.METADATA_FILE).read_text())
    metadata["features"] = {**metadata["features"], "buckets": 1024}
    (tmp_path / sentiment.METADATA_FILE).write_text(json.dumps(metadata))
    np.savez_compressed(tmp_path / sentiment.MODEL_FILE, weights_all=np.zeros((1024, 3)))
    with pytest.raises(ValueError, match="retrain"):
        FastModel(tmp_path)
