import json
import subprocess
import sys
from pathlib import Path

from tribu.nlp import sentiment
from tribu.nlp.sentiment import FastModel

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_sentiment.py"


def test_training_runs_end_to_end_on_a_small_sample(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--limit", "60", "--epochs", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "fr: val macro-F1" in result.stdout and "en: val macro-F1" in result.stdout
    metadata = json.loads((tmp_path / sentiment.METADATA_FILE).read_text())
    assert metadata["limit"] == 60
    assert metadata["seed"] == 20260
    assert set(metadata["val_macro_f1"]) == {"fr", "en"}
    model = FastModel(tmp_path)
    assert model.analyse("Super, merci !", "fr").label in sentiment.LABELS
