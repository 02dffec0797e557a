"""Why an alert opened, in figures (a JSON snapshot stored on the alert) and in words.

The snapshot is taken when the alert opens, so it reads the same later even as mentions
keep arriving: the hour's volume, what the detector expected for it ("usually"), the share
of negative mentions, the first sources, the top terms and authors, and a few sample
mentions. The words are built from the snapshot in the reader's language (`facts`,
`summary`), so the notification, the list and the detail page say the same thing.
"""

from collections import Counter
from urllib.parse import urlsplit

from django.db.models import Count, Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from tribu.alerts.models import AlertKind
from tribu.alerts.services.series import micros
from tribu.insights import terms as term_extraction
from tribu.listening.models import Mention, MentionTopic

# Mentions of the window read to find sources, terms and authors: enough for a clear
# ranking, bounded for a large brand's busy hour.
SAMPLE_LIMIT = 1000
FIRST_SOURCES = 3
TOP_TERMS = 5
TOP_AUTHORS = 3
SAMPLE_MENTIONS = 5


def snapshot(topic, kind, window_start, window_end, expected):
    """The explanation of an alert on `topic` for the hour [window_start, window_end)."""
    low, high = micros(window_start), micros(window_end)
    links = MentionTopic.objects.filter(topic=topic, sort_key__gte=low, sort_key__lt=high)
    totals = links.aggregate(
        volume=Count("id"), negative=Count("id", filter=Q(mention__sentiment="negative"))
    )
    mentions = Mention.objects.filter(
        topic_links__topic=topic, topic_links__sort_key__gte=low, topic_links__sort_key__lt=high
    )
    if kind == AlertKind.NEGATIVE:
        mentions = mentions.filter(sentiment="negative")
    rows = list(
        mentions.order_by("sort_key").values(
            "id", "title", "text", "url", "network", "source__name", "author_name",
            "author_handle",
        )[:SAMPLE_LIMIT]
    )  # fmt: skip
    volume, negative = totals["volume"], totals["negative"]
    observed = negative if kind == AlertKind.NEGATIVE else volume
    return {
        "kind": str(kind),
        "topic": topic.name,
        "observed": observed,
        "expected": round(float(expected), 2),
        "volume": volume,
        "negative": negative,
        "negative_share": round(100 * negative / volume) if volume else None,
        "sources": _first_sources(rows),
        "terms": _top_terms(rows),
        "authors": _top_authors(rows),
        "mention_ids": [row["id"] for row in rows[:SAMPLE_MENTIONS]],
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
    }


def _source_name(row):
    if row["source__name"]:
        return row["source__name"]
    host = urlsplit(row["url"] or "").hostname or ""
    return host.removeprefix("www.") or row["network"]


def _first_sources(rows):
    """Where the burst started: distinct sources of the earliest mentions, in order."""
    found = []
    for row in rows:
        name = _source_name(row)
        if name and name not in found:
            found.append(name)
            if len(found) == FIRST_SOURCES:
                break
    return found


def _top_terms(rows):
    counter = Counter()
    for row in rows:
        counter.update(term_extraction.extract(row["title"], row["text"]))
    # A term used by a single mention tells nothing about the burst.
    return [term for term, count in counter.most_common(TOP_TERMS) if count > 1]


def _top_authors(rows):
    counter = Counter()
    for row in rows:
        name = row["author_handle"] or row["author_name"]
        if name:
            counter[name] += 1
    return [name for name, _count in counter.most_common(TOP_AUTHORS)]


def number(value):
    """A figure as people read it: whole numbers from 10 up, one decimal below."""
    if value is None:
        return "?"
    value = float(value)
    if value >= 10 or value == int(value):
        return number_format(round(value), use_l10n=True)
    # In the active language's format: "4,2" in French.
    return number_format(value, 1, use_l10n=True)


def facts(explanation):
    """The explanation as short sentences in the active language."""
    observed = explanation.get("observed", 0)
    values = {"observed": observed, "expected": number(explanation.get("expected"))}
    if explanation.get("kind") == AlertKind.NEGATIVE:
        head = ngettext(
            "%(observed)s negative mention in the last hour against %(expected)s usually",
            "%(observed)s negative mentions in the last hour against %(expected)s usually",
            observed,
        )
    else:
        head = ngettext(
            "%(observed)s mention in the last hour against %(expected)s usually",
            "%(observed)s mentions in the last hour against %(expected)s usually",
            observed,
        )
    lines = [head % values]
    share = explanation.get("negative_share")
    if share is not None:
        lines.append(_("%(share)s %% negative") % {"share": share})
    separator = pgettext("between the items of a short list", ", ")
    if explanation.get("sources"):
        lines.append(
            _("first sources: %(names)s") % {"names": separator.join(explanation["sources"])}
        )
    if explanation.get("terms"):
        lines.append(_("top terms: %(terms)s") % {"terms": separator.join(explanation["terms"])})
    if explanation.get("authors"):
        lines.append(
            _("top authors: %(authors)s") % {"authors": separator.join(explanation["authors"])}
        )
    return lines


def summary(explanation):
    """One sentence: "87 mentions in the last hour against 4 usually; 70 % negative; …"."""
    return pgettext("between the facts of an alert", "; ").join(facts(explanation))


def title(explanation):
    names = {"topic": explanation.get("topic", "")}
    if explanation.get("kind") == AlertKind.NEGATIVE:
        return _("Negative mentions are surging on “%(topic)s”") % names
    return _("Mentions are surging on “%(topic)s”") % names
