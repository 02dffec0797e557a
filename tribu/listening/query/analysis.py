"""What a document offers to queries: one word stream per text field and the value sets.

Shared by the reference evaluator and the matcher, so that both read a document the same
way; they differ only in how they run a query against it.
"""

from .text import fold, handles, hashtags, host_suffixes, languages, tokenize, words

# The word streams of the default field put the title first and the text after this many
# blank positions, so that no phrase and no NEAR (at most MAX_NEAR_DISTANCE words apart)
# spans the end of the title and the start of the text.
GAP_TOKEN = " "  # noqa: S105 - never a token: tokens have no spaces


def gap_size():
    from .parser import MAX_NEAR_DISTANCE

    return MAX_NEAR_DISTANCE + 1


class Analysis:
    """Every stream and value set of a document, computed eagerly (reference side)."""

    def __init__(self, document):
        title = tokenize(document.title) if document.title else []
        text = tokenize(document.text) if document.text else []
        author = tokenize(document.author) if document.author else []
        source = tokenize(document.source) if document.source else []
        self.streams = {
            "text": words(title) + [GAP_TOKEN] * gap_size() + words(text),
            "title": words(title),
            "author": words(author),
            "source": words(source),
        }
        self.values = {
            "hashtag": hashtags(title + text),
            "handle": handles(title + text + author),
            "site": host_suffixes(document.url),
            "lang": languages(document.lang),
            "network": {fold(document.network.strip())} if document.network.strip() else set(),
        }
