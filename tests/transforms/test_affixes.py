"""spaCy's suffix search through EndSearch, its infix search through StartChars and its URL match through
NeedsChars: the same matches as the whole expressions."""

import re

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import corpus
from transforms.affixes import EndSearch, NeedsChars, StartChars, faster_affixes


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


def _spans(matches):
    return [m.span() for m in matches]


@pytest.fixture(scope="module")
def infixes():
    return spacy.blank("en").tokenizer.infix_finditer.__self__


@pytest.fixture(scope="module")
def url():
    return spacy.blank("en").tokenizer.url_match.__self__


@pytest.mark.parametrize("pattern, active", [(r"(?<=[0-9])[+\-](?=[0-9])|\.\.+|…", True), (r"-|a-", False), (r"\w|,", False),
                                             (r"(?i),|x", False), (r"x?,", False), (r"x*|,", False), (r"[^a],", False)])
def test_start_chars_is_active_only_where_no_match_starts_with_a_letter_or_digit(pattern, active):
    compiled = re.compile(pattern)
    search = StartChars(compiled)
    assert search.active == active
    for string in ["a1", "1+2", "a..b", "xa", "x,", "…", "ab-c", "a"]:
        assert _spans(search(string)) == _spans(compiled.finditer(string))


@pytest.mark.parametrize("pattern, needed", [(r"^(?:\w+://)?\w+\.[a-z]{2,}$", "."), (r"(?:x|y)z", "z"), (r"a?b|c", ""),
                                             (r"(?:a\.)+b@", ".@ab"), (r"(?:a\.)*b", "b"), (r"(?i)ab", "")])
def test_needs_chars_reads_the_characters_every_match_holds(pattern, needed):
    compiled = re.compile(pattern)
    match = NeedsChars(compiled)
    assert match.needed == needed
    for string in ["bbc.co", "http://bbc.co", "z", "xz", "b", "c", "a.a.b@", "AB", "ab", "a.b"]:
        assert _span(match(string)) == _span(compiled.match(string))


def test_spacys_english_infixes_and_url_pattern_are_read(infixes, url):
    assert StartChars(infixes).active
    assert NeedsChars(url).needed == "."


def test_start_chars_and_needs_chars_of_spacys_english_patterns_on_every_bbc_run(infixes, url):
    search, match = StartChars(infixes), NeedsChars(url)
    runs = sorted({r for path in sorted(corpus("bbc").glob("*/*.txt"))[::4] for r in path.read_bytes().decode("utf-8", "replace").split()})
    assert len(runs) > 20_000
    assert [_spans(search(r)) for r in runs] == [_spans(infixes.finditer(r)) for r in runs]
    assert [_span(match(r)) for r in runs] == [_span(url.match(r)) for r in runs]


URLISH = ODD + list("/@#?:=~^+*<>") + ["www", "bbc", "co", "uk", "http", "://", "192", "1", "é", "x1", "ｗ"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(URLISH), max_size=8).map("".join))
def test_start_chars_and_needs_chars_of_spacys_english_patterns_on_odd_strings(infixes, url, string):
    assert _spans(StartChars(infixes)(string)) == _spans(infixes.finditer(string))
    assert _span(NeedsChars(url)(string)) == _span(url.match(string))


def test_a_tokenizer_with_faster_affixes_gives_the_same_tokens():
    stock, fast = spacy.blank("en"), spacy.blank("en")
    faster_affixes(fast.tokenizer)
    assert isinstance(fast.tokenizer.suffix_search, EndSearch)
    assert isinstance(fast.tokenizer.infix_finditer, StartChars) and isinstance(fast.tokenizer.url_match, NeedsChars)
    for path in sorted(corpus("bbc").glob("*/*.txt"))[::40]:
        text = path.read_bytes().decode("utf-8", "replace")
        assert [(t.text, t.whitespace_) for t in fast.make_doc(text)] == [(t.text, t.whitespace_) for t in stock.make_doc(text)]
