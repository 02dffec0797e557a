"""QueryError: what is wrong in a query, where, and how to fix it, in the user's language.

Messages are English msgids marked with gettext_noop and translated when read, so the
module imports without Django settings (benchmarks) and `str(error)` follows the language
active where the error is shown, not where it was raised.
"""


def gettext_noop(message):
    """Marks a msgid for makemessages (which knows this name); Django's own needs settings."""
    return message


def _translate(template, params):
    if not template:
        return ""
    try:
        from django.utils.translation import gettext

        text = gettext(template)
    except Exception:  # settings not configured: plain Python use, e.g. bench/
        text = template
    return text % params if params else text


class QueryError(ValueError):
    """An invalid topic query.

    `code` is stable for programs, `position` is a 0-based character offset into the
    query, `expected` says what the parser wanted there and `suggestion` how to fix it.
    """

    def __init__(self, code, position, message, params=None, *, expected="", suggestion=""):
        super().__init__(code)
        self.code = code
        self.position = position
        self._message = message
        self._expected = expected
        self._suggestion = suggestion
        self._params = params or {}

    @property
    def expected(self):
        return _translate(self._expected, self._params)

    @property
    def suggestion(self):
        return _translate(self._suggestion, self._params)

    @property
    def message(self):
        parts = [_translate(self._message, self._params)]
        if self._suggestion:
            parts.append(self.suggestion)
        return " ".join(parts)

    def __str__(self):
        return self.message

    def caret(self, query):
        """The query with a caret under the error position (for terminals)."""
        return f"{query}\n{' ' * min(self.position, len(query))}^"


__all__ = ["QueryError", "gettext_noop"]
