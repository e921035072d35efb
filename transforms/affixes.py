"""spaCy's suffix and infix searches and URL match, the same matches with less searching.

A tokenizer's ``suffix_search`` is one regular expression of many alternatives, each anchored at the end
(``...$``), searched at every position of a run of non-space characters: the third of the tokenizer's time
on words it has not met before. An alternative can only match a run that ends with one of the characters
its matches end with (read off the pattern), so ``EndSearch`` searches a run with only the alternatives
that can end with its last character, in their order: the same leftmost match, as the whole expression.

What is left of a run once its affixes are split off is matched against the URL pattern and searched for
infixes, both only on words new to the process. Every match of spaCy's URL pattern holds a full stop and no
infix match starts with a letter or digit (both read off the patterns), so ``NeedsChars`` and ``StartChars``
answer "no match" for a word without a full stop, or of letters and digits only (most words), unsearched.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_CLASS = 5000  # a character class wider than this counts as any character


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern, split at the ``|`` outside groups and character classes."""
    pieces, current, depth, in_class, escaped = [], [], 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = not (ch == "]" and current[-1] not in "[^")
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def _class_chars(items) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if str(op) == "LITERAL":
            out.add(chr(av))
        elif str(op) == "RANGE" and av[1] - av[0] <= MAX_CLASS:
            out.update(map(chr, range(av[0], av[1] + 1)))
        else:  # a negated class, a category (\w, \d), a wide range: any character
            return None
    return out


def _last_chars(items, parser) -> set[str] | None:
    """The characters a match of a parsed sequence can end with; None when any (or when it can be empty)."""
    return _edge_chars(items, parser, last=True)


def _first_chars(items, parser) -> set[str] | None:
    """The characters a match of a parsed sequence can start with; None when any (or when it can be empty)."""
    return _edge_chars(items, parser, last=False)


def _edge_chars(items, parser, last: bool) -> set[str] | None:
    """The characters a match of a parsed sequence can end (``last``) or start with; None when any (or when it
    can be empty): its items from that end, until one that cannot be empty."""
    out: set[str] = set()
    for item in reversed(list(items)) if last else items:
        op, av = str(item[0]), item[1]
        if op in ("AT", "ASSERT", "ASSERT_NOT"):  # zero width: the character beside it decides
            continue
        if op == "LITERAL":
            chars = {chr(av)}
        elif op == "IN":
            chars = _class_chars(av)
        elif op == "SUBPATTERN":
            chars = _edge_chars(av[-1].data, parser, last)
        elif op == "BRANCH":
            parts = [_edge_chars(branch.data, parser, last) for branch in av[1]]
            chars = None if any(p is None for p in parts) else set().union(*parts)
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            chars = _edge_chars(av[2].data, parser, last)
        else:
            return None
        if chars is None:
            return None
        out |= chars
        if parser.SubPattern(parser.State(), [item]).getwidth()[0] > 0:  # not empty: nothing beyond it ends or starts a match
            return out
    return None


def _needed_chars(items) -> set[str]:
    """Characters that every match of a parsed sequence holds (some of them: literals outside optional parts)."""
    out: set[str] = set()
    for item in items:
        op, av = str(item[0]), item[1]
        if op == "LITERAL":
            out.add(chr(av))
        elif op == "SUBPATTERN":
            out |= _needed_chars(av[-1].data)
        elif op == "BRANCH":
            out |= set.intersection(*(_needed_chars(branch.data) for branch in av[1]))
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] > 0:
            out |= _needed_chars(av[2].data)
    return out


def _parsed(pattern: re.Pattern):
    """The parse of a case-sensitive pattern (what re compiles), or None."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        return re._parser.parse(pattern.pattern, pattern.flags)  # the parser re compiles with (sre_parse before Python 3.11)
    except (AttributeError, re.error):
        return None


class StartChars:
    """``pattern.finditer`` for a pattern none of whose matches starts with a letter or digit (spaCy's infixes):
    no match in a string of letters and digits only. Searches every string when the pattern does not tell."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        parsed = _parsed(pattern)
        first = _first_chars(parsed.data, re._parser) if parsed is not None else None
        self.active = first is not None and not any(c.isalnum() for c in first)

    def __call__(self, string: str):
        if self.active and string.isalnum():
            return iter(())
        return self.pattern.finditer(string)


class NeedsChars:
    """``pattern.match`` for a pattern whose every match holds certain characters (a full stop in spaCy's URL
    pattern): no match in a string that lacks one of them."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        parsed = _parsed(pattern)
        self.needed = "".join(sorted(_needed_chars(parsed.data))) if parsed is not None else ""

    def __call__(self, string: str) -> re.Match | None:
        for char in self.needed:
            if char not in string:
                return None
        return self.pattern.match(string)


class EndSearch:
    """``pattern.search`` for a pattern whose every alternative is anchored at the end of the string
    (spaCy's suffix expressions), searching a string with the alternatives its last character allows.

    Falls back to the whole pattern for a string with a line break (``$`` also matches before a final
    one), and altogether when the pattern is not such a list of alternatives."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.by_last: dict[str, tuple[int, ...]] = {}
        self.anywhere: tuple[int, ...] = ()
        self.compiled: dict[tuple[int, ...], Callable] = {}
        self.pieces = _alternatives(pattern.pattern)
        self.active = False
        try:
            parser = re._parser  # the parser re compiles with (sre_parse before Python 3.11)
            parsed = [parser.parse(piece, pattern.flags) for piece in self.pieces]
        except (AttributeError, re.error):
            return
        whole = parser.parse(pattern.pattern, pattern.flags)
        branches = whole.data[0][1][1] if len(whole.data) == 1 and str(whole.data[0][0]) == "BRANCH" else None
        if pattern.flags & re.IGNORECASE or branches is None or len(branches) != len(self.pieces):
            return
        if any(not (p.data and str(p.data[-1][0]) == "AT" and str(p.data[-1][1]) == "AT_END") for p in parsed):
            return
        ends = [_last_chars(p.data, parser) for p in parsed]
        self.anywhere = tuple(i for i, chars in enumerate(ends) if chars is None)
        for c in set().union(*(chars for chars in ends if chars is not None)):
            self.by_last[c] = tuple(i for i, chars in enumerate(ends) if chars is None or c in chars)
        self.active = True

    def _search(self, alternatives: tuple[int, ...]) -> Callable:
        found = self.compiled.get(alternatives)
        if found is None:
            found = re.compile("|".join(self.pieces[i] for i in alternatives), self.pattern.flags).search if alternatives else _nothing
            self.compiled[alternatives] = found
        return found

    def __call__(self, string: str) -> re.Match | None:
        if not self.active or not string or "\n" in string:
            return self.pattern.search(string)
        return self._search(self.by_last.get(string[-1], self.anywhere))(string)


def _nothing(string: str) -> None:
    return None


def faster_affixes(tokenizer) -> None:
    """A spaCy tokenizer's ``suffix_search`` replaced by its ``EndSearch``, its ``infix_finditer`` by its
    ``StartChars`` and its ``url_match`` by its ``NeedsChars`` (the same matches, so the same tokens)."""
    for name, faster, method in (("suffix_search", EndSearch, "search"), ("infix_finditer", StartChars, "finditer"),
                                 ("url_match", NeedsChars, "match")):
        found = getattr(tokenizer, name)
        pattern = getattr(found, "__self__", None)
        if isinstance(pattern, re.Pattern) and getattr(found, "__name__", None) == method:
            setattr(tokenizer, name, faster(pattern))
