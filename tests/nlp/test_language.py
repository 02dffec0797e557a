from tribu.nlp.language import MIN_CONFIDENCE, UNDETERMINED, detect


def test_clear_sentences_get_their_language_with_confidence():
    cases = {
        "Je suis vraiment très content de votre service, merci beaucoup !": "fr",
        "This is honestly the worst customer service I have ever had.": "en",
        "Ich habe heute leider keine Zeit, wir sehen uns morgen.": "de",
    }
    for text, expected in cases.items():
        lang, confidence = detect(text)
        assert lang == expected, text
        assert MIN_CONFIDENCE <= confidence <= 1


def test_short_or_letterless_texts_are_undetermined():
    for text in ["ok", "😀😀😀", "", "   ", "@user http", "!!! 42"]:
        assert detect(text) == (UNDETERMINED, 0.0), text


def test_only_the_given_languages_are_candidates():
    lang, _confidence = detect("Ich habe heute leider keine Zeit.", languages=("fr", "en"))
    assert lang in {"fr", "en", UNDETERMINED}


def test_a_long_article_is_judged_on_its_opening():
    from tribu.nlp.language import MAX_CHARS

    opening = "Le conseil municipal a voté hier soir le budget de la ville pour l'an prochain. "
    tail = "The rest of this page is an English cookie banner and navigation menu. " * 200
    article = opening * 4 + "\n" + tail
    assert len(opening * 4) >= MAX_CHARS
    assert detect(article)[0] == "fr"


def test_links_and_handles_are_not_language():
    assert detect("@someone https://example.com/a/very/long/path www.example.org") == (
        UNDETERMINED,
        0.0,
    )
    lang, _confidence = detect("@marie_dupont merci pour ton message, à demain https://t.co/x")
    assert lang == "fr"
