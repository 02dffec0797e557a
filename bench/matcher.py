"""Topic matcher throughput: N topics against M documents, on one core, offline.

Generates a synthetic French/English corpus (Zipf-distributed vocabulary, brand names,
hashtags, handles, news sites; tweets and news snippets of 20 to 80 words) and topic
queries in the shapes community managers write (brand OR hashtag, exclusions, title:,
site:, NEAR/5, wildcards, lang:). Prints JSON lines: build time, documents per second for
the Matcher (median of --runs) and for a naive loop calling `evaluate` for every query on
a sample (the baseline), peak memory, matches per document.

Two scenarios (--scenario, both by default): "realistic" (REALISTIC_SHAPES: rare brand,
product, handle and hashtag names, some sector keywords) and "stress" (the first mix,
over mid-frequency words: ~28 candidates and ~6 matches per document).

    .venv/bin/python bench/matcher.py [--topics 10000] [--docs 100000] [--runs 3]
    .venv/bin/python bench/matcher.py --profile   # cProfile of one matching run
"""

import argparse
import contextlib
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tribu.listening.query import Document, Matcher, QueryError, evaluate, parse  # noqa: E402

FRENCH = [
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "un",
    "une",
    "et",
    "en",
    "à",
    "au",
    "aux",
    "pour",
    "par",
    "sur",
    "dans",
    "avec",
    "est",
    "sont",
    "a",
    "ont",
    "ce",
    "cette",
    "ces",
    "qui",
    "que",
    "quoi",
    "il",
    "elle",
    "ils",
    "nous",
    "vous",
    "on",
    "pas",
    "plus",
    "très",
    "bien",
    "tout",
    "tous",
    "comme",
    "mais",
    "ou",
    "donc",
    "car",
    "nouveau",
    "nouvelle",
    "nouvelles",
    "maison",
    "lumière",
    "lampe",
    "luminaire",
    "design",
    "prix",
    "promo",
    "soldes",
    "boutique",
    "magasin",
    "livraison",
    "commande",
    "client",
    "service",
    "qualité",
    "produit",
    "collection",
    "été",
    "hiver",
    "salon",
    "cuisine",
    "chambre",
    "bureau",
    "jardin",
    "déco",
    "décoration",
    "meuble",
    "table",
    "chaise",
    "canapé",
    "l'avion",
    "l'école",
    "d'accord",
    "aujourd'hui",
    "qu'il",
    "c'est",
    "n'est",
    "j'adore",
    "s'il",
    "jusqu'à",
    "lorsqu'on",
    "retard",
    "grève",
    "train",
    "voyage",
    "vacances",
    "paris",
    "lyon",
    "marseille",
    "bordeaux",
    "lille",
    "nantes",
    "toulouse",
    "économie",
    "entreprise",
    "marché",
    "emploi",
    "salariés",
    "politique",
    "gouvernement",
    "président",
    "ministre",
    "réforme",
    "élection",
    "santé",
    "hôpital",
    "école",
    "université",
    "étudiants",
    "recherche",
    "climat",
    "énergie",
    "électricité",
    "chauffage",
    "écologie",
    "environnement",
    "recyclage",
    "vélo",
    "voiture",
    "transport",
    "avis",
    "problème",
    "panne",
    "remboursement",
    "déçu",
    "génial",
    "super",
    "merci",
    "bravo",
    "enfin",
    "jamais",
    "toujours",
    "encore",
]
ENGLISH = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "was",
    "be",
    "at",
    "by",
    "this",
    "are",
    "or",
    "from",
    "an",
    "but",
    "not",
    "have",
    "has",
    "had",
    "they",
    "you",
    "we",
    "he",
    "she",
    "his",
    "her",
    "its",
    "our",
    "their",
    "will",
    "can",
    "all",
    "about",
    "more",
    "new",
    "one",
    "so",
    "if",
    "what",
    "when",
    "which",
    "who",
    "just",
    "get",
    "like",
    "lamp",
    "light",
    "home",
    "design",
    "price",
    "sale",
    "shop",
    "store",
    "delivery",
    "order",
    "customer",
    "service",
    "quality",
    "product",
    "collection",
    "summer",
    "winter",
    "living",
    "kitchen",
    "bedroom",
    "office",
    "garden",
    "furniture",
    "table",
    "chair",
    "sofa",
    "brand",
    "launch",
    "review",
    "great",
    "love",
    "hate",
    "broken",
    "refund",
    "support",
    "issue",
    "problem",
    "delay",
    "strike",
    "train",
    "travel",
    "holiday",
    "london",
    "paris",
    "economy",
    "business",
    "market",
    "jobs",
    "workers",
    "policy",
    "government",
    "president",
    "minister",
    "election",
    "health",
    "hospital",
    "school",
    "university",
    "students",
    "research",
    "climate",
    "energy",
    "electricity",
    "heating",
    "ecology",
    "environment",
    "recycling",
    "bike",
    "car",
    "transport",
    "opinion",
    "awesome",
    "thanks",
    "finally",
    "never",
    "always",
]
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "go",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "pe",
    "pi",
    "po",
    "pu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "za",
    "zo",
    "lan",
    "ler",
    "mon",
    "son",
    "tin",
    "ver",
    "vor",
    "bel",
    "cal",
    "dor",
    "fer",
    "mar",
    "par",
    "por",
    "tel",
]
DOMAINS = [
    "lemonde.fr",
    "lefigaro.fr",
    "liberation.fr",
    "bbc.co.uk",
    "theguardian.com",
    "nytimes.com",
    "example.org",
    "blog.example.com",
    "news.ycombinator.com",
    "reddit.com",
    "mastodon.social",
    "bsky.app",
    "ouest-france.fr",
    "20minutes.fr",
]
NETWORKS = ["web", "mastodon", "bluesky", "reddit", "hackernews"]


def make_vocabulary(rng, size):
    """Real words first (the most frequent), then invented ones for the long tail."""
    words = list(dict.fromkeys(FRENCH + ENGLISH))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(size, exponent=1.05):
    cumulative, total = [], 0.0
    for rank in range(1, size + 1):
        total += 1.0 / rank**exponent
        cumulative.append(total)
    return cumulative


def make_brands(rng, vocabulary, count):
    brands = []
    for _ in range(count):
        first = rng.choice(vocabulary[400:5000]).capitalize()
        second = rng.choice(vocabulary[400:5000]).capitalize()
        brands.append((f"{first} {second}", (first + second).lower()))
    return brands


def make_rare_brands(rng, vocabulary, count):
    """Invented names that are not words of the corpus: "Velorama Tisane" / "veloramatisane"."""
    taken, brands = set(vocabulary), []
    while len(brands) < count:
        first, second = (
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))) for _ in range(2)
        )
        if first in taken or second in taken:
            continue
        taken.update((first, second))
        brands.append((f"{first.capitalize()} {second.capitalize()}", first + second))
    return brands


def make_handles(rng, vocabulary):
    return [f"@{w}{rng.randint(1, 99)}" for w in vocabulary[300:800]]


def make_documents(rng, count, vocabulary, weights, brands, handles=None):
    documents = []
    if handles is None:
        handles = make_handles(rng, vocabulary)
    for _ in range(count):
        size = rng.randint(20, 80)
        words = rng.choices(vocabulary, cum_weights=weights, k=size)
        if rng.random() < 0.2:  # a brand is mentioned
            name, tag = rng.choice(brands)
            words.insert(rng.randrange(len(words)), name if rng.random() < 0.7 else "#" + tag)
        if rng.random() < 0.3:
            words.append("#" + rng.choice(vocabulary[200:3000]))
        if rng.random() < 0.2:
            words.insert(0, rng.choice(handles))
        text = " ".join(words)
        is_news = rng.random() < 0.5
        title = " ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(5, 12)))
        domain = rng.choice(DOMAINS)
        documents.append(
            Document(
                text=text[0].upper() + text[1:] + ".",
                title=title.capitalize() if is_news else "",
                author=rng.choice(handles) if not is_news else "",
                url=f"https://{rng.choice(['www.', ''])}{domain}/{rng.randint(1, 10**6)}",
                lang=rng.choice(["fr", "fr", "en", ""]),
                source=domain,
                network="web" if is_news else rng.choice(NETWORKS),
            )
        )
    return documents


def make_queries(rng, count, vocabulary, brands):
    """Topic shapes from the issue, over mid-frequency words (nobody watches "the")."""
    mid = vocabulary[150:6000]

    def word():
        return rng.choice(mid)

    shapes = [
        lambda name, tag: f'"{name}" OR {tag} OR #{tag}',
        lambda name, tag: f'("{name}" OR #{tag}) AND NOT ({word()} OR {word()})',
        lambda name, tag: f"({word()} OR {word()}) AND NOT ({word()} OR {word()})",
        lambda name, tag: f'title:"{name}"',
        lambda name, tag: f"site:{rng.choice(DOMAINS)} AND ({tag} OR {word()})",
        lambda name, tag: f"{word()} NEAR/5 {word()}",
        lambda name, tag: f'"{name}" NEAR/5 ({word()} OR {word()})',
        lambda name, tag: f"{word()[:4]}* AND {word()}",
        lambda name, tag: f"lang:fr AND ({tag} OR {word()} {word()})",
        lambda name, tag: f"@{word()} OR {tag}",
        lambda name, tag: f"{word()} {word()} -{word()}",
    ]
    queries = {}
    while len(queries) < count:
        name, tag = rng.choice(brands)
        text = rng.choice(shapes)(name, tag)
        # A draw that does not parse (a wildcard prefix too short) is drawn again.
        with contextlib.suppress(QueryError):
            queries[f"t{len(queries)}"] = parse(text)
    return queries


# The realistic mix: what community managers watch. Most topics are about one brand,
# product, competitor or campaign (rare words: names, hashtags, handles), often with
# exclusions or a field; a few are sector watches over frequent words. Weights in percent.
SECTOR = slice(192, 3000)  # sector keywords: frequent, but not stop words
COMMON = slice(45, 140)  # everyday words used in exclusions ("promo", "soldes", "jobs")
SENTIMENT = ["avis", "problème", "panne", "déçu", "génial", "review", "broken", "refund", "love"]
REALISTIC_SHAPES = [
    (30, "brand", lambda n, t, h, w, c: f'"{n}" OR {t} OR #{t}'),
    (12, "brand minus noise", lambda n, t, h, w, c: f'("{n}" OR #{t}) AND NOT ({c()} OR {c()})'),
    (10, "handle or hashtag", lambda n, t, h, w, c: f"{h()} OR #{t}"),
    (8, "title", lambda n, t, h, w, c: f'title:"{n}" OR title:{t}'),
    (8, "product wildcard", lambda n, t, h, w, c: f"{t[:6]}* -{c()}"),
    (7, "site", lambda n, t, h, w, c: f'site:{rng_domain()} AND ("{n}" OR {t})'),
    (7, "near", lambda n, t, h, w, c: f'"{n}" NEAR/5 ({sentiment()} OR {sentiment()})'),
    (5, "language", lambda n, t, h, w, c: f'lang:fr AND ("{n}" OR #{t})'),
    (5, "sector", lambda n, t, h, w, c: f"({w()} OR {w()}) AND ({w()} OR {w()}) -{c()}"),
    (4, "author", lambda n, t, h, w, c: f"author:{h()[1:]} OR ({t} AND NOT network:reddit)"),
    (4, "competitor pair", lambda n, t, h, w, c: f'"{n}" AND ({rival()} OR #{rival()})'),
]
_draw = random.Random(0)


def rng_domain():
    return _draw.choice(DOMAINS)


def sentiment():
    return _draw.choice(SENTIMENT)


def rival():
    return _draw.choice(_RIVALS)


_RIVALS = []


def make_realistic_queries(rng, count, vocabulary, brands, handles):
    """REALISTIC_SHAPES over rare brand names, with some frequent words (see above)."""
    _draw.seed(rng.random())
    _RIVALS[:] = [tag for _name, tag in brands]
    weights = [weight for weight, _label, _shape in REALISTIC_SHAPES]

    def sector_word():
        return rng.choice(vocabulary[SECTOR])

    def common_word():
        return rng.choice(vocabulary[COMMON])

    def handle():
        return rng.choice(handles)

    queries = {}
    while len(queries) < count:
        name, tag = rng.choice(brands)
        _weight, _label, shape = rng.choices(REALISTIC_SHAPES, weights=weights)[0]
        text = shape(name, tag, handle, sector_word, common_word)
        with contextlib.suppress(QueryError):
            queries[f"t{len(queries)}"] = parse(text)
    return queries


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-docs", type=int, default=20, help="sample for the baseline")
    parser.add_argument("--vocabulary", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--scenario", choices=["realistic", "stress", "both"], default="both", help=SCENARIOS
    )
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    for scenario in ("realistic", "stress"):
        if options.scenario in (scenario, "both"):
            run(scenario, options)


SCENARIOS = """realistic: REALISTIC_SHAPES over invented brand names (rare words) that 20%% of the
documents mention; stress: the first synthetic mix, whose brands and keywords are
mid-frequency words of the corpus, so that each document has ~28 candidate topics and
~6 matches (a worst case: kept so that nothing is hidden)."""


def run(scenario, options):
    rng = random.Random(options.seed)
    vocabulary = make_vocabulary(rng, options.vocabulary)
    weights = zipf_weights(len(vocabulary))
    started = time.perf_counter()
    if scenario == "stress":
        brands = make_brands(rng, vocabulary, 2000)
        documents = make_documents(rng, options.docs, vocabulary, weights, brands)
        queries = make_queries(rng, options.topics, vocabulary, brands)
    else:
        brands = make_rare_brands(rng, vocabulary, 2000)
        handles = make_handles(rng, vocabulary)
        documents = make_documents(rng, options.docs, vocabulary, weights, brands, handles)
        queries = make_realistic_queries(rng, options.topics, vocabulary, brands, handles)
    rss_before = peak_rss_mb()
    emit(
        "corpus",
        scenario=scenario,
        docs=len(documents),
        topics=len(queries),
        mean_words=round(statistics.mean(len(d.text.split()) for d in documents), 1),
        seconds=round(time.perf_counter() - started, 2),
    )

    builds = []
    for _ in range(options.runs):
        started = time.perf_counter()
        matcher = Matcher.build(queries)
        builds.append(time.perf_counter() - started)
    emit("build", scenario=scenario, median_s=round(statistics.median(builds), 3))

    if options.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [matcher.match(d) for d in documents])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return

    rates, cold, matched = [], None, 0
    for run_number in range(options.runs + 1):
        started = time.perf_counter()
        matched = sum(len(matcher.match(document)) for document in documents)
        rate = len(documents) / (time.perf_counter() - started)
        if run_number == 0:
            cold = rate  # the first run also learns which words concern a topic
        else:
            rates.append(rate)
    emit(
        "matcher",
        scenario=scenario,
        docs_per_s=round(statistics.median(rates)),
        first_run_docs_per_s=round(cold),
        runs=[round(rate) for rate in rates],
        matches_per_doc=round(matched / len(documents), 3),
        peak_rss_mb=round(peak_rss_mb()),
        rss_growth_mb=round(peak_rss_mb() - rss_before),
    )

    sample = documents[: options.naive_docs]
    items = list(queries.items())
    started = time.perf_counter()
    naive = [sorted(t for t, q in items if evaluate(q, d)) for d in sample]
    naive_rate = len(sample) / (time.perf_counter() - started)
    agree = all(naive[i] == matcher.match(d) for i, d in enumerate(sample))
    emit(
        "naive",
        scenario=scenario,
        docs=len(sample),
        docs_per_s=round(naive_rate, 2),
        speedup=round(statistics.median(rates) / naive_rate),
        same_results=agree,
    )


def emit(name, **fields):
    print(json.dumps({"bench": name, **fields}), flush=True)


if __name__ == "__main__":
    main()
