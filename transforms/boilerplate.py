"""Lines that repeat across many articles of one source (bylines, footers, navigation) are boilerplate."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from transforms.text import normalise

MAX_LINE_CHARS = 300


class SourceProfile:
    """The short lines of each distinct article text, by source: how many distinct articles each line
    appears in (exact copies count once, also across batches merged with ``merge``)."""

    def __init__(self) -> None:
        self.texts: dict[bytes, tuple[str, tuple[str, ...]]] = {}  # text key -> (source, its short lines)

    def add(self, source: str, text: str) -> None:
        text = normalise(text)
        key = hashlib.sha1(text.encode("utf-8")).digest()
        if key not in self.texts:
            self.texts[key] = (source, tuple(sorted({line for line in text.split("\n") if 0 < len(line) <= MAX_LINE_CHARS})))

    @classmethod
    def merge(cls, profiles: list[SourceProfile]) -> SourceProfile:
        """One profile of several batches' profiles, given in input order (the first copy of a text wins)."""
        out = cls()
        for p in profiles:
            for key, entry in p.texts.items():
                out.texts.setdefault(key, entry)
        return out

    @property
    def articles(self) -> Counter:
        """Distinct articles per source."""
        return Counter(source for source, _ in self.texts.values())

    @property
    def lines(self) -> dict[str, Counter]:
        """Per source, the number of distinct articles each short line appears in."""
        out: dict[str, Counter] = defaultdict(Counter)
        for source, lines in self.texts.values():
            out[source].update(lines)
        return out

    def frequent(self, min_articles: int, min_share: float) -> dict[str, frozenset[str]]:
        """Per source, the lines in at least ``min_articles`` articles and ``min_share`` of them."""
        out, articles = {}, self.articles
        for source, counts in self.lines.items():
            floor = max(min_articles, min_share * articles[source])
            lines = frozenset(line for line, n in counts.items() if n >= floor)
            if lines:
                out[source] = lines
        return out

    def merged_with(self, stored: list[dict], min_articles: int, min_share: float) -> list[dict]:
        """``source_lines`` rows: the lines already stored plus this profile's frequent ones."""
        lines = {(r["source_name"], r["line"]): r["n_articles"] for r in stored}
        counts = self.lines
        for source, found in self.frequent(min_articles, min_share).items():
            for line in found:
                lines[(source, line)] = max(lines.get((source, line), 0), counts[source][line])
        return [{"source_name": s, "line": line, "n_articles": n} for (s, line), n in sorted(lines.items())]


def with_sources_replaced(stored: list[dict], rows: list[dict]) -> list[dict]:
    """The whole ``source_lines`` table after a run: the stored rows of the sources the run did not
    profile, and ``rows`` (the run's sources, stored lines included), sorted."""
    sources = {r["source_name"] for r in rows}
    kept = [r for r in stored if r["source_name"] not in sources]
    return sorted(kept + rows, key=lambda r: (r["source_name"], r["line"]))


def drop_lines(rows: list[dict]) -> dict[str, frozenset[str]]:
    """``source_lines`` rows as the lines to drop from each source's articles."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[r["source_name"]].add(r["line"])
    return {source: frozenset(lines) for source, lines in out.items()}


def stale_sources(applied: dict[str, frozenset[str]], final: dict[str, frozenset[str]]) -> set[str]:
    """The sources whose lines to drop differ between what a pass dropped (``applied``) and what the run decided
    (``final``): their articles are to be prepared again."""
    return {s for s in applied.keys() | final.keys() if applied.get(s, frozenset()) != final.get(s, frozenset())}
