"""Near-duplicate articles: MinHash signatures over word shingles, queried through LSH."""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5
SCHEME = "affine32"  # pinned: persisted signatures must stay comparable across datasketch versions
_WORD = re.compile(r"\w+")


def signature(text: str) -> np.ndarray:
    """MinHash of the text's lower-cased 5-word shingles (a stable uint64 array of NUM_PERM values)."""
    words = _WORD.findall(text.lower())
    grams = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    m.update_batch([g.encode("utf-8") for g in grams])
    return m.hashvalues.astype(np.uint64)


class NearDuplicateIndex:
    """Articles seen so far; ``check_and_add`` names the earliest similar one, if any.

    Args:
        threshold: estimated Jaccard similarity of shingle sets at or above which two
            articles are near-duplicates (NEWSLAKE_NEAR_DUPLICATE_THRESHOLD).
    """

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.hashes: dict[str, np.ndarray] = {}

    def add(self, article_id: str, hashvalues: np.ndarray) -> None:
        if article_id not in self.hashes:
            self.hashes[article_id] = hashvalues
            self.lsh.insert(article_id, MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, hashvalues=hashvalues))

    def similar(self, hashvalues: np.ndarray) -> list[tuple[str, float]]:
        """Known articles at or above the threshold, most similar first (ties by id)."""
        out = []
        for other in self.lsh.query(MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, hashvalues=hashvalues)):
            score = float(np.mean(self.hashes[other] == hashvalues))
            if score >= self.threshold:
                out.append((other, score))
        return sorted(out, key=lambda x: (-x[1], x[0]))

    def check_and_add(self, article_id: str, hashvalues: np.ndarray) -> tuple[str, float] | None:
        """The article this one nearly duplicates (id, similarity), or None; adds it either way."""
        hits = [h for h in self.similar(hashvalues) if h[0] != article_id]
        self.add(article_id, hashvalues)
        return hits[0] if hits else None
