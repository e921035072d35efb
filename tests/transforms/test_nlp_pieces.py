"""Long texts analysed in pieces with exact offsets, and one failing article never failing its batch."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.ingest import _annotator, seeds_fingerprint
from transforms.nlp import Analysis, bounded, pieces

SEED = "000_d29fa587e65ba4b0.txt"


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("short", 10, [(0, 5)]),
        ("one\ntwo\nthree\n", 9, [(0, 8), (8, 14)]),
        ("aaaa bbbb cccc", 10, [(0, 10), (10, 14)]),
        ("a" * 25, 10, [(0, 10), (10, 20), (20, 25)]),
        ("para one\n\npara two is longer", 12, [(0, 10), (10, 22), (22, 28)]),
    ],
)
def test_pieces_cut_after_a_line_break_else_a_space_else_at_the_limit(text, limit, expected):
    assert pieces(text, limit) == expected


@given(st.text(alphabet="ab \n.", max_size=300), st.integers(min_value=1, max_value=40))
def test_pieces_cover_the_text_in_order_within_the_limit(text, limit):
    spans = pieces(text, limit)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(s < e or (s, e) == (0, 0) for s, e in spans)
    assert all(e - s <= limit for s, e in spans)
    assert [s for s, _ in spans[1:]] == [e for _, e in spans[:-1]]


def test_a_spacy_batch_ends_before_its_characters_pass_the_bound():
    jobs = [(0, 0, "aaaa"), (1, 0, "bbb"), (2, 0, "cccccccc"), (3, 0, "d"), (4, 0, "ee")]
    assert [[n for n, _, _ in g] for g in bounded(jobs, 8)] == [[0, 1], [2], [3, 4]]  # 7, then one of 8, then 3
    assert [[n for n, _, _ in g] for g in bounded(jobs, 3)] == [[0], [1], [2], [3, 4]]  # longer than the bound: alone
    assert list(bounded([], 8)) == []


@given(st.lists(st.text(alphabet="ab", max_size=30), max_size=30), st.integers(min_value=1, max_value=60))
def test_bounded_batches_keep_every_job_in_order(texts, chars):
    jobs = [(n, 0, t) for n, t in enumerate(texts)]
    groups = list(bounded(jobs, chars))
    assert [j for g in groups for j in g] == jobs
    assert all(g and (len(g) == 1 or sum(len(t) for _, _, t in g) <= chars) for g in groups)


def test_long_articles_analysed_in_bounded_batches_give_the_rows_of_one_batch(annotator):
    texts = [f"Tony Blair met Jacques Chirac in Paris on talk number {n}.\n" * (10 + 5 * (n % 3)) for n in range(6)]
    bounded_rows = [(a.sentences, a.mentions) for a in annotator.analyse(texts, batch_chars=1500)]
    assert bounded_rows == [(a.sentences, a.mentions) for a in annotator.analyse(texts, batch_chars=10**9)]
    assert all(m for _, m in bounded_rows)


@pytest.fixture(scope="module")
def dictionary_annotator(settings):
    d = replace(settings, nlp="dictionary")
    return _annotator(d.nlp, d.model, str(d.seeds_dir), seeds_fingerprint(d.seeds_dir), str(d.cache_dir))


def _rows(a: Analysis):
    return a.sentences, a.mentions, sorted(a.actors)


def test_a_text_analysed_in_pieces_gives_the_rows_of_the_whole_text(settings, dictionary_annotator):
    text = (settings.seeds_dir / "articles" / SEED).read_text()
    limit = max(len(line) for line in text.split("\n")) + 1  # every piece ends at a line break
    whole = next(dictionary_annotator.analyse([text]))
    cut = next(dictionary_annotator.analyse([text], piece_chars=limit))
    assert len(pieces(text, limit)) == 11
    assert _rows(cut) == _rows(whole)
    assert [m["actor_id"] for m in cut.mentions].count("IRQ") == 16  # the raw text: its repeated headline is still in it
    assert all(text[m["start_char"] : m["end_char"]] == m["text"] for m in cut.mentions)


def test_an_article_longer_than_the_models_limit_is_analysed(dictionary_annotator):
    text = "x" * 1_000_030
    a = next(dictionary_annotator.analyse([text, "Iraq and Iran talked."]))
    assert a.error is None
    assert [(s["start_char"], s["end_char"]) for s in a.sentences] == [(i, min(i + 100_000, 1_000_030)) for i in range(0, 1_000_030, 100_000)]


class _Exploding:
    """A linker that raises on a Doc holding "EXPLODE", as a bug in the analysis of one odd article would."""

    def __init__(self, linker):
        self.linker = linker

    def link(self, doc, text=None):
        if "EXPLODE" in doc.text:
            raise RuntimeError("boom\non two lines")
        return self.linker.link(doc, text)


def test_an_article_whose_analysis_raises_fails_alone(settings):
    d = replace(settings, nlp="dictionary")
    annotator = _annotator.__wrapped__(d.nlp, d.model, str(d.seeds_dir), seeds_fingerprint(d.seeds_dir), str(d.cache_dir))
    annotator.linker = _Exploding(annotator.linker)
    texts = ["Iraq said so.", "This one will EXPLODE in Iran.", "Iran said so."]
    out = list(annotator.analyse(texts))
    assert [a.error for a in out] == [None, "RuntimeError: boom on two lines", None]
    assert [[m["actor_id"] for m in a.mentions] for a in out] == [["IRQ"], [], ["IRN"]]
