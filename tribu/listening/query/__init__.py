"""The topic query language: parser, reference evaluator and compiled matcher.

Pure Python: usable without a database (benchmarks, `tribu query match`).
"""

from .document import Document
from .errors import QueryError
from .evaluate import evaluate
from .matcher import Matcher
from .parser import Query, parse
from .text import fold, tokenize

__all__ = ["Document", "Matcher", "Query", "QueryError", "evaluate", "fold", "parse", "tokenize"]
