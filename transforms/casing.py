"""All-capitals text re-cased for the entity recogniser, character for character.

A statistical recogniser trained on mixed-case news reads "JAPAN GET LUCKY WIN", "CHICAGO 65 66 .496"
and the "BIRMINGHAM , England" of a dateline poorly: capitals are a strong name signal, and a line of
nothing but capitals carries none. ``recased`` writes such words in title case ("Japan Get Lucky
Win", "Chicago", "Birmingham") before the recogniser runs, keeping every other character and the
length of the text, so offsets into the re-cased text are offsets into the original.

Re-cased: every all-capitals word of a line that has no lower-case letter (headlines, results
tables) and the all-capitals words that open a line before a comma (datelines). Kept: words of one
or two letters ("U.S.", "UN", "AC") but English function words ("OF", "IN") and name particles
("EL SALVADOR", "ST LOUIS"), and the ``keep`` forms (the acronyms the actor dictionary knows
in capitals: "NATO", "ISIL", "USA"). Lower-cased, unless they open the line: English stop words
("of", "the", "by") and, the document-centred rule of truecasers, words the same article writes in
lower case and never capitalised ("ENGLAND BEAT PAKISTAN BY 107 RUNS" over a body that says "beat"
and "runs": "England beat Pakistan by 107 runs"). Every other word is title-cased.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

_LINE = re.compile(r"[^\n]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’.\-&][^\W\d_]+)*")
_DATELINE = re.compile(r"\A\s*(?:[^\W\d_a-z][^\sa-z]*\s+)*?[^\W\d_a-z][^\sa-z]*\s*,")
FUNCTION_WORDS = frozenset(STOP_WORDS | {"vs", "v"})
SHORT_WORDS = frozenset("a an as at be by do he if in is it me my no of on or so to up we".split())  # never "US", "UN"
PARTICLES = frozenset("el la le de du da di al st mc".split())  # "EL SALVADOR", "ST LOUIS": parts of names
_UPPER = re.compile(r"[^\W\d_a-z]")
_LOWER = re.compile(r"(?<![\w'’-])[a-z]+(?![\w'’-])")
_TITLED = re.compile(r"(?<![\w'’-])[A-Z][a-z]+(?![\w'’-])")


def _title(word: str) -> str:
    """'AL-AIN' -> 'Al-Ain', "O'NEILL" -> "O'Neill", "JAPAN'S" -> "Japan's"; same length or unchanged."""
    out = re.sub(r"[^\W\d_]+", lambda m: m.group()[0] + m.group()[1:].lower(), word)
    out = re.sub(r"(?<=['’])S\b", "s", out)
    return out if len(out) == len(word) else word


def _recase_words(line: str, keep: frozenset[str], lower: set[str]) -> str:
    def one(m: re.Match) -> str:
        word = m.group()
        letters = [c for c in word if c.isalpha()]
        if len(letters) <= 2 and word.lower() not in SHORT_WORDS | PARTICLES or word in keep or not word.isupper():
            return word
        if (word.lower() in FUNCTION_WORDS or word.lower() in lower) and m.start() != start:
            return word.lower()
        return _title(word)

    start = len(line) - len(line.lstrip())
    return _WORD.sub(one, line)


def recased(text: str, keep: frozenset[str] = frozenset()) -> str:
    """``text`` with its all-capitals lines and dateline heads in title case; same length, and the
    same text when nothing is all capitals."""
    if text.lower() == text:
        return text
    lower: set[str] | None = None

    def line(m: re.Match) -> str:
        nonlocal lower
        s = m.group()
        caps = s.upper() == s
        head = None if caps else _DATELINE.match(s)
        if not (caps and len(_UPPER.findall(s)) >= 4 or head and len(_UPPER.findall(head.group())) >= 4):
            return s
        if lower is None:  # words the article writes in lower case and never capitalised
            lower = set(_LOWER.findall(text)) - {w.lower() for w in _TITLED.findall(text)}
        if caps:
            return _recase_words(s, keep, lower)
        return _recase_words(head.group(), keep, lower) + s[head.end():]

    return _LINE.sub(line, text)
