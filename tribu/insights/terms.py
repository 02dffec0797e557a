"""The terms a mention uses, for top terms and trends: words, #hashtags, @handles and links.

A term counts once per mention (how many mentions use it, not how often one repeats it).
Words are lower-cased and keep their accents ("déçu" and "decu" stay apart: French readers
see the word as written); stop words of French and English, numbers and words shorter than
three letters are left out. Links are reduced to host and path ("example.com/offre"), the
way a community manager names a shared article.
"""

import re
from urllib.parse import urlsplit

MAX_TERMS = 40
MAX_LENGTH = 200
MIN_WORD = 3

URL_RE = re.compile(r"https?://[^\s<>\"'«»]+", re.IGNORECASE)
TAG_RE = re.compile(r"(?<![\w#@])([#@])(\w[\w.]*\w|\w)")
WORD_RE = re.compile(r"[^\W\d_](?:[^\W_]|['’-](?=[^\W\d_]))*")

STOP_WORDS_TEXT = """
    a à afin ai aie aient aies ait alors as au aucun aucune aupres auquel aussi autre autres
    aux auxquelles auxquels avaient avais avait avant avec avez aviez avions avoir avons ayant
    bah bon car ce ceci cela celle celles celui cependant certain certaine certains ces cet
    cette ceux chacun chaque chez ci comme comment dans de des donc dont du elle elles en
    encore entre es est et etaient etais etait etant ete etes été étaient était étant êtes
    être eu eue eues eux faire fait faut fois font hors ici il ils je jusqu jusque la là le
    les leur leurs lui ma mais me meme memes même mêmes mes moi mon ne ni nos notre nous on
    ont ou où par parce pas peu peut plus pour pourquoi quand que quel quelle quelles quels
    qui quoi sa sans se selon ses si sien soi soit son sont sous sur ta te tes toi ton tous
    tout toute toutes tres très tu un une vers via voici voila voilà vos votre vous vu ça
    aujourd hui cest
    about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could did didn do does doesn doing don
    down during each few for from further get got had hadn has hasn have haven having he her
    here hers herself him himself his how i if in into is isn it its itself just let me more
    most mustn my myself no nor not now of off on once only or other ought our ours
    ourselves out over own same shan she should shouldn so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was wasn we were weren what when where which while who whom why will with won would
    wouldn you your yours yourself yourselves amp http https www rt via
"""
STOP_WORDS = frozenset(STOP_WORDS_TEXT.split())


def link_term(url):
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    if host.startswith("www."):
        host = host[4:]
    path = parts.path.rstrip("/.,;:!?)»")
    return (host + path)[:MAX_LENGTH]


def extract(title, text):
    """The distinct terms of a mention, at most MAX_TERMS, links and tags first."""
    content = f"{title}\n{text}" if title else text
    found = {}
    for match in URL_RE.finditer(content):
        term = link_term(match.group(0))
        if term:
            found.setdefault(term, None)
    without_links = URL_RE.sub(" ", content)
    for sign, name in TAG_RE.findall(without_links):
        found.setdefault((sign + name).lower()[:MAX_LENGTH], None)
    words = TAG_RE.sub(" ", without_links)
    for match in WORD_RE.finditer(words):
        word = match.group(0).lower().replace("’", "'")
        if len(word) < MIN_WORD or word in STOP_WORDS:
            continue
        # "l'entreprise" and "d'accord" are the words after the elision.
        if "'" in word:
            head, _, tail = word.partition("'")
            if len(head) <= 2:
                word = tail
                if len(word) < MIN_WORD or word in STOP_WORDS:
                    continue
        found.setdefault(word[:MAX_LENGTH], None)
        if len(found) >= MAX_TERMS:
            break
    return list(found)[:MAX_TERMS]


def kind_of(term):
    """ "hashtag", "handle", "link" or "word"."""
    if term.startswith("#"):
        return "hashtag"
    if term.startswith("@"):
        return "handle"
    if "/" in term or "." in term:
        return "link"
    return "word"
