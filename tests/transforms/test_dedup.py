"""MinHash signatures: bit for bit datasketch's "affine32" scheme, so stored signatures stay comparable."""

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.dedup import NUM_PERM, SEED, SHINGLE, _WORD, signature, similarity, words


def datasketch_signature(text: str) -> np.ndarray:
    words = _WORD.findall(text.lower())
    grams = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")
    m.update_batch([g.encode("utf-8") for g in grams])
    return m.hashvalues.astype(np.uint64)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cd éf\n.,1"), max_size=300))
def test_signature_equals_datasketch_affine32(text):
    assert np.array_equal(signature(text), datasketch_signature(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_words_are_the_lower_cased_word_runs_of_any_text(text):
    assert words(text) == [w.encode("utf-8", "surrogatepass") for w in _WORD.findall(text.lower())]


@pytest.mark.parametrize("text", ["İstanbul's\u00a0ČEZ—deal", "a_b ²3 ٣٤ ǅx \ud800 y\u0301z", "tab\tand\x1cfile\x85sep", "£5m, “quoted” ‘words’ … end",
                                  " ".join(f"w{chr(0x2600 + n)}x" for n in range(40))])  # the last: more odd characters than are replaced
def test_words_of_odd_characters(text):
    assert words(text) == [w.encode("utf-8") for w in _WORD.findall(text.lower())]
    assert np.array_equal(signature(text), datasketch_signature(text))


def test_signature_values_and_similarity():
    one = "The prime minister said the election would be held in May after a long campaign."
    sig = signature(one)
    assert sig.dtype == np.uint64 and sig.shape == (NUM_PERM,) and int(sig.max()) < 2**32
    assert np.array_equal(sig, datasketch_signature(one))
    assert similarity(sig, signature(one.upper())) == 1.0  # shingles are lower-cased words
    assert similarity(sig, signature("Nothing in common with the other text at all, none whatsoever.")) < 0.1


@pytest.mark.parametrize("text", ["", "...", "one", "one two three four", "one two three four five", "one two three four five six",
                                  "Déjà vu, déjà vu: the same five words again and the same five words again.", "ß " * 40])
def test_signature_of_short_texts_and_repeated_shingles_equals_datasketch(text):
    assert np.array_equal(signature(text), datasketch_signature(text))
