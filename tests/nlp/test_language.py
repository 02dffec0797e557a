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
