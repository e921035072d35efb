"""Where a phrase dictionary can match a text: the stretches a dictionary-mode analysis must tokenise.

spaCy's tokenizer cuts a text at whitespace first and tokenises each run of non-space characters on its
own, so the tokens of a stretch that starts and ends at such runs are the tokens the whole text has
there. A phrase of tokens t1 ... tn matches a Doc only where the text holds t1, t2, ... tn each
followed by nothing or by one space (a token's trailing whitespace is one space at most: any other
whitespace is a token of its own). ``FormSpotter`` finds every position where one of those spellings
starts, with the end of the longest one (Aho-Corasick over all of them, pyahocorasick), and returns the stretches around them, widened by whole runs
of non-space characters (each at least one token) to the context the caller reads around a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import product

import ahocorasick

SEPARATOR = "\n\n"  # between stretches: a whitespace token, which no phrase holds


def spellings(tokens: Sequence[str]) -> list[str]:
    """Every way a phrase's tokens can be written in a text: joined by nothing or by one space."""
    return ["".join(t + gap for t, gap in zip(tokens, (*gaps, ""))) for gaps in product(("", " "), repeat=len(tokens) - 1)]


class FormSpotter:
    """Finds the stretches of a text where phrases (each a sequence of token texts) can match.

    Args:
        phrases: the token texts of every phrase, as the tokenizer splits them.
        before, after: whole runs of non-space characters kept before a match's first one and after its
            last one (at least as many tokens as the caller reads beside a match).
    """

    def __init__(self, phrases: Iterable[Sequence[str]], before: int, after: int):
        strings = {s for tokens in phrases if tokens for s in spellings(tokens) if s}
        self.automaton = None
        if strings:
            self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for s in strings:
                self.automaton.add_word(s, len(s))
            self.automaton.make_automaton()
        self.before = before
        self.after = after
        # the rest of a run and up to n more: matched forwards from a match's end, and in the reversed text from its start
        self._ahead = re.compile(rf"\S*(?:\s+\S+){{0,{after}}}")
        self._back = re.compile(rf"\S*(?:\s+\S+){{0,{before}}}")

    def matches(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the longest spelling at every position where one starts, overlapping ones too."""
        if self.automaton is None:
            return []
        # the automaton reports matches by their ends in text order: a start's last one is its longest
        return sorted({last + 1 - length: last + 1 for last, length in self.automaton.iter(text)}.items())

    def windows(self, text: str) -> list[tuple[int, int]]:
        """Disjoint (start, end) stretches of ``text``, in order, holding every match with its context;
        a stretch that reaches the first or last run of the text reaches the text's start or end."""
        found = self.matches(text)
        if not found:
            return []
        n = len(text)
        reverse = text[::-1]
        first, last = n - len(text.lstrip()), len(text.rstrip())
        spans: list[list[int]] = []
        for start, end in found:
            a = n - self._back.match(reverse, n - start).end()
            b = self._ahead.match(text, end).end()
            a = 0 if a <= first else a
            b = n if b >= last else b
            if spans and (a <= spans[-1][1] or text[spans[-1][1] : a].isspace()):
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
        return [(a, b) for a, b in spans]


def joined(text: str, windows: list[tuple[int, int]]) -> tuple[str, list[int], list[int]]:
    """The stretches of ``text`` joined by SEPARATOR, with each stretch's start in the joined text and in ``text``."""
    parts, at, origins, pos = [], [], [], 0
    for start, end in windows:
        at.append(pos)
        origins.append(start)
        parts.append(text[start:end])
        pos += end - start + len(SEPARATOR)
    return SEPARATOR.join(parts), at, origins
