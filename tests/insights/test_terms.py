"""tribu.insights.terms: the words, tags and links a mention is counted under."""

from tribu.insights.terms import MAX_TERMS, extract, kind_of


def test_words_tags_and_links_once_each():
    found = extract(
        "Nouveau #MardiConseil",
        "Le service client de @Tribu est top, vraiment top ! https://www.example.com/offre/?utm=x "
        "#mardiconseil",
    )
    assert found.count("top") == 1
    assert "#mardiconseil" in found and "@tribu" in found
    assert "example.com/offre" in found
    assert {"service", "client", "nouveau"} <= set(found)
    # Stop words, short words and the URL's pieces are not terms.
    assert not {"le", "de", "est", "www", "https", "utm"} & set(found)


def test_elisions_keep_the_word_after_the_apostrophe():
    found = extract("", "L’entreprise d'Antoine n'accepte qu'aujourd'hui")
    assert "entreprise" in found and "antoine" in found and "accepte" in found


def test_accents_are_kept_and_numbers_dropped():
    found = extract("", "Très déçu : 404 erreurs en 2025")
    assert "déçu" in found and "erreurs" in found
    assert "404" not in found and "2025" not in found


def test_long_texts_are_capped():
    text = " ".join(f"mot{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(200))
    assert len(extract("", text)) == MAX_TERMS


def test_kinds():
    assert [kind_of(t) for t in ("#tag", "@user", "example.com/a", "mot")] == [
        "hashtag",
        "handle",
        "link",
        "word",
    ]
