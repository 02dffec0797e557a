"""Train Tribu's fast sentiment tier: multinomial logistic regression on hashed n-grams.

Reproducible: fixed seed, deterministic full-batch optimisation, plain numpy. Trains on the
*train* files of ../shared/data/sentiment only and reports macro-F1 on the *val* files.

    .venv/bin/python scripts/train_sentiment.py                     # writes tribu/nlp/models/
    .venv/bin/python scripts/train_sentiment.py --mode bilingual --no-deft --out /tmp/m
    .venv/bin/python scripts/train_sentiment.py --limit 100 --epochs 5 --out /tmp/m  # smoke
"""

import argparse
import csv
import datetime
import json
import os
import sys
import time
from pathlib import Path

# The matrices here are small: BLAS threads cost more in hand-offs than they save, and on a
# shared machine they oversubscribe the cores (measured: 8x slower training under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tribu.nlp.features import FEATURE_CONFIG, decode_escapes, vectorise  # noqa: E402
from tribu.nlp.sentiment import LABELS, METADATA_FILE, MODEL_FILE  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sentiment"
DEFAULT_OUT = ROOT / "tribu" / "nlp" / "models"
LANGUAGES = ("fr", "en")
# DEFT 2017 uses objective/mixed: objective is neutral; a mixed tweet has no single label.
DEFT_LABELS = {"objective": "neutral", "positive": "positive", "negative": "negative"}


def read_tsv(path, label_map=None):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts, labels = [], []
    for row in rows:
        label = (label_map or {k: k for k in LABELS}).get(row["label"])
        if label is None:
            continue
        # Some XLM-T tweets hold literal "\u2019" escapes; both tiers decode them at run
        # time too, and training sees what they see.
        texts.append(decode_escapes(row["text"]))
        labels.append(LABELS.index(label))
    return texts, np.array(labels, dtype=np.int64)


def sample(texts, labels, limit, rng):
    if not limit or limit >= len(texts):
        return texts, labels
    keep = np.sort(rng.choice(len(texts), size=limit, replace=False))
    return [texts[i] for i in keep], labels[keep]


def sparse(texts, buckets):
    """Documents as one CSR-like triple: flat indices, values and the document of each."""
    indices, values, docs = [], [], []
    for doc, text in enumerate(texts):
        idx, val = vectorise(text, buckets)
        indices.append(idx)
        values.append(val)
        docs.append(np.full(len(idx), doc, dtype=np.int64))
    return np.concatenate(indices), np.concatenate(values), np.concatenate(docs), len(texts)


def logits(weights, bias, matrix):
    indices, values, docs, count = matrix
    contributions = weights[indices] * values[:, None]
    out = np.zeros((count, weights.shape[1]))
    for column in range(weights.shape[1]):
        out[:, column] = np.bincount(docs, contributions[:, column], minlength=count)
    return out + bias


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train(matrix, labels, buckets, epochs, l2, rate):
    """Full-batch Adam on the L2-regularised cross-entropy (deterministic)."""
    classes = len(LABELS)
    weights = np.zeros((buckets, classes))
    bias = np.zeros(classes)
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    onehot = np.eye(classes)[labels]
    # Balanced class weights: DEFT 2017 has three times more neutral than positive tweets.
    frequency = np.bincount(labels, minlength=classes)
    sample_weight = (len(labels) / (classes * np.maximum(frequency, 1)))[labels][:, None]
    indices, values, docs, count = matrix
    seen = np.unique(indices)
    for step in range(1, epochs + 1):
        error = sample_weight * (softmax(logits(weights, bias, matrix)) - onehot) / count
        grad_w = np.zeros_like(weights)
        for column in range(classes):
            grad_w[:, column] = np.bincount(
                indices, values * error[docs, column], minlength=buckets
            )
        grad_w[seen] += l2 * weights[seen]
        grad_b = error.sum(axis=0)
        for param, grad, m, v in ((weights, grad_w, m_w, v_w), (bias, grad_b, m_b, v_b)):
            if param is weights:
                # Only buckets that occur in training move; the rest stay exactly zero,
                # which keeps the compressed artifact small.
                grad, m, v, target = grad[seen], m[seen], v[seen], seen
            else:
                target = slice(None)
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad**2
            (m_w if param is weights else m_b)[target] = m
            (v_w if param is weights else v_b)[target] = v
            m_hat = m / (1 - 0.9**step)
            v_hat = v / (1 - 0.999**step)
            param[target] -= rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return weights, bias


def macro_f1(truth, predicted):
    scores = []
    for label in range(len(LABELS)):
        tp = np.sum((predicted == label) & (truth == label))
        fp = np.sum((predicted == label) & (truth != label))
        fn = np.sum((predicted != label) & (truth == label))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--mode", choices=["per-language", "bilingual"], default="bilingual")
    parser.add_argument("--deft", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--l2", type=float, default=1e-5)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--limit", type=int, default=0, help="train on N texts per file (smoke)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    buckets = FEATURE_CONFIG["buckets"]
    started = time.perf_counter()

    train_sets, val_sets, sources = {}, {}, {}
    for lang in LANGUAGES:
        name = f"xlmt-{lang}-train.tsv"
        texts, labels = sample(*read_tsv(args.data / name), args.limit, rng)
        sources[lang] = [name]
        if lang == "fr" and args.deft:
            extra_texts, extra_labels = sample(
                *read_tsv(args.data / "deft2017-fr-train.tsv", DEFT_LABELS), args.limit, rng
            )
            texts, labels = texts + extra_texts, np.concatenate([labels, extra_labels])
            sources[lang].append("deft2017-fr-train.tsv (objective->neutral, mixed dropped)")
        train_sets[lang] = (texts, labels)
        val_sets[lang] = read_tsv(args.data / f"xlmt-{lang}-val.tsv")

    models = {}
    if args.mode == "bilingual":
        texts = train_sets["fr"][0] + train_sets["en"][0]
        labels = np.concatenate([train_sets["fr"][1], train_sets["en"][1]])
        shared = train(sparse(texts, buckets), labels, buckets, args.epochs, args.l2, args.rate)
        models = {lang: shared for lang in LANGUAGES}
    else:
        for lang, (texts, labels) in train_sets.items():
            matrix = sparse(texts, buckets)
            models[lang] = train(matrix, labels, buckets, args.epochs, args.l2, args.rate)

    scores = {}
    for lang, (texts, labels) in val_sets.items():
        weights, bias = models[lang]
        weights = weights.astype(np.float16).astype(np.float64)  # score what is shipped
        predicted = logits(weights, bias, sparse(texts, buckets)).argmax(axis=1)
        scores[lang] = round(macro_f1(labels, predicted), 4)
        print(f"{lang}: val macro-F1 {scores[lang]:.4f} ({len(texts)} texts)")

    args.out.mkdir(parents=True, exist_ok=True)
    # A bilingual model is stored once, under "all"; `weight_sets` maps languages to it.
    weight_sets = {lang: "all" if args.mode == "bilingual" else lang for lang in LANGUAGES}
    arrays = {}
    for lang, (weights, bias) in models.items():
        arrays[f"weights_{weight_sets[lang]}"] = weights.astype(np.float16)
        arrays[f"bias_{weight_sets[lang]}"] = bias.astype(np.float32)
    np.savez_compressed(args.out / MODEL_FILE, **arrays)
    metadata = {
        "model": "multinomial logistic regression on hashed word and character n-grams",
        "tier": "fast",
        "labels": list(LABELS),
        "languages": list(LANGUAGES),
        "mode": args.mode,
        "weight_sets": weight_sets,
        "training_data": sources,
        "validation_data": {lang: f"xlmt-{lang}-val.tsv" for lang in LANGUAGES},
        "val_macro_f1": scores,
        "trained_on": datetime.date.today().isoformat(),
        "seed": args.seed,
        "limit": args.limit,
        "hyperparameters": {"epochs": args.epochs, "l2": args.l2, "adam_rate": args.rate},
        "features": FEATURE_CONFIG,
        "command": "scripts/train_sentiment.py " + " ".join(argv if argv else sys.argv[1:]),
    }
    (args.out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    size = (args.out / MODEL_FILE).stat().st_size
    elapsed = time.perf_counter() - started
    print(f"wrote {args.out / MODEL_FILE} ({size / 1e6:.2f} MB) in {elapsed:.0f} s")
    return scores


if __name__ == "__main__":
    main()
