"""tribu query check "QUERY" | tribu query match --queries Q.jsonl --docs D.jsonl

`check` shows how a topic query is understood; `match` runs queries against documents
offline (power users, audits), streaming the documents: one JSON line out per line in.
"""

import json
import sys
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tribu.listening.query import Document, Matcher, QueryError, parse

DOCUMENT_FIELDS = ("title", "author", "url", "lang", "source", "network")


class Command(BaseCommand):
    help = _("Check a topic query, or match queries against documents offline.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        check = actions.add_parser("check", help=_("show how a query is understood"))
        check.add_argument("query", help=_('the query, in quotes: "lampe NEAR/3 design"'))
        match = actions.add_parser("match", help=_("match queries against documents"))
        match.add_argument(
            "--queries",
            required=True,
            help=_('JSON lines {"id": ..., "query": ...}; - reads standard input'),
        )
        match.add_argument(
            "--docs",
            required=True,
            help=_('JSON lines {"id": ..., "text": ..., "title": ...}; - reads standard input'),
        )

    def handle(self, *args, action, **options):
        if action == "check":
            self.check_query(options["query"])
        else:
            self.match(options["queries"], options["docs"])

    def check_query(self, text):
        try:
            query = parse(text)
        except QueryError as error:
            raise CommandError(f"{error.message}\n{error.caret(text)}", returncode=2) from None
        self.stdout.write(query.to_query())
        self.stdout.write(query.explain())

    def match(self, queries_path, docs_path):
        if queries_path == "-" and docs_path == "-":
            raise CommandError(
                _("Only one of --queries and --docs can read standard input."), returncode=2
            )
        matcher, ids = self.read_queries(queries_path)
        with _open(docs_path) as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                doc_id, document = _document(_json_line(line, number, docs_path), number, docs_path)
                found = sorted((ids[index] for index in matcher.match(document)), key=_id_order)
                self.stdout.write(json.dumps({"id": doc_id, "matches": found}, ensure_ascii=False))

    def read_queries(self, path):
        queries, ids, problems = {}, {}, []
        seen = set()
        with _open(path) as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                record = _json_line(line, number, path)
                query_id, text = record.get("id"), record.get("query")
                if not isinstance(query_id, str | int) or isinstance(query_id, bool):
                    raise _line_error(path, number, _("“id” must be a string or a number."))
                if not isinstance(text, str):
                    raise _line_error(path, number, _("“query” must be a string."))
                if query_id in seen:
                    raise _line_error(
                        path,
                        number,
                        _("The id %(id)s is used twice.") % {"id": json.dumps(query_id)},
                    )
                seen.add(query_id)
                try:
                    queries[len(ids)] = parse(text)
                except QueryError as error:
                    problems.append(
                        _("Query %(id)s (line %(line)d): %(message)s")
                        % {"id": json.dumps(query_id), "line": number, "message": error.message}
                        + "\n"
                        + error.caret(text)
                    )
                    continue
                ids[len(ids)] = query_id
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                _("No document was matched: fix the invalid queries first."), returncode=2
            )
        return Matcher.build(queries), ids


def _id_order(value):
    return (isinstance(value, str), value)


@contextmanager
def _open(path):
    if path == "-":
        yield sys.stdin
        return
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": error.strerror},
            returncode=2,
        ) from None
    with handle:
        yield handle


def _line_error(path, number, message):
    return CommandError(
        _("%(path)s, line %(line)d: %(message)s")
        % {"path": path, "line": number, "message": message},
        returncode=2,
    )


def _json_line(line, number, path):
    try:
        record = json.loads(line)
    except ValueError as error:
        raise _line_error(
            path, number, _("not valid JSON (%(reason)s).") % {"reason": error}
        ) from None
    if not isinstance(record, dict):
        raise _line_error(path, number, _("expected a JSON object, one per line."))
    return record


def _document(record, number, path):
    doc_id = record.get("id")
    if doc_id is None:
        raise _line_error(path, number, _("“id” is missing."))
    fields = {}
    for name in ("text", *DOCUMENT_FIELDS):
        value = record.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise _line_error(path, number, _("“%(field)s” must be a string.") % {"field": name})
        fields[name] = value
    if "text" not in record:
        raise _line_error(path, number, _("“text” is missing."))
    return doc_id, Document(**fields)
