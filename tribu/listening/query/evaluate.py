"""The reference evaluator: a query tree against one document, written to be obviously
right rather than fast. The Matcher must give the same answers (tests/listening/query)."""

from .analysis import Analysis
from .ast import And, Near, Not, Or, Phrase, Term, Value, Wildcard


def evaluate(query, document) -> bool:
    """Whether `document` matches `query` (a parsed Query or a tree node)."""
    root = getattr(query, "root", query)
    return _matches(root, Analysis(document))


def _matches(node, analysis):
    if isinstance(node, Value):
        return node.value in analysis.values[node.field]
    if isinstance(node, Term | Phrase | Wildcard):
        return bool(spans(node, analysis.streams[node.field]))
    if isinstance(node, Not):
        return not _matches(node.child, analysis)
    if isinstance(node, And):
        return all(_matches(child, analysis) for child in node.children)
    if isinstance(node, Or):
        return any(_matches(child, analysis) for child in node.children)
    if isinstance(node, Near):
        return bool(spans(node, analysis.streams[near_field(node)]))
    raise TypeError(f"not a query node: {node!r}")


def near_field(node):
    while not isinstance(node, Term | Phrase | Wildcard):
        node = node.left if isinstance(node, Near) else node.children[0]
    return node.field


def spans(node, stream):
    """Every (first, last) word position where `node` occurs in `stream`."""
    if isinstance(node, Term):
        return [(i, i) for i, token in enumerate(stream) if token == node.word]
    if isinstance(node, Phrase):
        size = len(node.words)
        return [
            (i, i + size - 1)
            for i in range(len(stream) - size + 1)
            if tuple(stream[i : i + size]) == node.words
        ]
    if isinstance(node, Wildcard):
        regex = node.regex()
        return [(i, i) for i, token in enumerate(stream) if regex.match(token)]
    if isinstance(node, Or):
        return sorted({span for child in node.children for span in spans(child, stream)})
    if isinstance(node, Near):
        return sorted(
            {
                (min(left[0], right[0]), max(left[1], right[1]))
                for left in spans(node.left, stream)
                for right in spans(node.right, stream)
                if close_enough(left, right, node.distance, node.ordered)
            }
        )
    raise TypeError(f"not a NEAR operand: {node!r}")


def close_enough(left, right, distance, ordered):
    """At most `distance` words between the two spans; with `ordered`, left comes first.
    Overlapping spans count as no words apart (unordered only)."""
    if left[1] < right[0]:
        gap = right[0] - left[1] - 1
    elif ordered:
        return False
    elif right[1] < left[0]:
        gap = left[0] - right[1] - 1
    else:
        gap = 0
    return gap <= distance
