"""Near-duplicate articles: MinHash signatures over word shingles, candidates through LSH band keys."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict
from operator import methodcaller

import numpy as np

NUM_PERM = 128
SHINGLE = 5
SEED = 1
# LSH banding, fixed so that band keys stored in the lake stay valid whatever the threshold setting:
# 20 bands of 6 values find pairs at Jaccard 0.8 with probability 0.998, at 0.7 with 0.92, at 0.1 with 2e-5
BANDS = 20
ROWS = 6
# How a shingle becomes the 32-bit value the permutations take, recorded by every run (``runs.minhash_scheme``): a
# lake keeps the scheme of its signatures, so that an article is only ever compared with signatures made alike.
SHA1_SHINGLES = "sha1-shingles"  # SHA-1 of each shingle's bytes (datasketch's; the lakes of runs that recorded none)
CRC32_WORDS = "crc32-words"  # CRC-32 of each word once, five mixed per shingle with numpy: a third of the CPU
MINHASH_SCHEMES = (SHA1_SHINGLES, CRC32_WORDS)
MINHASH = CRC32_WORDS  # the scheme of a new lake
# odd multipliers (a bijection each) of the five word hashes of a shingle, so that word order matters
_MIX = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1], dtype=np.uint32)
_WORD = re.compile(r"\w+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_FEW_ODD = 16  # distinct non-ASCII characters that are no word character (quotes, dashes, currency signs, spaces)
# bytes.translate table: an ASCII byte that is no word character (``\w``: letters, digits, "_") becomes a space;
# the bytes of non-ASCII characters stay (those that are no word character are replaced before encoding)
_ASCII_WORDS = bytes(b if chr(b).isalnum() or chr(b) == "_" else ord(" ") for b in range(128)) + bytes(range(128, 256))


def _permutations(seed: int = SEED, num_perm: int = NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd: a bijection
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a[:, None], b[:, None]


_A, _B = _permutations()
_A1 = _A.ravel()
_DIGEST = methodcaller("digest")
_SHA1_WORDS = hashlib.sha1().digest_size // 4  # a digest as little-endian 32-bit words: its first 4 bytes are the first


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (a bijection that spreads the input hash)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def words(text: str) -> list[bytes]:
    """The text's lower-cased words (runs of ``\\w``, as ``_WORD.findall(text.lower())`` finds them), UTF-8
    encoded: every character that is no word character becomes a space, then the bytes are split at spaces.
    The text's few distinct non-ASCII characters are looked at one by one, the ASCII ones by a byte table."""
    lower = text.lower()
    if not lower.isascii():
        odd = [char for char in set("".join(_NON_ASCII.findall(lower))) if not _WORD.match(char)]
        if len(odd) > _FEW_ODD:  # each is a pass over the text: many (symbols, emoji) are found by the pattern instead
            return [word.encode("utf-8") for word in _WORD.findall(lower)]
        for char in odd:
            lower = lower.replace(char, " ")
    return lower.encode("utf-8").translate(_ASCII_WORDS).split()


def signature(text: str, scheme: str = MINHASH) -> np.ndarray:
    """MinHash of the text's lower-cased 5-word shingles (a stable uint64 array of NUM_PERM values).

    Each shingle becomes a 32-bit value by ``scheme``, is mixed by MurmurHash3's finalizer, then NUM_PERM
    affine permutations a*h+b mod 2^32 take their minima; written out with numpy so that every command need
    not import datasketch (and scipy behind it), and so that stored signatures never depend on its version.
    With ``SHA1_SHINGLES`` this is datasketch's "affine32" scheme (seed 1) bit for bit (a test compares them):
    SHA-1 of each shingle cut to 32 bits. ``CRC32_WORDS`` hashes each word once (CRC-32) and a shingle's five
    word values multiplied by odd constants and summed: shingles of other words or in another order get other
    values, and a text costs a third of the CPU (most of the SHA-1 scheme's cost is a hash object per shingle).
    A shingle that occurs twice is hashed twice: the minima are those of the set of shingles.
    """
    found = words(text)
    if scheme == CRC32_WORDS:
        hashes = _fmix32(_crc32_shingles(found))
    elif scheme == SHA1_SHINGLES:
        grams = map(b" ".join, zip(*(found[i:] for i in range(SHINGLE)))) if len(found) >= SHINGLE else [b" ".join(found)]
        digests = b"".join(map(_DIGEST, map(hashlib.sha1, grams)))  # one C-level pass, no Python per shingle
        hashes = _fmix32(np.frombuffer(digests, dtype="<u4")[::_SHA1_WORDS].astype(np.uint32))
    else:
        raise ValueError(f"unknown MinHash scheme {scheme!r}: one of {', '.join(MINHASH_SCHEMES)}")
    permuted = np.multiply.outer(_A1, hashes)  # uint32 arrays wrap mod 2^32, silently
    permuted += _B
    return permuted.min(axis=1).astype(np.uint64)


def _crc32_shingles(found: list[bytes]) -> np.ndarray:
    """One uint32 per 5-word shingle: the sum of its words' CRC-32 values times ``_MIX`` (mod 2^32); a text of
    fewer words is one shingle, the CRC-32 of its words joined by spaces."""
    if len(found) < SHINGLE:
        return np.array([zlib.crc32(b" ".join(found))], dtype=np.uint32)
    values = np.fromiter(map(zlib.crc32, found), dtype=np.uint32, count=len(found))
    n = len(found) - SHINGLE + 1
    out = values[:n] * _MIX[0]
    for i in range(1, SHINGLE):
        out += values[i : i + n] * _MIX[i]
    return out


# each band's BLAKE2b state before its values: copied per signature (half the cost of making one with its parameters)
_BAND_HASHES = [hashlib.blake2b(digest_size=8, person=band.to_bytes(2, "little")) for band in range(BANDS)]


def band_keys(hashvalues: np.ndarray) -> list[int]:
    """The signature's LSH band keys (signed 64-bit, one per band): two articles sharing a key are candidates;
    a band's key is the BLAKE2b digest (8 bytes, personalised by the band's number) of its values' bytes."""
    data = np.asarray(hashvalues, dtype=np.uint64).tobytes()
    step = ROWS * 8
    keys = []
    for band, start in enumerate(_BAND_HASHES):
        h = start.copy()
        h.update(data[band * step : (band + 1) * step])
        keys.append(int.from_bytes(h.digest(), "little", signed=True))
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal MinHash values."""
    return float(np.mean(np.asarray(a, dtype=np.uint64) == np.asarray(b, dtype=np.uint64)))


class NearDuplicateIndex:
    """Articles seen so far; ``check_and_add`` names the most similar earlier one at or above the threshold.

    Args:
        threshold: estimated Jaccard similarity of shingle sets at or above which two
            articles are near-duplicates (NEWSLAKE_NEAR_DUPLICATE_THRESHOLD).
    """

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.buckets: dict[int, list[str]] = defaultdict(list)
        self.hashes: dict[str, np.ndarray] = {}

    def add(self, article_id: str, hashvalues: np.ndarray, keys: list[int] | None = None) -> None:
        """Index an article by its signature (``keys``: its band keys, when known already)."""
        if article_id not in self.hashes:
            self.hashes[article_id] = np.asarray(hashvalues, dtype=np.uint64)
            for key in band_keys(hashvalues) if keys is None else keys:
                self.buckets[key].append(article_id)

    def similar(self, hashvalues: np.ndarray, keys: list[int] | None = None) -> list[tuple[str, float]]:
        """Known articles at or above the threshold, most similar first (ties by id)."""
        candidates = {other for key in (band_keys(hashvalues) if keys is None else keys) for other in self.buckets.get(key, ())}
        out = [(other, similarity(self.hashes[other], hashvalues)) for other in candidates]
        return sorted([h for h in out if h[1] >= self.threshold], key=lambda x: (-x[1], x[0]))

    def check_and_add(self, article_id: str, hashvalues: np.ndarray, keys: list[int] | None = None) -> tuple[str, float] | None:
        """The article this one nearly duplicates (id, similarity), or None; adds it either way. ``keys``: the
        signature's band keys (``band_keys``), when known already."""
        keys = band_keys(hashvalues) if keys is None else keys
        hits = [h for h in self.similar(hashvalues, keys) if h[0] != article_id]
        self.add(article_id, hashvalues, keys)
        return hits[0] if hits else None
