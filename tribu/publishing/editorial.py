"""The workspace's editorial line, checked against a draft: warnings, never errors.

Pure Python (no database): `settings_like` is anything with `words_to_avoid` and
`hashtags_to_add` text attributes (PublishingSettings in production), one entry per line;
blank lines are ignored. The tone (`editorial_tone`) is free text shown to the writer and
is not checked.

Words to avoid match whole words, whatever the case and the accents ("Arnaque", "arnaqué"
and "ARNAQUE" all match "arnaque"; "œ" and "æ" match "oe" and "ae"), and an entry of several
words matches them separated by any spaces. A French elision counts as a word boundary
("l'arnaque", "d’arnaque", "qu'arnaque" match "arnaque"), but another apostrophe does not
("hui" is not found in "aujourd'hui"). Plurals and other forms are other words: list them.
Each entry is reported once, at its first occurrence, with its position in the text.

Hashtags to add: each line may hold the tag with or without its '#' ("Tribu", "#Tribu",
"# Tribu"); several tags on one line are taken one by one. A tag is present when the text has
it as a whole hashtag, whatever the case ("#tribu" satisfies "#Tribu", "#TribuApp" does not).
"""

import unicodedata

import regex
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribu.publishing.text import WARNING, Problem, find_hashtags

# French words that elide before a vowel: "l'", "d'", "qu'", "jusqu'"…
ELISIONS = frozenset(
    ["c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"]
    + ["presqu", "quelqu"]
)
APOSTROPHES = frozenset("'\u2019\u02bc")  # ' ’ ʼ
_LIGATURES = {"œ": "oe", "æ": "ae"}
_WORD_CHAR = r"[\p{L}\p{N}_]"
_TAG_RE = regex.compile(r"[\p{L}\p{M}\p{N}_]+")


def _fold_char(char):
    """One character without case or accents: possibly several characters, or none (a
    combining accent)."""
    folded = unicodedata.normalize("NFKD", char.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = "".join(_LIGATURES.get(c, c) for c in folded)
    return "'" if folded in APOSTROPHES else folded


def fold(text):
    """`text` without case or accents, and for each of its characters the index of the
    character of `text` it comes from (so a match maps back to the original)."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for piece in _fold_char(char):
            folded.append(piece)
            origin.append(index)
    return "".join(folded), origin


def _lines(value):
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def words_to_avoid(settings_like):
    """The entries of the list, as written, without duplicates (case and accents aside)."""
    seen, words = set(), []
    for line in _lines(getattr(settings_like, "words_to_avoid", "")):
        key = " ".join(fold(line)[0].split())
        if key and key not in seen:
            seen.add(key)
            words.append(line)
    return words


def hashtags_to_add(settings_like):
    """The tags to add, without their '#', in the order given, without duplicates."""
    seen, tags = set(), []
    for line in _lines(getattr(settings_like, "hashtags_to_add", "")):
        for tag in _TAG_RE.findall(line):
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tags


def _word_pattern(word):
    tokens = fold(word)[0].split()
    body = r"\s+".join(regex.escape(token) for token in tokens)
    return regex.compile(rf"(?<!{_WORD_CHAR}){body}(?!{_WORD_CHAR})")


def _elided_or_free(folded, start):
    """Whether a match starting at `start` begins a word: after an apostrophe, only when
    what precedes is an elided French word ("l'", "qu'"), not part of a word
    ("aujourd'hui")."""
    if start == 0 or folded[start - 1] != "'":
        return True
    begin = start - 1
    while begin > 0 and folded[begin - 1].isalpha():
        begin -= 1
    before = folded[begin : start - 1]
    # No letters before: a quote mark ("'arnaque'"), not an apostrophe inside a word.
    return not before or before in ELISIONS


def find_word(text, word, *, folded=None):
    """The (start, end) span in `text` of the first whole-word occurrence of `word`, or
    None. `folded` is `fold(text)` when the caller already has it."""
    folded_text, origin = folded or fold(text)
    if not fold(word)[0].split():
        return None
    for match in _word_pattern(word).finditer(folded_text):
        if _elided_or_free(folded_text, match.start()):
            # The end takes in combining accents that follow (they fold to nothing).
            end = origin[match.end()] if match.end() < len(origin) else len(text)
            return origin[match.start()], max(end, origin[match.end() - 1] + 1)
    return None


def missing_hashtags(text, settings_like):
    """The tags to add (without '#') that `text` does not have yet."""
    present = {tag.casefold() for _start, _end, tag in find_hashtags(text or "")}
    return [tag for tag in hashtags_to_add(settings_like) if tag.casefold() not in present]


def check(text, settings_like, *, part=None):
    """Warnings for `text` against the editorial line: each word to avoid found (once, at
    its first occurrence, in reading order), then the missing hashtags. `part` is copied
    onto the Problems (the thread part the text is)."""
    text = text or ""
    folded = fold(text)
    found = []
    for word in words_to_avoid(settings_like):
        span = find_word(text, word, folded=folded)
        if span is not None:
            found.append(span)
    problems = []
    for start, end in sorted(found):
        message = _(
            "“%(word)s” is on this workspace's list of words to avoid. Rephrase this passage."
        ) % {"word": text[start:end]}
        problems.append(
            Problem(
                "word_to_avoid",
                message,
                WARNING,
                part=part,
                position=start,
                length=end - start,
            )
        )
    missing = missing_hashtags(text, settings_like)
    if missing:
        message = ngettext(
            "Missing hashtag from the editorial line: %(hashtags)s. Add it to the post.",
            "Missing hashtags from the editorial line: %(hashtags)s. Add them to the post.",
            len(missing),
        ) % {"hashtags": " ".join("#" + tag for tag in missing)}
        problems.append(Problem("missing_hashtags", message, WARNING, part=part))
    return problems


def with_hashtags(text, settings_like):
    """`text` with the missing hashtags appended on a new line (unchanged if none miss)."""
    text = text or ""
    missing = missing_hashtags(text, settings_like)
    if not missing:
        return text
    tags = " ".join("#" + tag for tag in missing)
    body = text.rstrip()
    return f"{body}\n{tags}" if body else tags
