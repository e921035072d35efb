"""B-cubed scoring of the linking benchmark: exact values on small clusterings."""

from fractions import Fraction

import pytest

from benchmarks.linking_eval import bcubed, error_clusters, system_clusters

GOLD = {"a": "G1", "b": "G1", "c": "G1", "d": "G2", "e": "G2"}


@pytest.mark.parametrize(
    "system, expected",
    [
        # Bagga and Baldwin's kind of example: one mention of G1 put with G2
        ({"a": 1, "b": 1, "c": 2, "d": 2, "e": 2}, (Fraction(11, 15), Fraction(11, 15), Fraction(11, 15))),
        ({m: m for m in GOLD}, (1, Fraction(2, 5), Fraction(4, 7))),  # every mention alone
        ({m: 0 for m in GOLD}, (Fraction(13, 25), 1, Fraction(13, 19))),  # everything in one cluster
        ({"a": "x", "b": "x", "c": "x", "d": "y", "e": "y"}, (1, 1, 1)),  # the gold clustering under other names
    ],
)
def test_bcubed_exact(system, expected):
    assert bcubed(GOLD, system) == pytest.approx(tuple(float(x) for x in expected))


def test_bcubed_of_nothing_is_zero():
    assert bcubed({}, {}) == (0.0, 0.0, 0.0)


def test_missed_and_unlinked_mentions_are_singletons():
    found = {"a": "IRQ", "b": "IRQ", "c": None}  # c matched with no actor; d, e not matched at all
    system = system_clusters(GOLD, found)
    assert system == {"a": "IRQ", "b": "IRQ", "c": ("missed", "c"), "d": ("missed", "d"), "e": ("missed", "e")}
    p, r, _ = bcubed(GOLD, system)
    assert (p, r) == pytest.approx((1.0, (2 / 3 * 2 + 1 / 3 + 1 / 2 * 2) / 5))


def test_error_clusters_name_merges_and_splits():
    gold = {1: "Iraq", 2: "Iraq", 3: "Baghdad (city)", 4: "Baghdad (city)"}
    system = {1: "IRQ", 2: "IRQ", 3: "IRQ", 4: ("missed", 4)}
    surface = {1: "Iraq", 2: "Iraqi", 3: "Baghdad", 4: "Baghdad"}
    merged, split = error_clusters(gold, system, surface)
    assert merged == ["IRQ: Iraq x2, Baghdad (city) x1"]
    assert split == ["Baghdad (city): IRQ x1, missed x1  ['Baghdad' x2]"]


def test_the_linking_set_points_at_the_corpus_text():
    """Every row of benchmarks/linking_set.csv reads its surface form at its offsets (skips without the corpora)."""
    from benchmarks.conll_eval import read_conll
    from benchmarks.linking_eval import DEFAULT, doc_text, load_set
    from tests.conftest import CORPORA, corpus

    corpus("bbc")
    conll = read_conll(corpus("conll2003") / "eng.testa")
    rows = load_set(DEFAULT)
    spans = [(r["corpus"], r["doc"], r["start"], r["end"]) for r in rows]
    assert len(rows) >= 300 and len(set(spans)) == len(spans)
    texts = {}
    for r in rows:
        key = (r["corpus"], r["doc"])
        texts.setdefault(key, doc_text(*key, CORPORA, conll))
        assert texts[key][r["start"] : r["end"]] == r["surface"], r
        assert r["gold"].strip() == r["gold"] and r["gold"] and r["kind"] in ("place", "person", "organisation", "other")
