"""Text normalisation and hashed n-gram features shared by training and inference.

Training (scripts/train_sentiment.py) and inference (tribu.nlp.sentiment) MUST vectorise
texts identically, so both use this module; the feature configuration is stored in the
model's metadata and checked when the model loads.

The fast tier runs on every ingested mention with a budget of well under a millisecond, so
the features are computed with as little Python per character as possible:

- words: one CRC-32 per token (stable across processes, unlike Python's salted `hash`);
  bigrams are combined from the two word hashes with integer arithmetic in numpy;
- characters: n-grams of the whole normalised text (spaces included, so they also capture
  word boundaries) are rolling polynomial hashes over the code points, all in numpy.

Everything is hashed into `buckets` slots: no vocabulary to ship, unseen words cost nothing.
Only the first `max_chars` characters are read, so the cost stays bounded whatever the
article's length (bench/nlp.py: about 400 µs for 1,000 characters, half that for 500). The
XLM-T tweets are at most 146 characters, so 500 leaves them whole; cutting them to 100
characters costs 0.03 to 0.05 macro-F1, and an article's title and lede carry its tone.
"""

import re
import zlib

import numpy as np

FEATURE_CONFIG = {
    "version": 2,
    "buckets": 2**18,
    "max_chars": 500,
    "word_ngrams": [1, 2],
    "char_ngrams": [1, 4],
    "negation": True,
    "weighting": "log1p counts, L2-normalised",
}

# Starting each alternative with a literal letter lets the regex engine skip ahead quickly;
# a leading \b made this pattern 30 times slower on article texts.
URL_RE = re.compile(r"h(?:ttps?://\S+|ttp\b)|www\.\S+")
USER_RE = re.compile(r"@\w+")
# Three or more repeats of a character ("soooo", "!!!!") carry emphasis but fragment the
# vocabulary: squeeze them to two.
ELONGATION_RE = re.compile(r"(.)\1{2,}")
SPACES_RE = re.compile(r"\s+")
# Literal "\u2019" escapes, as left in text by exports that JSON-encode twice (some XLM-T
# tweets hold them): a surrogate pair first, so emoji decode whole; a lone surrogate stays.
ESCAPE_RE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u([0-9a-f]{4})", re.I)
TOKEN_RE = re.compile(r"[#@]?\w+(?:'\w+)?|[^\w\s]")
APOSTROPHES = ("’", "‘", "`", "´")
ELISIONS = ("n'", "l'", "d'", "j'", "qu'", "c'", "s'", "m'", "t'")

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

# Hash mixing (64-bit arithmetic wraps around in numpy, which is what a hash wants).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
CHAR_BASE = np.uint64(0x100000001B3)
BIGRAM_BASE = np.uint64(0xC2B2AE3D27D4EB4F)
WORD_SEED = np.uint64(0x165667B19E3779F9)
CHAR_SEED = np.uint64(0x27D4EB2F165667C5)


def _unescaped(match):
    if match.group(3):
        code = int(match.group(3), 16)
        return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def decode_escapes(text):
    """`text` with literal "\\uXXXX" escapes replaced by their characters ("i\\u2019m" ->
    "i’m"), so a doubly encoded mention reads like the others."""
    return ESCAPE_RE.sub(_unescaped, text) if "\\u" in text else text


def normalise(text, max_chars=FEATURE_CONFIG["max_chars"]):
    """Lower-cased text with links and users masked as in the training tweets."""
    text = decode_escapes(text[:max_chars])
    for apostrophe in APOSTROPHES:  # str.replace is ~100x faster than str.translate here
        text = text.replace(apostrophe, "'")
    text = text.lower()
    text = URL_RE.sub(" http ", text)
    text = USER_RE.sub(" @user ", text)
    return ELONGATION_RE.sub(r"\1\1", text)


def tokens(text):
    """Tokens of a normalised text, with English "n't" split off ("don't" -> do, n't)."""
    out = []
    for token in TOKEN_RE.findall(text):
        if token.endswith("n't") and len(token) > 3:
            out.extend((token[:-3], "n't"))
        elif token.startswith(ELISIONS):
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


def _bucket(hashes, buckets):
    # Fibonacci hashing: the high bits of a multiplication by the golden ratio are well
    # mixed, which the low bits of a polynomial hash are not.
    shift = np.uint64(64 - buckets.bit_length() + 1)
    return ((hashes * GOLDEN) >> shift).astype(np.int64)


def hashed_features(text, buckets=FEATURE_CONFIG["buckets"]):
    """Bucket index of every feature occurrence in `text` (repeats included)."""
    normal = normalise(text)
    marked = mark_negation(tokens(normal))
    if not marked:
        return np.zeros(0, dtype=np.int64)
    words = np.fromiter(
        (zlib.crc32(word.encode()) for word in marked), dtype=np.uint64, count=len(marked)
    )
    words = words + WORD_SEED
    parts = [words, words[:-1] * BIGRAM_BASE + words[1:]]
    # Characters: the normalised text with whitespace squeezed, padded with spaces.
    squeezed = " " + SPACES_RE.sub(" ", normal).strip() + " "
    codes = np.frombuffer(squeezed.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    low, high = FEATURE_CONFIG["char_ngrams"]
    rolling = np.full(len(codes), CHAR_SEED, dtype=np.uint64)
    for n in range(1, high + 1):
        if n > len(codes):
            break
        # rolling[i] hashes codes[i : i + n]; order n is a polynomial of degree n in the
        # seed, so orders never share a hash by construction.
        rolling = rolling[: len(codes) - n + 1] * CHAR_BASE + codes[n - 1 :]
        if n >= low:
            parts.append(rolling)
    return _bucket(np.concatenate(parts), buckets)


def vectorise(text, buckets=FEATURE_CONFIG["buckets"]):
    """(indices, values): the sparse, L2-normalised feature vector of `text`."""
    indices, counts = np.unique(hashed_features(text, buckets), return_counts=True)
    if not len(indices):
        return indices, np.zeros(0, dtype=np.float32)
    values = np.log1p(counts.astype(np.float32))
    values /= np.sqrt(np.dot(values, values))
    return indices, values
