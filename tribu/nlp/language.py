"""Language of a text with lingua, restricted to the workspace's languages.

`und` (undetermined) when the text has too few letters or lingua's best guess is not
confident enough: a short "ok" or a row of emoji has no language, and a wrong language
would send the text to the wrong sentiment model.

This runs on every ingested mention, so it is kept cheap (bench/nlp.py measures it):

- lingua's low-accuracy mode: on the XLM-T French and English tweets it is as accurate as
  the high-accuracy mode (98.5-99.4 % correct either way) and 3-4 times faster on short
  texts; on texts over 120 characters both modes use the same trigram models anyway.
- only the first MAX_CHARS characters are read: lingua's cost grows with the length, and on
  the RSS articles of ../shared/data/feeds the language of the first 150 characters already
  agrees with that of the whole text in every case.
"""

import re
from functools import cache

from lingua import IsoCode639_1, LanguageDetectorBuilder

DEFAULT_LANGUAGES = ("fr", "en", "de", "es", "it", "pt", "nl")
UNDETERMINED = "und"
# Below this many letters (after removing @user, links, hashtags' '#') lingua's guesses are
# close to chance between related languages ("ok", "top", "lol").
MIN_LETTERS = 4
# lingua's confidence of the best language; on the XLM-T validation tweets (French and
# English) fewer than 1 % fall below it, while ambiguous short phrases do.
MIN_CONFIDENCE = 0.5
MAX_CHARS = 300

# Each alternative starts with a literal character so the regex engine skips ahead fast (a
# leading \b made the link pattern 30 times slower).
NOISE_RE = re.compile(r"h(?:ttps?://\S+|ttp\b)|www\.\S+|@\w+")


@cache
def detector(languages=DEFAULT_LANGUAGES):
    """One detector per language set and process: models load lazily on first use."""
    codes = [IsoCode639_1.from_str(code) for code in languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()


def has_letters(text, minimum=MIN_LETTERS):
    count = 0
    for char in text:
        if char.isalpha():
            count += 1
            if count >= minimum:  # stop early: most texts reach it in a few characters
                return True
    return False


def detect(text, languages=DEFAULT_LANGUAGES):
    """(ISO 639-1 code or "und", confidence 0..1)."""
    cleaned = NOISE_RE.sub(" ", text[:MAX_CHARS])
    if not has_letters(cleaned):
        return UNDETERMINED, 0.0
    values = detector(tuple(languages)).compute_language_confidence_values(cleaned)
    if not values or values[0].value < MIN_CONFIDENCE:
        return UNDETERMINED, round(values[0].value, 4) if values else 0.0
    return values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4)
