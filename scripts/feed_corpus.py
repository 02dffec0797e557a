"""Run every feed of the robustness corpus through parse_feed.

No crash, no hang, every failure explained: each file gets an outcome (items, no items with
the parser's explanation, timeout, crash) and the counts are printed per folder. For the
feedparser corpus, each file's header holds `Expect:`, a Python expression over feedparser's
result; the comparisons that concern the title, the link and the date are extracted with
`ast` (never evaluated as code) and checked against what parse_feed found.

Usage: python scripts/feed_corpus.py [--corpus DIR] [--limit SECONDS] [--json] [--verbose]
"""

import argparse
import ast
import html
import json
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "feeds"
FEED_SUFFIXES = {".xml", ".json", ".rss", ".atom", ".rdf"}

HEADER = re.compile(r"<!--(.*?)-->", re.S)
HEADER_LINE = re.compile(r"^\s*(Header|Description|Expect):\s*(.*?)\s*$", re.M)


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    if "TRIBU_DATA_DIR" not in os.environ:
        # Settings need a data directory; nothing is written to it by this script.
        os.environ["TRIBU_DATA_DIR"] = tempfile.mkdtemp(prefix="tribu-feed-corpus-")
    import django

    django.setup()


class FileTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise FileTimeout


def corpus_files(corpus):
    return sorted(
        path
        for path in corpus.rglob("*")
        if path.is_file()
        and path.suffix.lower() in FEED_SUFFIXES
        # feed-rs keeps its expected parse results next to the fixtures: not feeds.
        and not path.name.endswith(".serde.json")
    )


def header_of(body):
    """Description, Expect and simulated HTTP headers from a feedparser test file."""
    text = body[:4000].decode("utf-8", "replace")
    match = HEADER.search(text)
    found = {"Header": [], "Description": "", "Expect": ""}
    if not match:
        return found
    for key, value in HEADER_LINE.findall(match.group(1)):
        if key == "Header":
            found["Header"].append(value)
        else:
            found[key] = value
    return found


def header_value(headers, wanted):
    for line in headers:
        name, _sep, value = line.partition(":")
        if name.strip().lower() == wanted:
            return value.strip()
    return None


# --- Expect assertions -------------------------------------------------------------------

FIELDS = {
    ("feed", "title"): "title",
    ("feed", "title_detail", "value"): "title",
    ("entries", 0, "title"): "title",
    ("entries", 0, "title_detail", "value"): "title",
    ("feed", "link"): "link",
    ("feed", "links", 0, "href"): "link",
    ("entries", 0, "link"): "link",
    ("entries", 0, "links", 0, "href"): "link",
    ("entries", 0, "published_parsed"): "date",
    ("entries", 0, "updated_parsed"): "date",
    ("entries", 0, "issued_parsed"): "date",
    ("entries", 0, "modified_parsed"): "date",
    ("entries", 0, "created_parsed"): "date",
    ("entries", 0, "date_parsed"): "date",
}


def subject_path(node):
    """`entries[0]['title']` or `entries[0].title` -> ("entries", 0, "title")."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            parts.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return tuple(reversed(parts))
        else:
            return None


def assertions(expect):
    """(kind, path, expected value) for each `subject == literal` in a top-level chain of
    `and`s that concerns a title, a link or a date. Everything else is skipped."""
    try:
        tree = ast.parse(expect, mode="eval")
    except SyntaxError:
        return []
    found = []

    def visit(node):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                visit(value)
        elif (
            isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
        ):
            path = subject_path(node.left)
            if path in FIELDS:
                try:
                    expected = ast.literal_eval(node.comparators[0])
                except (ValueError, SyntaxError, TypeError):
                    return
                found.append((FIELDS[path], path, expected))

    visit(tree.body)
    return found


def plain(value):
    value = re.sub(r"<[^>]*>", "", value)
    return re.sub(r"\s+", " ", html.unescape(value)).strip()


def agrees(kind, path, expected, result):
    from tribu.listening.fetch.feeds import canonical_url

    item = result.items[0] if result.items else None
    if path[0] == "entries" and item is None:
        return False
    if kind == "title":
        ours = result.title if path[0] == "feed" else item.title
        # Our titles are plain text; feedparser's may hold sanitized markup.
        return isinstance(expected, str) and ours in (expected, plain(expected))
    if kind == "link":
        ours = result.link if path[0] == "feed" else item.url
        if not isinstance(expected, str):
            return False
        return ours == expected or (bool(ours) and ours == canonical_url(expected))
    if kind == "date":
        moment = item.published_at
        if moment is None or not isinstance(expected, tuple):
            return expected is None and moment is None
        return tuple(moment.utctimetuple())[:6] == tuple(expected[:6])
    return False


# --- run -------------------------------------------------------------------------------


def run(corpus, limit, verbose=False):
    from tribu.listening.fetch.feeds import parse_feed

    signal.signal(signal.SIGALRM, on_alarm)
    outcomes = Counter()
    per_folder = Counter()
    problems = Counter()
    agreement = {kind: Counter() for kind in ("title", "link", "date")}
    slowest = (0.0, "")
    items_total = 0
    started = time.perf_counter()
    files = corpus_files(corpus)
    for path in files:
        body = path.read_bytes()
        folder = path.relative_to(corpus).parts[0]
        header = header_of(body) if folder == "feedparser" else None
        content_type = header_value(header["Header"], "content-type") if header else None
        url = f"http://corpus.test/{path.relative_to(corpus)}"
        if header:
            # feedparser's tests are served from 127.0.0.1:8097; Content-Location headers
            # override the document's URL, as a server's would.
            url = f"http://127.0.0.1:8097/tests/{path.relative_to(corpus / 'feedparser')}"
            location = header_value(header["Header"], "content-location")
            if location:
                url = urljoin(url, location)
        signal.setitimer(signal.ITIMER_REAL, limit)
        began = time.perf_counter()
        try:
            result = parse_feed(body, url=url, content_type=content_type)
        except FileTimeout:
            outcome, result = "timeout", None
        except Exception as error:  # the point of the corpus: report, never stop
            outcome, result = f"crash: {type(error).__name__}: {error}", None
        else:
            if result.items:
                outcome = "items"
            elif result.format:
                outcome = "feed without items"
            else:
                outcome = "not read (explained)"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.perf_counter() - began
        slowest = max(slowest, (elapsed, str(path.relative_to(corpus))))
        kind = outcome.split(":")[0]
        outcomes[kind] += 1
        per_folder[(folder, kind)] += 1
        if result is not None:
            items_total += len(result.items)
            for problem in result.problems:
                problems[problem] += 1
            if outcome.startswith("not read") and verbose:
                print(f"no items: {path.relative_to(corpus)}: {' / '.join(result.problems)}")
        elif verbose or kind == "crash":
            print(f"{outcome}: {path.relative_to(corpus)}", file=sys.stderr)
        if header and header["Expect"] and result is not None:
            for check_kind, check_path, expected in assertions(header["Expect"]):
                ok = agrees(check_kind, check_path, expected, result)
                agreement[check_kind]["agree" if ok else "disagree"] += 1
                if verbose and not ok:
                    print(
                        f"disagree {check_kind}: {path.relative_to(corpus)}: expected "
                        f"{expected!r}, got {describe(check_path, result)!r}"
                    )
    return {
        "files": len(files),
        "seconds": round(time.perf_counter() - started, 2),
        "items": items_total,
        "outcomes": dict(outcomes),
        "per_folder": {
            f"{folder}/{kind}": count for (folder, kind), count in sorted(per_folder.items())
        },
        "problems": dict(problems.most_common()),
        "slowest": {"file": slowest[1], "seconds": round(slowest[0], 4)},
        "agreement": {
            kind: {
                "agree": counts["agree"],
                "assertions": counts["agree"] + counts["disagree"],
                "percent": round(
                    100 * counts["agree"] / max(1, counts["agree"] + counts["disagree"]), 1
                ),
            }
            for kind, counts in agreement.items()
        },
    }


def describe(path, result):
    item = result.items[0] if result.items else None
    if path[0] == "feed":
        return result.title if "title" in path else result.link
    if item is None:
        return None
    if "title" in path:
        return item.title
    if "link" in path or "links" in path:
        return item.url
    return item.published_at


def print_report(report):
    print(f"{report['files']} files, {report['items']} items, {report['seconds']} s")
    print("\noutcome per folder")
    for key, count in report["per_folder"].items():
        print(f"  {key:<32} {count:>6}")
    print("\noutcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(report["outcomes"].items())))
    print(f"slowest file: {report['slowest']['file']} ({report['slowest']['seconds']} s)")
    print("\nproblems reported by parse_feed (files)")
    for problem, count in report["problems"].items():
        print(f"  {count:>5}  {problem}")
    print("\nfeedparser Expect: agreement")
    print(f"  {'field':<8} {'agree':>6} {'of':>6} {'%':>7}")
    for kind, row in report["agreement"].items():
        print(f"  {kind:<8} {row['agree']:>6} {row['assertions']:>6} {row['percent']:>6}%")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=float, default=5.0, help="seconds per file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--verbose", action="store_true", help="list failures and disagreements")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"Corpus folder not found: {args.corpus}", file=sys.stderr)
        return 2
    setup_django()
    report = run(args.corpus, args.limit, verbose=args.verbose)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)
    crashed = report["outcomes"].get("crash", 0) + report["outcomes"].get("timeout", 0)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
