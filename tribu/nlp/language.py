"""Language of a text with lingua, restricted to the workspace's languages.

`und` (undetermined) when the text has too few letters or lingua's best guess is not
confident enough: a short "ok" or a row of emoji has no language, and a wrong language
would send the text to the wrong sentiment model.
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

NOISE_RE = re.compile(r"https?://\S+|www\.\S+|@\w+|\bhttp\b")


@cache
def detector(languages=DEFAULT_LANGUAGES):
    """One detector per language set and process: models load lazily on first use."""
    codes = [IsoCode639_1.from_str(code) for code in languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def detect(text, languages=DEFAULT_LANGUAGES):
    """(ISO 639-1 code or "und", confidence 0..1)."""
    cleaned = NOISE_RE.sub(" ", text)
    if sum(char.isalpha() for char in cleaned) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    values = detector(tuple(languages)).compute_language_confidence_values(cleaned)
    if not values or values[0].value < MIN_CONFIDENCE:
        return UNDETERMINED, round(values[0].value, 4) if values else 0.0
    return values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4)
