"""The French catalog is complete, compiled, and in step with the code.

These checks read files only (no database): the .po is the source of truth, the .mo is
what Django serves, and the code is what users see when a string is missing from both.
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest

import tribu

PACKAGE_DIR = Path(tribu.__file__).resolve().parent
PO_PATH = PACKAGE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# The same options as `make messages`, so that the test finds what a developer would.
MAKEMESSAGES_ARGS = ["--locale", "fr", "--no-obsolete", "--ignore", "testing/*"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

# What must survive translation unchanged: printf-style and brace placeholders, and HTML
# tags (a lost </span> breaks the page). "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(
    r"%%"
    r"|%(?:\([^)]+\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}"
    r"|</?[A-Za-z][^<>]*>"
)


def placeholders(text):
    return Counter(match for match in PLACEHOLDER.findall(text) if match != "%%")


@pytest.fixture(scope="module")
def catalog():
    return polib.pofile(str(PO_PATH))


def describe(entry):
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{entry.msgid!r} ({where or 'no reference'})"


def test_every_entry_is_translated_and_checked(catalog):
    untranslated = [describe(entry) for entry in catalog.untranslated_entries()]
    fuzzy = [describe(entry) for entry in catalog.fuzzy_entries()]
    assert not untranslated, "Translate these entries in django.po:\n" + "\n".join(untranslated)
    assert not fuzzy, (
        "Check these fuzzy entries, fix their msgstr and remove the fuzzy flag:\n"
        + "\n".join(fuzzy)
    )
    assert not catalog.metadata_is_fuzzy, "Remove the fuzzy flag from the header of django.po."
    assert catalog.metadata["Language"] == "fr"


def test_placeholders_and_newlines_match_the_msgid(catalog):
    problems = []
    for entry in catalog.translated_entries():
        if entry.msgid_plural:
            expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
            translations = [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
            found = Counter()
            for translation in translations:
                extra = placeholders(translation) - expected
                if extra:
                    problems.append(f"{describe(entry)}: unknown {sorted(extra)}")
                found |= placeholders(translation)
            # Each form may drop the count ("une minute"), but together they keep everything.
            if set(found) != set(expected):
                problems.append(f"{describe(entry)}: {sorted(found)} != {sorted(expected)}")
        else:
            translations = [entry.msgstr]
            if placeholders(entry.msgstr) != placeholders(entry.msgid):
                problems.append(
                    f"{describe(entry)}: {sorted(placeholders(entry.msgstr).elements())} "
                    f"!= {sorted(placeholders(entry.msgid).elements())}"
                )
        for translation in translations:
            for edge in (str.startswith, str.endswith):
                if edge(entry.msgid, "\n") != edge(translation, "\n"):
                    problems.append(f"{describe(entry)}: leading/trailing newline differs")
    assert not problems, "Placeholders differ between msgid and msgstr:\n" + "\n".join(problems)


class _Missing(gettext.NullTranslations):
    """Fallback that marks a message the .mo lacks, even when msgstr equals msgid."""

    MARK = "\x00missing from the .mo\x00"

    def gettext(self, message):
        return self.MARK

    def ngettext(self, singular, plural, n):
        return self.MARK

    def pgettext(self, context, message):
        return self.MARK

    def npgettext(self, context, singular, plural, n):
        return self.MARK


def test_compiled_catalog_matches_the_po(catalog):
    assert MO_PATH.exists(), "Compile the catalog: make messages (or tribu manage compilemessages)."
    with MO_PATH.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    compiled.add_fallback(_Missing())
    assert compiled.info().get("plural-forms") == catalog.metadata["Plural-Forms"]

    stale = []
    for entry in catalog.translated_entries():
        if entry.msgid_plural:
            for index, expected in entry.msgstr_plural.items():
                # The smallest n that selects this plural form, per the catalog's own rule.
                n = next(n for n in range(1000) if compiled.plural(n) == int(index))
                if entry.msgctxt is None:
                    actual = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                else:
                    actual = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if actual != expected:
                    stale.append(f"{describe(entry)} [n={n}]: {actual!r} != {expected!r}")
        else:
            if entry.msgctxt is None:
                actual = compiled.gettext(entry.msgid)
            else:
                actual = compiled.pgettext(entry.msgctxt, entry.msgid)
            if actual != entry.msgstr:
                stale.append(f"{describe(entry)}: {actual!r} != {entry.msgstr!r}")
    assert not stale, (
        "django.mo is out of date; run `make messages` (or tribu manage compilemessages):\n"
        + "\n".join(stale[:20])
    )


def test_every_string_in_the_code_is_in_the_po(catalog, tmp_path):
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        pytest.skip(
            f"GNU gettext is not installed ({', '.join(missing_tools)} missing), so the code "
            "cannot be scanned for new strings; apt-get install gettext to run this check."
        )
    # Extract into a copy: makemessages rewrites the .po it finds, and the real one must
    # stay as committed. Without settings, makemessages writes to ./locale of its cwd.
    copy = tmp_path / "tribu"
    shutil.copytree(
        PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("locale", "testing", "__pycache__")
    )
    (copy / "locale").mkdir()
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", *MAKEMESSAGES_ARGS],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    extracted = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))

    committed = {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in catalog}
    new = [
        describe(entry)
        for entry in extracted
        if (entry.msgctxt, entry.msgid, entry.msgid_plural) not in committed
    ]
    assert not new, (
        "These strings are in the code but not in django.po. Run `make messages`, translate "
        "them in tribu/locale/fr/LC_MESSAGES/django.po, then run `make messages` again to "
        "compile:\n" + "\n".join(new)
    )
