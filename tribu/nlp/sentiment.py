"""Sentiment of a text: the fast tier (hashed n-grams + logistic regression, fr and en).

Languages the model was not trained on get `unknown` with score 0: a guess in another
language would be presented as fact in dashboards and alerts.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tribu.nlp.features import FEATURE_CONFIG, vectorise

LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
FAST = "fast"
MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = "sentiment-fast.npz"
METADATA_FILE = "sentiment-fast.json"


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


def analyse(text, lang):
    return fast_model().analyse(text, lang)
