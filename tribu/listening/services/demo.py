"""Listening demo data for the "Maison Lumière" workspace: topics, sources and a stream of
several thousand mentions over the last 60 days, in French and English.

Everything is generated offline from sentence templates with a fixed random seed, then
stored through the real ingestion service so that matching, duplicate grouping and search
work on it as on fetched mentions. The sources point at reserved `.example` addresses and
are paused, so nothing is ever fetched. Idempotent: topics and sources are looked up by
name, and mentions are only generated while the workspace has none.
"""

import random
import re
import unicodedata
from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from tribu.listening.items import ParsedItem
from tribu.listening.models import Mention, Source, Topic

SEED = 20240611
DAYS = 60
BASE_PER_DAY = 48
PAUSED_REASON = "Source de démonstration : elle n’est jamais interrogée."

BRAND = "Maison Lumière"
COMPETITORS = ("Éclat Design", "Lumenor")

TOPICS = [
    # name, colour, kind, query
    (
        BRAND,
        "#b45309",
        Topic.Kind.BRAND,
        '"Maison Lumière" OR maisonlumiere OR #maisonlumiere OR @maisonlumiere',
    ),
    ("Éclat Design", "#7c3aed", Topic.Kind.COMPETITOR, '"Éclat Design" OR #eclatdesign'),
    ("Lumenor", "#0e7490", Topic.Kind.COMPETITOR, "lumenor OR #lumenor"),
    (
        "Secteur luminaire",
        "#15803d",
        Topic.Kind.SECTOR,
        '(luminaire* OR lampe* OR "éclairage LED" OR "LED lighting" OR "floor lamp" OR '
        'suspension*) -"lampe torche"',
    ),
]

FEEDS = [
    # name, site domain, language of most articles
    ("Déco Mag", "deco-mag.example", "fr"),
    ("Journal du Design", "journal-du-design.example", "fr"),
    ("Maison & Jardin – le blog", "blog.maison-jardin.example", "fr"),
    ("Forum Bricolage", "forum.bricolage.example", "fr"),
    ("Lighting Weekly", "lighting-weekly.example", "en"),
    ("Interiors Today", "interiors-today.example", "en"),
]
NETWORK_SOURCES = [
    # name, kind, url, config
    (
        "#maisonlumiere (Mastodon)",
        Source.Kind.MASTODON,
        "https://mastodon.example/tags/maisonlumiere",
        {"base_url": "https://mastodon.example", "mode": "hashtag", "query": "maisonlumiere"},
    ),
    (
        "Bluesky : Maison Lumière",
        Source.Kind.BLUESKY,
        "https://bsky.example/search?q=Maison%20Lumi%C3%A8re",
        {"base_url": "https://appview.bsky.example", "mode": "search", "query": "Maison Lumière"},
    ),
    (
        "r/DecoInterieur",
        Source.Kind.REDDIT,
        "https://reddit.example/r/DecoInterieur/new/",
        {"base_url": "https://reddit.example", "mode": "subreddit", "query": "DecoInterieur"},
    ),
    (
        "Hacker News : LED lighting",
        Source.Kind.HACKERNEWS,
        "https://hn.example/?query=LED%20lighting",
        {"base_url": "https://hn.example", "mode": "search", "query": "LED lighting"},
    ),
]

PRODUCTS = ["la lampe Aube", "la suspension Zénith", "l’applique Lueur", "le lampadaire Halo"]
PRODUCTS_EN = ["the Aube lamp", "the Zénith pendant", "the Lueur wall light", "the Halo floor lamp"]
CITIES = ["Lyon", "Nantes", "Bordeaux", "Lille", "Paris", "Marseille", "Rennes", "Strasbourg"]

FIRST_NAMES = [
    "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Théo", "Inès", "Julien", "Sarah",
    "Nicolas", "Emma", "Antoine", "Zoé", "Mathieu", "Clara", "Olivia", "James", "Mia", "Noah",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Roux",
    "Fournier", "Girard", "Bonnet", "Smith", "Taylor", "Walker", "Nguyen",
]  # fmt: skip

FR = {
    "brand": [
        "Je viens de recevoir {product} de {brand} et la lumière est vraiment douce, parfaite "
        "pour le salon.",
        "Quelqu’un a déjà commandé chez {brand} ? J’hésite pour {product}.",
        "Belle découverte au salon Maison&Objet : le stand {brand} était plein toute la journée.",
        "{brand} ouvre une boutique à {city}, inauguration samedi. {tag}",
        "Service client de {brand} au top : pièce remplacée en 48 h sans discuter.",
        "Livraison en retard de deux semaines chez {brand}, et aucune nouvelle du service "
        "client… {tag}",
        "Test complet de {product} ({brand}) : finitions soignées, variateur un peu bruyant.",
        "{brand} lance une collection fabriquée en France, en laiton recyclé. {tag}",
        "Mon salon avant / après avec {product} de chez {brand} {tag}",
        "Le prix de {product} chez {brand} a pris 15 % depuis l’an dernier, dommage.",
    ],
    "launch": [
        "C’est le jour J : {brand} dévoile {product}, et le site est déjà en rupture. {tag}",
        "Lancement de {product} par {brand} : la file d’attente en ligne dépasse l’heure. {tag}",
        "Vu en vitrine à {city} : {product}, la nouveauté de {brand}. Superbe ! {tag}",
    ],
    "competitor": [
        "{competitor} annonce une nouvelle gamme de suspensions en verre soufflé.",
        "Comparatif : {competitor} ou {brand} pour éclairer une cuisine ouverte ?",
        "Les lampes de {competitor} sont jolies mais chauffent beaucoup trop.",
        "{competitor} recrute un ou une chef de produit à {city}.",
        "Promo de printemps chez {competitor} : -20 % sur les appliques.",
        "J’ai craqué pour un lampadaire {competitor}, très bon rapport qualité-prix.",
    ],
    "buzz": [
        "Encore une lampe {competitor} qui grésille puis s’éteint. Troisième panne ce mois-ci !",
        "Rappel produit chez {competitor} ? Plusieurs ampoules ont fondu chez des clients.",
        "Le service après-vente de {competitor} ne répond plus, c’est inadmissible. #lumenor",
    ],
    "sector": [
        "Tendance déco : les luminaires en rotin reviennent en force cette saison.",
        "Comment choisir une lampe de chevet ? Nos conseils pour bien lire le soir.",
        "L’éclairage LED consomme jusqu’à 80 % de moins qu’une ampoule classique.",
        "Suspension ou plafonnier : que choisir pour une pièce basse de plafond ?",
        "Les luminaires connectés séduisent de plus en plus de foyers à {city}.",
        "Guide : bien placer ses lampes pour agrandir visuellement une pièce.",
        "Salon du luminaire de {city} : les designers misent sur la couleur.",
    ],
    "noise": [
        "Quelle lampe torche emporter en randonnée ? Petit comparatif.",
        "Coupure de courant dans tout le quartier ce soir à {city}.",
        "Recette du dimanche : tarte aux pommes et café au coin du feu.",
    ],
}
EN = {
    "brand": [
        "Just unboxed {product} from {brand}: the light is so warm. {tag}",
        "Has anyone ordered from {brand}? Torn between {product} and something cheaper.",
        "{brand} customer service sorted my broken shade in two days. Impressed.",
        "Delivery from {brand} is three weeks late and nobody answers emails. {tag}",
        "Review: {product} by {brand}, lovely brass finish, a slightly noisy dimmer.",
    ],
    "launch": [
        "{brand} just launched {product} and it sold out in an hour. {tag}",
        "Launch day for {product} by {brand}: the queue is longer than for sneakers. {tag}",
    ],
    "competitor": [
        "{competitor} unveils a new range of hand-blown glass pendants.",
        "{competitor} vs {brand} for a kitchen island: which one would you pick?",
        "Picked up a {competitor} floor lamp on sale, great value.",
    ],
    "buzz": [
        "My {competitor} lamp started buzzing and died. Third failure this month! #lumenor",
        "Is {competitor} recalling its bulbs? Several customers report melted sockets.",
    ],
    "sector": [
        "LED lighting now uses up to 80% less energy than incandescent bulbs.",
        "How to pick a floor lamp for a reading corner: a short guide.",
        "Smart lighting adoption keeps growing in European homes.",
        "Rattan pendants are back: the lighting trend of the season.",
        "Ask HN: what LED lighting do you use for a home office?",
    ],
    "noise": [
        "Best flashlight for hiking? Looking for something light.",
        "Power cut across the whole neighbourhood tonight.",
    ],
}
TITLES_FR = {
    "brand": "{brand} : ce qu’en disent les clients",
    "launch": "{brand} lance {product}",
    "competitor": "{competitor} : les nouveautés de la saison",
    "buzz": "Pannes en série chez {competitor} ?",
    "sector": "Luminaires : les tendances du moment",
    "noise": "En bref",
}
TITLES_EN = {
    "brand": "What customers say about {brand}",
    "launch": "{brand} launches {product}",
    "competitor": "{competitor}: what is new this season",
    "buzz": "Is {competitor} facing a wave of failures?",
    "sector": "Lighting trends of the moment",
    "noise": "In brief",
}
# Openers make each post's first words its own, as real posts are: without them, posts
# made from the same template would be grouped as near-duplicates of each other.
OPENERS_FR = [
    "Jour {n} :", "Petit retour après {n} jours :", "Avis perso, {n} jours après :", "Franchement,",
    "Bon, je me lance :", "Question du soir :", "Vu ce matin, {n} minutes de lecture :",
    "Après {n} semaines d’hésitation :", "Note pour plus tard :", "À {n} km de chez moi :",
    "Thread {n}/3 :", "Mise à jour n°{n} :", "Honnêtement,", "PSA :", "Retour client {n} :",
]  # fmt: skip
OPENERS_EN = [
    "Day {n}:", "Quick note after {n} days:", "Honest take, day {n}:", "Okay,", "Question:",
    "Update #{n}:", "Thread {n}/3:", "PSA:", "{n} weeks in:", "Hot take:", "Customer story {n}:",
]  # fmt: skip
HASHTAGS = ["#maisonlumiere", "#deco", "#luminaire", "#design", "#homedecor", "#interiordesign"]
NETWORK_WEIGHTS = [("web", 45), ("mastodon", 20), ("bluesky", 20), ("reddit", 10), ("hn", 5)]
CATEGORY_WEIGHTS = [("brand", 35), ("competitor", 25), ("sector", 30), ("noise", 10)]
# (days ago, category, extra mentions): the launch of a product and a competitor's bad buzz.
SPIKES = [(21, "launch", 260), (6, "buzz", 190)]
# Local hours (start, end) a spike's extra mentions fall in; others spread over the day.
SPIKE_HOURS = {"buzz": (9, 15)}


def ensure_listening_demo(workspace):
    """Create the demo topics, sources and mentions that are missing; change nothing else.
    Returns the number of mentions added."""
    for name, colour, kind, query in TOPICS:
        if not Topic.objects.filter(workspace=workspace, name=name).exists():
            _create_topic(workspace, name=name, colour=colour, kind=kind, query=query)
    sources = _ensure_sources(workspace)
    if Mention.objects.filter(workspace=workspace).exists():
        return 0
    return _ingest_mentions(sources, generate(timezone.now()))


def _create_topic(workspace, **fields):
    from tribu.listening.services import topics

    return topics.create_topic(workspace, **fields)


def _ensure_sources(workspace):
    """The demo sources by key ("web:<domain>" or a network), created paused."""
    now = timezone.now()
    wanted = [
        (f"web:{domain}", name, Source.Kind.FEED, f"https://{domain}/feed.xml", {})
        for name, domain, _lang in FEEDS
    ] + [
        ({"mastodon": "mastodon", "bluesky": "bluesky", "reddit": "reddit"}.get(kind, "hn"),
         name, kind, url, config)
        for name, kind, url, config in NETWORK_SOURCES
    ]  # fmt: skip
    sources = {}
    for key, name, kind, url, config in wanted:
        source = Source.objects.filter(workspace=workspace, name=name).first()
        if source is None:
            source = Source.objects.create(
                workspace=workspace,
                kind=kind,
                name=name,
                url=url,
                config=config,
                enabled=True,
                paused_at=now,
                paused_reason=PAUSED_REASON,
                next_poll_at=None,
                created_at=now - timedelta(days=DAYS),
            )
        sources[key] = source
    return sources


def _ingest_mentions(sources, generated):
    from tribu.listening.services.ingest import ingest

    by_source = defaultdict(list)
    for key, item in generated:
        by_source[key].append(item)
    before = Mention.objects.filter(workspace=next(iter(sources.values())).workspace).count()
    for key, items in by_source.items():
        ingest(sources[key], items)
    # Health as if the sources had been polled until they were paused.
    stamp = timezone.now()
    for key, source in sources.items():
        Source.objects.filter(pk=source.pk).update(
            items_seen=len(by_source.get(key, ())), last_success_at=stamp - timedelta(hours=1)
        )
    after = Mention.objects.filter(workspace=next(iter(sources.values())).workspace).count()
    return after - before


# Generation (pure: same seed and clock, same items) ---------------------------------------


def _slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _choose(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def generate(now):
    """[(source key, ParsedItem)] for the last DAYS days before `now`, deterministic."""
    rng = random.Random(SEED)
    people = [
        (f"{first} {last}", f"{_slug(first)}{_slug(last)[:4]}{rng.randint(1, 99)}")
        for first in FIRST_NAMES
        for last in LAST_NAMES
    ]
    out, counter = [], 0
    for days_ago in range(DAYS, -1, -1):
        # A weekly rhythm: fewer posts at the weekend.
        day_start = now - timedelta(days=days_ago)
        volume = BASE_PER_DAY + rng.randint(-10, 10)
        if day_start.weekday() >= 5:
            volume = int(volume * 0.6)
        plan = [(_choose(rng, CATEGORY_WEIGHTS), None) for _ in range(volume)]
        for spike_days, category, extra in SPIKES:
            if days_ago == spike_days:
                plan += [(category, SPIKE_HOURS.get(category))] * extra
            elif days_ago == spike_days - 1:
                plan += [(category, None)] * (extra // 3)
        for category, hours in plan:
            counter += 1
            if hours is not None:
                # A bad buzz explodes within hours, not evenly over a day.
                seconds = rng.randint(hours[0] * 3_600, hours[1] * 3_600 - 1)
            elif days_ago:
                seconds = rng.randint(0, 86_399)
            else:
                seconds = rng.randint(0, 3_600 * 6)
            published = min(day_start.replace(hour=0, minute=0, second=0) +
                            timedelta(seconds=seconds), now - timedelta(minutes=1))  # fmt: skip
            out.append(_item(rng, counter, category, published, people))
    # Syndicated copies: a few press articles picked up word for word by another site.
    for index in range(0, len(out), 97):
        key, original = out[index]
        if key.startswith("web:") and original.title:
            counter += 1
            domain = rng.choice([domain for _n, domain, _l in FEEDS if f"web:{domain}" != key])
            copy = ParsedItem(
                url=f"https://{domain}/reprise/{counter}-{_slug(original.title)}",
                guid=f"demo-{counter}",
                title=original.title,
                text=original.text,
                html=original.html,
                author_name=original.author_name,
                published_at=original.published_at + timedelta(hours=rng.randint(1, 8)),
                network="web",
                raw=original.raw,
            )
            out.append((f"web:{domain}", copy))
    return out


def _item(rng, counter, category, published, people):
    network = _choose(rng, NETWORK_WEIGHTS)
    english = rng.random() < (0.6 if network in ("hn", "reddit") else 0.3)
    if network == "hn":
        english, category = True, rng.choice(["sector", "sector", "noise"])
    templates = EN if english else FR
    values = {
        "brand": BRAND,
        "competitor": COMPETITORS[1] if category == "buzz" else rng.choice(COMPETITORS),
        "product": rng.choice(PRODUCTS_EN if english else PRODUCTS),
        "city": rng.choice(CITIES),
        "tag": rng.choice(HASHTAGS),
    }
    opener = rng.choice(OPENERS_EN if english else OPENERS_FR).format(n=rng.randint(1, 60))
    sentence = rng.choice(templates[category]).format(**values)
    text = f"{opener} {sentence}"
    name, handle = rng.choice(people)
    lang = "en" if english else "fr"
    engagement = {"likes": int(rng.paretovariate(1.5)) - 1, "reposts": rng.randint(0, 5)}
    if network == "web":
        candidates = [feed for feed in FEEDS if feed[2] == lang] or FEEDS
        _name, domain, _lang = rng.choice(candidates)
        title = (TITLES_EN if english else TITLES_FR)[category].format(**values)
        # A press dateline rather than a social opener.
        text = f"{rng.choice(CITIES).upper()}, {published:%d/%m} — {sentence}"
        body = f"{text} {rng.choice(templates['sector']).format(**values)}"
        item = ParsedItem(
            url=f"https://{domain}/{published:%Y/%m}/{_slug(title)}-{counter}",
            guid=f"demo-{counter}",
            title=title,
            text=body,
            html=f"<p>{text}</p><p>{body[len(text) + 1 :]}</p>",
            author_name=name,
            published_at=published,
            network="web",
            raw={"demo": True, "lang": lang},
        )
        return f"web:{domain}", item
    if network == "mastodon":
        url = f"https://mastodon.example/@{handle}/{110_000_000 + counter}"
        full_handle = f"@{handle}@mastodon.example"
    elif network == "bluesky":
        url = f"https://bsky.example/profile/{handle}.bsky.social/post/3k{counter:07d}"
        full_handle = f"@{handle}.bsky.social"
    elif network == "reddit":
        url = f"https://reddit.example/r/DecoInterieur/comments/{counter:x}/"
        full_handle = f"u/{handle}"
    else:
        url = f"https://hn.example/item?id={38_000_000 + counter}"
        full_handle = handle
    item = ParsedItem(
        url=url,
        guid=f"demo-{counter}",
        title="" if network in ("mastodon", "bluesky") else text[:80],
        text=text,
        html=f"<p>{text}</p>",
        author_name=name,
        author_handle=full_handle,
        author_url=url.rsplit("/", 1)[0],
        author_followers=int(rng.paretovariate(1.2) * 40),
        published_at=published,
        network="hackernews" if network == "hn" else network,
        engagement=engagement,
        raw={"demo": True, "lang": lang},
    )
    return network, item
