import json
import subprocess
import sys

import numpy as np
import pytest

from tribu.nlp import features, sentiment
from tribu.nlp.features import FEATURE_CONFIG, vectorise
from tribu.nlp.sentiment import LABELS, MODELS_DIR, FastModel, Sentiment, analyse, analyse_many

CLEAR = [
    ("Je déteste ce service, c'est vraiment nul et honteux", "fr", "negative"),
    ("Merci beaucoup, j'adore, c'est génial ! Bravo à toute l'équipe", "fr", "positive"),
    ("I hate this, worst service ever, terrible", "en", "negative"),
    ("I love it, thank you so much, amazing and great!", "en", "positive"),
]


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
    assert model.weights["fr"].shape == (FEATURE_CONFIG["buckets"], len(LABELS))


@pytest.mark.parametrize("text, lang, expected", CLEAR)
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


def test_analyse_many_equals_analyse_item_by_item():
    texts = [text for text, _lang, _label in CLEAR]
    texts += ["Das ist wirklich schrecklich", "", "ok", "Bof, pas terrible ce matin..."]
    langs = [lang for _text, lang, _label in CLEAR] + ["de", "fr", "und", "fr"]
    assert analyse_many(texts, langs) == [
        analyse(text, lang) for text, lang in zip(texts, langs, strict=True)
    ]
    assert analyse_many(texts[:2], "fr") == [analyse(texts[0], "fr"), analyse(texts[1], "fr")]
    assert analyse_many([], []) == []


def test_analyse_many_wants_one_language_per_text():
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        analyse_many(["a", "b"], ["fr"])


def test_only_the_opening_of_a_long_text_is_read():
    opening = "Quel service déplorable, je suis furieux. " * 40
    assert len(opening) > FEATURE_CONFIG["max_chars"]
    kept = vectorise(opening + "Merci, c'est génial, j'adore !" * 100)
    assert all(np.array_equal(a, b) for a, b in zip(kept, vectorise(opening), strict=True))


def test_features_count_repeats_and_are_normalised():
    indices, values = vectorise("super super super")
    assert len(indices) == len(set(indices.tolist()))
    assert np.isclose(np.linalg.norm(values), 1)
    assert vectorise("")[0].size == 0 and vectorise("   ")[0].size == 0


def test_negation_marks_the_words_it_scopes():
    words = features.mark_negation(features.tokens(features.normalise("Pas bon, mais utile")))
    assert words == ["pas", "neg_bon", ",", "mais", "utile"]
    assert features.tokens(features.normalise("I don't like https://x.co @bob")) == [
        "i",
        "do",
        "n't",
        "like",
        "http",
        "@user",
    ]


def test_literal_unicode_escapes_read_as_their_characters():
    # Doubly JSON-encoded exports leave "\\u2019" in the text (as in some XLM-T tweets).
    assert features.decode_escapes(r"I\u2019m fine\u002c \ud83d\ude02") == "I’m fine, 😂"
    # A lone surrogate cannot be a character: it stays as written, and the text encodes.
    assert features.decode_escapes(r"a \ud83d b") == r"a \ud83d b"
    assert features.decode_escapes("plain, \\ and \\n") == "plain, \\ and \\n"
    assert np.array_equal(vectorise(r"I\u2019m fine")[0], vectorise("I’m fine")[0])


def test_hashing_is_stable_across_processes():
    # Python's own hash() is salted per process: a model trained in one process would score
    # garbage in another. The features must not depend on it.
    text = "Très déçu par la livraison 😡 #colère"
    code = (
        "from tribu.nlp.features import vectorise; import sys; "
        f"i, v = vectorise({text!r}); print(i.tolist(), [round(float(x), 5) for x in v])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    indices, values = vectorise(text)
    assert result.stdout.strip() == f"{indices.tolist()} {[round(float(x), 5) for x in values]}"


def test_a_model_trained_with_other_features_is_refused(tmp_path):
    metadata = json.loads((MODELS_DIR / sentiment.METADATA_FILE).read_text())
    metadata["features"] = {**metadata["features"], "buckets": 1024}
    (tmp_path / sentiment.METADATA_FILE).write_text(json.dumps(metadata))
    np.savez_compressed(tmp_path / sentiment.MODEL_FILE, weights_all=np.zeros((1024, 3)))
    with pytest.raises(ValueError, match="retrain"):
        FastModel(tmp_path)
