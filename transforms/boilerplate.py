"""Lines that repeat across many articles of one source (bylines, footers, navigation) are boilerplate."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from transforms.text import normalise

MAX_LINE_CHARS = 300


class SourceProfile:
    """Counts, per source, the distinct articles each short line appears in (exact copies count once)."""

    def __init__(self) -> None:
        self.lines: dict[str, Counter] = defaultdict(Counter)
        self.articles: Counter = Counter()
        self._seen: set[bytes] = set()

    def add(self, source: str, text: str) -> None:
        text = normalise(text)
        key = hashlib.sha1(text.encode("utf-8")).digest()
        if key in self._seen:
            return
        self._seen.add(key)
        self.articles[source] += 1
        self.lines[source].update({line for line in text.split("\n") if 0 < len(line) <= MAX_LINE_CHARS})

    @classmethod
    def merge(cls, profiles: list["SourceProfile"]) -> "SourceProfile":
        """One profile of several batches' (a text met in two batches counts in each)."""
        out = cls()
        for p in profiles:
            for source, counts in p.lines.items():
                out.lines[source].update(counts)
            out.articles.update(p.articles)
            out._seen |= p._seen
        return out

    def frequent(self, min_articles: int, min_share: float) -> dict[str, frozenset[str]]:
        """Per source, the lines in at least ``min_articles`` articles and ``min_share`` of them."""
        out = {}
        for source, counts in self.lines.items():
            floor = max(min_articles, min_share * self.articles[source])
            lines = frozenset(line for line, n in counts.items() if n >= floor)
            if lines:
                out[source] = lines
        return out

    def merged_with(self, stored: list[dict], min_articles: int, min_share: float) -> list[dict]:
        """``source_lines`` rows: the lines already stored plus this profile's frequent ones."""
        lines = {(r["source_name"], r["line"]): r["n_articles"] for r in stored}
        for source, found in self.frequent(min_articles, min_share).items():
            for line in found:
                lines[(source, line)] = max(lines.get((source, line), 0), self.lines[source][line])
        return [{"source_name": s, "line": line, "n_articles": n} for (s, line), n in sorted(lines.items())]


def drop_lines(rows: list[dict]) -> dict[str, frozenset[str]]:
    """``source_lines`` rows as the lines to drop from each source's articles."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[r["source_name"]].add(r["line"])
    return {source: frozenset(lines) for source, lines in out.items()}
