"""Rule-based English sentence splitting: exact character spans, no parser and no model.

Contract of :func:`sentence_spans`: ``text[start:end]`` is a sentence; spans are trimmed, non-empty,
ordered and disjoint, together they hold every non-whitespace character of the text, and none holds a
line break: "\\n" always ends a sentence (a headline and the paragraphs below it never merge).

Inside a line a candidate boundary is a run of ".", "!", "?" or an ellipsis, with any closing quotes or
brackets, followed by whitespace or directly by a capitalised word. The rules deciding candidates are
those of pragmatic_segmenter (github.com/diasks2/pragmatic_segmenter) and its Python port pySBD,
written as a few compiled regular expressions and set look-ups:

- no sentence starts with a lower-case letter, and none is only punctuation or a list marker ("2.)");
- "!" and "?" end a sentence; so does a full stop followed by a closing quote or bracket (a quote
  detached by a space, 'over. " A spokesman', still closes the sentence before it);
- a full stop after a title (Mr., Dr., St., Mt., ...) never does; after an abbreviation that goes
  with numbers (No., pp., Jan., ...) only before a capitalised word; after an initialism or a single
  letter (U.S., E.U., E., I.) only before a word that typically starts sentences (He, The, How, ...);
  after a.m./p.m. before a capitalised word, unless it is a time zone or the sentence so far is a
  bare time phrase ("At 5 a.m. Mr. Smith went ...", Golden Rule 18);
- "...", "…" and "...." end a sentence before a capitalised word; a spaced ". . ." does not, a spaced
  " . . . ." does, and "word. . . . The" ends after "word."; "[...]" marks an omission, no end;
- glued sentences ("world.Today") split after a word of two or more characters, outside web and
  e-mail addresses;
- a line opening with a list marker ("1.", "2)", "a.", "• 9.") starts a sentence at each next marker
  in sequence, with or without a full stop before it.
"""

from __future__ import annotations

import re

_OPENERS = "\"'“‘«(["
_CLOSERS = "\"'”’»)]"
_BULLETS = "•◦▪‣⁃*–-"

_LINE = re.compile(r"\S(?:[^\n]*\S)?")
_CANDIDATE = re.compile(
    # not inside "[...]" nor a spaced ellipsis already passed over; atomic: a run is taken whole
    rf"(?<![\[.])(?<!\.[^\S\n])(?P<punct>(?>(?:\.[^\S\n]){{2,}}\.|[.!?…‽]+))"
    rf"(?P<close>[{re.escape(_CLOSERS)}]*+(?:[^\S\n]+[\"”](?=\s))?)"  # 'end. " Next': a detached closing quote
    rf"(?:[^\S\n]+|(?=[{re.escape(_OPENERS)}]*[^\W\d_]))"
    rf"(?=[{re.escape(_OPENERS)}]*(?P<word>\w*))"
)
_PUNCT = re.compile(r"[.!?…‽]")  # where a candidate can start
_ALNUM = re.compile(r"[^\W_]")
_MARKER = re.compile(rf"(?:[{re.escape(_BULLETS)}][^\S\n]*)?(?:\d{{1,3}}|[A-Za-z])")
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_LEADING_TIME = re.compile(
    r"(?i:(?:at|by|from|until|till|before|after|around|about|since|shortly|just|soon)[^\S\n]+){1,3}"
    r"\d{1,2}(?:[.:]\d\d)?[^\S\n]*[ap]\.m\."
)
_LIST_START = re.compile(
    rf"(?:(?P<bullet>[{re.escape(_BULLETS)}])[^\S\n]*+)?(?P<n>\d{{1,3}}|[aA])(?P<p>\.\)|[.)])[^\S\n]"
)
_LIST_ITEM = re.compile(
    rf"(?<![^\S\n])[^\S\n]++(?P<item>(?:(?P<bullet>[{re.escape(_BULLETS)}])[^\S\n]*+)?"
    r"(?P<n>\d{1,3}|[A-Za-z])(?P<p>\.\)|[.)]))(?=[^\S\n])"
)

# prepositive abbreviations: a full stop after them never ends a sentence
_TITLES = frozenset(
    "mr mrs ms messrs dr prof rev revd fr st mt gen lt col maj capt cmdr adm brig sgt cpl "
    "gov sen rep hon pres supt insp det cllr sec vs".split()
)
# abbreviations that go with numbers: a sentence ends after them only before a capitalised word
_ABBREVIATIONS = frozenset(
    "no nos nr n° nº pp para paras fig figs vol vols ch chap art arts ref tel ext approx ca al op "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# words that start sentences but rarely follow an initialism or initial inside one (after pySBD)
_STARTERS = frozenset(
    "A After All An And As At Being But By Did During Each Even For From He Her Here His How However "
    "I If In Is It Its Last Many Meanwhile Millions More Most My Now On Only Our She Since So Some "
    "That The Their There These They This Those Thus Under We What When Where Which While Who Why "
    "With Yet You Your".split()
)
_TIME_ZONES = frozenset("GMT BST UTC CET CEST EET EST EDT CST CDT MST MDT PST PDT ET CT MT PT IST JST".split())
_LONGEST_TOKEN = 100  # characters looked at around a full stop: longer words are no abbreviation


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of `text`, in order."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        _split_line(text, line.start(), line.end(), spans)
    return spans


def _split_line(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Append the sentences of the trimmed line text[start:end] to `spans`."""
    items = _list_cuts(text, start, end)
    sent = start  # where the current sentence starts
    alnum = start - 1  # the first letter or digit at or after `sent`
    for m in _candidates(text, start, end):
        p = m.start()
        while items and items[0][1] <= p:
            cut_end, nxt = items.pop(0)
            if nxt > sent:
                spans.append((sent, cut_end))
                sent = nxt
        if alnum < sent:
            found = _ALNUM.search(text, sent, end)
            alnum = found.start() if found else end
        if alnum >= p:  # only punctuation so far: never a sentence of its own
            continue
        cut = _boundary(text, m, sent, end)
        if cut is not None:
            spans.append((sent, cut[0]))
            sent = cut[1]
    for cut_end, nxt in items:
        if nxt > sent:
            spans.append((sent, cut_end))
            sent = nxt
    spans.append((sent, end))


def _candidates(text: str, start: int, end: int):
    """``_CANDIDATE.finditer(text, start, end)``, tried only where a candidate can start (its lookbehinds
    keep ``finditer`` from skipping ahead by itself)."""
    find, match, pos = _PUNCT.search, _CANDIDATE.match, start
    while (found := find(text, pos, end)) is not None:
        m = match(text, found.start(), end)
        if m is None:
            pos = found.start() + 1
        else:
            yield m
            pos = m.end()


def _list_cuts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(end of item, start of next item) for a line opening with a list marker: each next marker in
    sequence (2 after 1, b after a, same bullet and punctuation) starts an item."""
    first = _LIST_START.match(text, start, end)
    if first is None:
        return []
    bullet, n, punct = first.group("bullet", "n", "p")
    cuts = []
    for item in _LIST_ITEM.finditer(text, first.end() - 1, end):
        expected = str(int(n) + 1) if n.isdigit() else chr(ord(n) + 1)
        if item.group("bullet", "n", "p") == (bullet, expected, punct):
            cuts.append((item.start(), item.start("item")))
            n = expected
    return cuts


def _boundary(text: str, m: re.Match, sent: int, end: int) -> tuple[int, int] | None:
    """(end of this sentence, start of the next) when candidate `m` ends a sentence, else None."""
    word = m.group("word")
    if word[:1].islower():
        return None
    p = m.start()
    if p - sent <= 6 and _MARKER.fullmatch(text, sent, p):
        return None
    close_end, nxt = m.end("close"), m.end()
    cut = (close_end, nxt)
    punct = m.group("punct")
    if nxt == close_end:  # glued: "world.Today"
        return cut if _glued(text, sent, p, nxt, end, word) else None
    if "!" in punct or "?" in punct or "‽" in punct:
        return cut
    upper = word[:1].isupper()
    if punct[1:2].isspace():  # a spaced ellipsis
        if punct.count(".") == 3:
            return None
        if not text[p - 1].isspace() and close_end == m.end("punct"):
            # "compounds. . . . The": a full stop, then an ellipsis opens the next sentence
            return (p + 1, p + 2) if upper else None
        return cut
    if punct != ".":  # "...", "…", "...."
        return cut if upper else None
    if close_end > m.end("punct"):  # '"no." Then', '(engineer.) He'
        return cut
    tok = _token_before(text, sent, p)
    key = tok.lower()
    if key in _TITLES:
        return None
    if key in _ABBREVIATIONS:
        return cut if upper else None
    if key in ("a.m", "p.m"):
        if not upper or word in _TIME_ZONES or _LEADING_TIME.fullmatch(text, sent, p + 1):
            return None
        return cut
    if (len(tok) == 1 and tok.isalpha()) or _INITIALISM.fullmatch(tok):
        return cut if word in _STARTERS else None
    return cut


def _glued(text: str, sent: int, p: int, nxt: int, end: int, word: str) -> bool:
    """A full stop (or "!", "?") glued to the next sentence: "world.Today", "1,000.That", but not
    "U.S.A", "Mr.Smith", "Jane.Doe@example.com" nor "www.Example.com"."""
    if not (word[:1].isupper() and word[1:2].islower()):
        return False
    tok = _token_before(text, sent, p)
    key = tok.lower()
    if len(tok) < 2 or key in _TITLES or key in _ABBREVIATIONS or key == "www" or any(c in tok for c in "./@:"):
        return False
    tail = text[nxt : min(end, nxt + _LONGEST_TOKEN)].split(" ", 1)[0]
    return "@" not in tail and "/" not in tail


def _token_before(text: str, sent: int, p: int) -> str:
    """The word before position `p` of the sentence starting at `sent`, without opening quotes or
    brackets (at most its last _LONGEST_TOKEN characters)."""
    lo = max(sent, p - _LONGEST_TOKEN)
    space = text.rfind(" ", lo, p)
    return text[space + 1 if space >= 0 else lo : p].lstrip(_OPENERS)
