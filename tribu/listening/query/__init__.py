"""The topic query language: parser, reference evaluator and compiled matcher.

Pure Python: usable without a database (benchmarks, `tribu query match`).
"""
