"""Text normalisation and hashed n-gram features shared by training and inference.

Training (scripts/train_sentiment.py) and inference (tribu.nlp.sentiment) MUST vectorise
texts identically, so both use this module; the feature configuration is stored in the
model's metadata and checked when the model loads.

Features are hashed with CRC-32 (stable across processes, unlike Python's salted `hash`)
into `buckets` slots: no vocabulary to ship, and unseen words cost nothing.
"""

import re
import zlib
from collections import Counter

import numpy as np

FEATURE_CONFIG = {
    "version": 1,
    "buckets": 2**18,
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "negation": True,
    "weighting": "log1p counts, L2-normalised",
}

URL_RE = re.compile(r"https?://\S+|www\.\S+|\bhttp\b")
USER_RE = re.compile(r"@\w+")
# Three or more repeats of a character ("soooo", "!!!!") carry emphasis but fragment the
# vocabulary: squeeze them to two.
ELONGATION_RE = re.compile(r"(.)\1{2,}")
TOKEN_RE = re.compile(r"[#@]?\w+(?:'\w+)?|[^\w\s]")
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})

# A negation marks the following words (until punctuation) with a "neg_" prefix, so
# "pas bon" and "bon" become different features. French: "ne ... pas/plus/jamais/rien";
# "ne"/"n'" alone starts the scope since the second part often follows the verb.
NEGATORS = {
    "ne",
    "n'",
    "pas",
    "plus",
    "jamais",
    "rien",
    "aucun",
    "aucune",
    "sans",
    "not",
    "no",
    "never",
    "nothing",
    "nobody",
    "cannot",
    "without",
}
NEGATION_END = set('.,;:!?()[]"«»')


def normalise(text):
    text = text.translate(APOSTROPHES).lower()
    text = URL_RE.sub(" http ", text)
    text = USER_RE.sub(" @user ", text)
    return ELONGATION_RE.sub(r"\1\1", text)


def tokens(text):
    """Tokens of a normalised text, with English "n't" split off ("don't" -> do, n't)."""
    out = []
    for token in TOKEN_RE.findall(text):
        if token.endswith("n't") and len(token) > 3:
            out.extend((token[:-3], "n't"))
        elif token.startswith(("n'", "l'", "d'", "j'", "qu'", "c'", "s'", "m'", "t'")):
            head, _, tail = token.partition("'")
            out.extend((head + "'", tail))
        else:
            out.append(token)
    return out


def mark_negation(words):
    marked = []
    negated = False
    for word in words:
        if word in NEGATION_END:
            negated = False
            marked.append(word)
        elif word in NEGATORS or word == "n't":
            negated = True
            marked.append(word)
        else:
            marked.append("neg_" + word if negated else word)
    return marked


def feature_strings(text):
    words = tokens(normalise(text))
    features = Counter()
    marked = mark_negation(words)
    for word in marked:
        features["w:" + word] += 1
    for first, second in zip(marked, marked[1:], strict=False):
        features["b:" + first + " " + second] += 1
    low, high = FEATURE_CONFIG["char_ngrams"]
    for word in words:
        if len(word) == 1 and not word.isalnum():
            continue
        padded = " " + word + " "
        size = len(padded)
        for n in range(low, min(high, size) + 1):
            for start in range(size - n + 1):
                features["c:" + padded[start : start + n]] += 1
    return features


def vectorise(text, buckets=FEATURE_CONFIG["buckets"]):
    """(indices, values): the sparse, L2-normalised feature vector of `text`."""
    slots = Counter()
    for feature, count in feature_strings(text).items():
        slots[zlib.crc32(feature.encode()) % buckets] += count
    if not slots:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    indices = np.fromiter(slots.keys(), dtype=np.int64, count=len(slots))
    values = np.log1p(np.fromiter(slots.values(), dtype=np.float32, count=len(slots)))
    values /= np.sqrt(np.dot(values, values))
    return indices, values
