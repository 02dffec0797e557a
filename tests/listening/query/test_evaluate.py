from tribu.listening.query import Document, evaluate, parse
from tribu.listening.query.ast import Near, Or, Phrase, Term
from tribu.listening.query.evaluate import close_enough, spans


def test_spans_and_distances():
    stream = ["la", "lampe", "de", "maison", "lumiere"]
    assert spans(Term("text", "lampe"), stream) == [(1, 1)]
    assert spans(Phrase("text", ("maison", "lumiere")), stream) == [(3, 4)]
    assert spans(Or((Term("text", "la"), Term("text", "de"))), stream) == [(0, 0), (2, 2)]
    near = Near(Term("text", "lampe"), Phrase("text", ("maison", "lumiere")), 1, True)
    assert spans(near, stream) == [(1, 4)]
    assert close_enough((0, 0), (2, 2), 1, True)
    assert not close_enough((2, 2), (0, 0), 1, True)
    assert close_enough((2, 2), (0, 0), 1, False)
    assert close_enough((0, 3), (1, 1), 0, False)  # overlapping counts as no words apart


def test_evaluate_reads_every_field():
    document = Document(
        text="Bravo #Tribu",
        title="Lancement",
        author="Jeanne @jeanne",
        url="https://x.example.org",
        lang="en",
        source="Blog",
        network="mastodon",
    )
    query = parse(
        "title:lancement author:jeanne site:example.org lang:en source:blog "
        "network:mastodon #tribu @jeanne bravo"
    )
    assert evaluate(query, document)
    assert not evaluate(parse("lancement NEAR/50 bravo"), document)
