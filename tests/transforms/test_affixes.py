"""spaCy's suffix search through EndSearch: the same matches as the whole expression."""

import re

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import corpus
from transforms.affixes import EndSearch, faster_suffixes


def _span(m):
    return None if m is None else m.span()


@pytest.fixture(scope="module")
def english():
    return spacy.blank("en").tokenizer.suffix_search.__self__


@pytest.mark.parametrize(
    "string, span",
    [("10km", (2, 4)), ("km", None), ("a...", (1, 4)), ("cats", (3, 4)), ("cat", None), ("", None), ("s\n", (0, 1))],
)
def test_end_search_finds_the_leftmost_match_of_the_whole_pattern(string, span):
    pattern = re.compile(r"(?<=[0-9])(?:km|m)$|\.\.+$|s$")
    search = EndSearch(pattern)
    assert search.active
    assert _span(search(string)) == _span(pattern.search(string)) == span


@pytest.mark.parametrize("pattern", [r"a|b", r"a$|b", r"(?i)a$|b$", r"a$|\w+$"])
def test_end_search_falls_back_or_searches_all_where_it_cannot_tell(pattern):
    compiled = re.compile(pattern)
    search = EndSearch(compiled)
    for string in ["a", "b", "ab", "xa", "B", "A", "zz"]:
        assert _span(search(string)) == _span(compiled.search(string))
    assert search.active == (pattern in (r"a$|\w+$",))


def test_end_search_of_spacys_english_suffixes_on_every_bbc_run(english):
    search = EndSearch(english)
    assert search.active and len(search.pieces) > 50
    runs = {r for path in sorted(corpus("bbc").glob("*/*.txt"))[::4] for r in path.read_bytes().decode("utf-8", "replace").split()}
    assert len(runs) > 20_000
    assert [_span(search(r)) for r in sorted(runs)] == [_span(english.search(r)) for r in sorted(runs)]


ODD = list("aZs.'’\"%$€°²)]…,:!?-") + ["km", "km²", "кг", "كم", "'s", "’S", "..", "10", "\n", "ß", "¿", "。"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(ODD), max_size=6).map("".join))
def test_end_search_of_spacys_english_suffixes_on_odd_endings(english, string):
    assert _span(EndSearch(english)(string)) == _span(english.search(string))


def test_a_tokenizer_with_faster_suffixes_gives_the_same_tokens():
    stock, fast = spacy.blank("en"), spacy.blank("en")
    faster_suffixes(fast.tokenizer)
    assert isinstance(fast.tokenizer.suffix_search, EndSearch)
    for path in sorted(corpus("bbc").glob("*/*.txt"))[::40]:
        text = path.read_bytes().decode("utf-8", "replace")
        assert [(t.text, t.whitespace_) for t in fast.make_doc(text)] == [(t.text, t.whitespace_) for t in stock.make_doc(text)]
