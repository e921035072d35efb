"""MinHash signatures: the SHA-1 scheme bit for bit datasketch's "affine32", the CRC-32 scheme bit for bit a plain
Python reading of its definition, and both stable, so that stored signatures stay comparable."""

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import zlib

from transforms.dedup import (
    CRC32_WORDS, MINHASH, NUM_PERM, SEED, SHA1_SHINGLES, SHINGLE, _WORD, _A, _B, signature, similarity, words,
)


def datasketch_signature(text: str) -> np.ndarray:
    words = _WORD.findall(text.lower())
    grams = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")
    m.update_batch([g.encode("utf-8") for g in grams])
    return m.hashvalues.astype(np.uint64)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cd éf\n.,1"), max_size=300))
def test_signature_equals_datasketch_affine32(text):
    assert np.array_equal(signature(text, SHA1_SHINGLES), datasketch_signature(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_words_are_the_lower_cased_word_runs_of_any_text(text):
    assert words(text) == [w.encode("utf-8", "surrogatepass") for w in _WORD.findall(text.lower())]


@pytest.mark.parametrize("text", ["İstanbul's\u00a0ČEZ—deal", "a_b ²3 ٣٤ ǅx \ud800 y\u0301z", "tab\tand\x1cfile\x85sep", "£5m, “quoted” ‘words’ … end",
                                  " ".join(f"w{chr(0x2600 + n)}x" for n in range(40))])  # the last: more odd characters than are replaced
def test_words_of_odd_characters(text):
    assert words(text) == [w.encode("utf-8") for w in _WORD.findall(text.lower())]
    assert np.array_equal(signature(text, SHA1_SHINGLES), datasketch_signature(text))


def test_signature_values_and_similarity():
    one = "The prime minister said the election would be held in May after a long campaign."
    sig = signature(one, SHA1_SHINGLES)
    assert sig.dtype == np.uint64 and sig.shape == (NUM_PERM,) and int(sig.max()) < 2**32
    assert np.array_equal(sig, datasketch_signature(one))
    assert similarity(sig, signature(one.upper(), SHA1_SHINGLES)) == 1.0  # shingles are lower-cased words
    assert similarity(sig, signature("Nothing in common with the other text at all, none whatsoever.", SHA1_SHINGLES)) < 0.1


@pytest.mark.parametrize("text", ["", "...", "one", "one two three four", "one two three four five", "one two three four five six",
                                  "Déjà vu, déjà vu: the same five words again and the same five words again.", "ß " * 40])
def test_signature_of_short_texts_and_repeated_shingles_equals_datasketch(text):
    assert np.array_equal(signature(text, SHA1_SHINGLES), datasketch_signature(text))


MIX = [0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1]


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def crc32_words_signature(text: str) -> list[int]:
    """The CRC-32 scheme as its docstring defines it, in plain Python integers."""
    found = [w.encode("utf-8", "surrogatepass") for w in _WORD.findall(text.lower())]
    if len(found) < SHINGLE:
        shingles = [zlib.crc32(b" ".join(found))]
    else:
        shingles = [sum(zlib.crc32(w) * m for w, m in zip(found[i : i + SHINGLE], MIX)) & 0xFFFFFFFF
                    for i in range(len(found) - SHINGLE + 1)]
    hashed = {fmix32(h) for h in shingles}
    return [min((int(a) * h + int(b)) & 0xFFFFFFFF for h in hashed) for a, b in zip(_A.ravel(), _B.ravel())]


def test_a_new_lake_signs_with_the_crc32_scheme():
    assert MINHASH == CRC32_WORDS


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cd éf\n.,1"), max_size=300))
def test_crc32_words_signature_is_its_definition(text):
    assert signature(text, CRC32_WORDS).tolist() == crc32_words_signature(text)


@pytest.mark.parametrize("text", ["", "...", "one", "one two three four", "one two three four five", "one two three four five six",
                                  "İstanbul's\u00a0ČEZ—deal", "Déjà vu, déjà vu: the same five words again and the same five words again."])
def test_crc32_words_signature_of_short_and_odd_texts(text):
    assert signature(text, CRC32_WORDS).tolist() == crc32_words_signature(text)


def test_crc32_words_signature_values_are_pinned():
    """Stored signatures must never change under a lake: these values are the scheme's, for good."""
    sig = signature("The prime minister said the election would be held in May after a long campaign.", CRC32_WORDS)
    assert sig.dtype == np.uint64 and sig.shape == (NUM_PERM,) and int(sig.max()) < 2**32
    assert sig[:4].tolist() == [647372632, 1190507565, 232260354, 455864435]


def test_band_keys_are_pinned():
    """Stored band keys (the lake's ``signature_bands``) must never change either: these are the keys of the signature above."""
    from transforms.dedup import BANDS, band_keys

    keys = band_keys(signature("The prime minister said the election would be held in May after a long campaign.", CRC32_WORDS))
    assert len(keys) == BANDS and keys[:3] == [-7356347055962552685, -3762182507558890913, 6791294413821369580]
    assert keys[-1] == 9135482960724324182
    assert band_keys(signature("The prime minister said the election would be held in May after a long campaign.", CRC32_WORDS).tolist()) == keys


def test_crc32_words_similarity_follows_the_shared_shingles():
    base = " ".join(f"word{i}" for i in range(200))
    near = base.replace("word100", "other100")  # 5 of 196 shingles differ
    assert similarity(signature(base), signature(base.upper())) == 1.0
    assert similarity(signature(base), signature(near)) > 0.85
    assert similarity(signature(base), signature(" ".join(f"word{i}" for i in reversed(range(200))))) < 0.1  # same words, other order
    assert similarity(signature(base), signature("Nothing in common with the other text at all, none whatsoever.")) < 0.1


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown MinHash scheme 'md5'"):
        signature("text", "md5")


def test_crc32_words_estimates_the_jaccard_similarity_without_bias():
    """Over pairs of texts sharing a known share of their shingles, the estimate's error is that of 128 random
    permutations (standard deviation at most 0.044), centred on zero."""
    import random

    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(5000)]
    errors = []
    for _ in range(60):
        base = rng.choices(vocabulary, k=300)
        other = list(base)
        for i in rng.sample(range(300), rng.randint(1, 40)):
            other[i] = rng.choice(vocabulary)
        a, b = " ".join(base), " ".join(other)
        shingles = [{tuple(t[i : i + SHINGLE]) for i in range(len(t) - SHINGLE + 1)} for t in (base, other)]
        jaccard = len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])
        errors.append(similarity(signature(a, CRC32_WORDS), signature(b, CRC32_WORDS)) - jaccard)
    assert abs(sum(errors) / len(errors)) < 0.015
    assert max(map(abs, errors)) < 0.15
    assert (sum(e * e for e in errors) / len(errors)) ** 0.5 < 0.05
