"""Dictionary mode tokenises only where a curated name can match: the same rows as the whole text's Doc."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

import spacy

from flows.ingest import _annotator, _dictionary, _read_seed_csv, seeds_fingerprint
from tests.conftest import corpus
from transforms.linking import Linker
from transforms.nlp import DICTIONARY_TOKENIZER_CACHE, SENTENCES, Annotator, analyse_doc, analyse_windows, load_pipeline, model_words
from transforms.text import clean
from transforms.windows import SEPARATOR, FormSpotter, joined, spellings


def test_spellings_join_tokens_by_nothing_or_one_space():
    assert spellings(["Iraq"]) == ["Iraq"]
    assert spellings(["al", "-", "Qaeda"]) == ["al-Qaeda", "al- Qaeda", "al -Qaeda", "al - Qaeda"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("nothing here", []),
        ("Iraq", [(0, 4)]),
        ("the United States and UnitedStates", [(4, 17), (11, 17), (22, 34), (28, 34)]),
        ("the  United  States", [(5, 11), (13, 19)]),  # two spaces: no phrase across them
        ("USA, U.S. and UK; US. U.S", [(0, 3), (5, 9), (14, 16), (18, 20)]),  # the longest at each start
    ],
)
def test_matches_are_every_start_of_a_spelling_with_its_longest_end(text, expected):
    phrases = [["Iraq"], ["United", "States"], ["States"], ["United"], ["US"], ["USA"], ["U.S."], ["UK"]]
    spotter = FormSpotter(phrases, before=1, after=1)
    assert spotter.matches(text) == expected


def test_windows_keep_whole_runs_of_context_and_reach_the_text_edges():
    spotter = FormSpotter([["Iraq"]], before=1, after=2)
    text = " a b c d Iraq's e f g h i j k l Iraq m\n"
    assert spotter.windows(text) == [(7, 19), (30, len(text))]
    assert [text[s:e] for s, e in spotter.windows(text)] == ["d Iraq's e f", "l Iraq m\n"]
    assert spotter.windows("x Iraq y") == [(0, 8)]
    assert FormSpotter([], 1, 1).windows("Iraq") == []


def test_windows_that_touch_merge():
    spotter = FormSpotter([["Iraq"]], before=1, after=1)
    assert spotter.windows("a b Iraq c d Iraq f g h") == [(2, 19)]
    assert spotter.windows("a b Iraq c d e Iraq f g h") == [(2, 10), (13, 21)]


def test_joined_stretches_map_back_to_the_text():
    text = "aa bb cc dd ee"
    stretches, at, origins = joined(text, [(0, 2), (6, 8), (12, 14)])
    assert stretches == "aa" + SEPARATOR + "cc" + SEPARATOR + "ee"
    assert at == [0, 4, 8] and origins == [0, 6, 12]
    assert joined(text, [(0, len(text))]) == (text, [0], [0])
    assert joined(text, []) == ("", [], [])


@pytest.fixture(scope="module")
def dictionary_annotator(settings):
    d = replace(settings, nlp="dictionary")
    return _annotator(d.nlp, d.model, str(d.seeds_dir), seeds_fingerprint(d.seeds_dir), str(d.cache_dir))


def _rows(a):
    return a.error, a.sentences, a.mentions, sorted(a.actors)


@pytest.fixture(scope="module")
def pipelines(settings, dictionary_annotator):
    """The dictionary-mode annotator, and a blank English pipeline and linker whose vocabulary computes every
    lexical attribute (the annotator's computes only what linking reads)."""
    full = spacy.blank("en")
    full.add_pipe(SENTENCES, first=True)
    agents = {w.strip(): r["role"] for r in _read_seed_csv(settings.seeds_dir / "agents.csv") for w in r["words"].split(";") if w.strip()}
    titles = {r["title"]: r["role"] for r in _read_seed_csv(settings.seeds_dir / "titles.csv")}
    linker = Linker(full.make_doc, dictionary_annotator.linker.dictionary, agents, titles, model_entities=False)
    return dictionary_annotator, full, linker


def _same_as_whole_doc(pipelines, text):
    annotator, full, full_linker = pipelines
    whole = analyse_doc(annotator.nlp(text), annotator.linker)
    windowed = analyse_windows(text, annotator.spotter, annotator.nlp.make_doc, annotator.linker)
    assert _rows(windowed) == _rows(whole)
    assert _rows(windowed) == _rows(analyse_doc(full(text), full_linker))  # every lexical attribute computed: the same
    assert all(text[m["start_char"] : m["end_char"]] == m["text"] for m in windowed.mentions)
    return windowed


def test_the_seed_article_gives_the_rows_of_its_whole_doc(settings, pipelines):
    text = (settings.seeds_dir / "articles" / "000_d29fa587e65ba4b0.txt").read_text()
    a = _same_as_whole_doc(pipelines, text)
    assert len(a.mentions) > 40


# what the linker reads beside a curated name: possessives, "-led", a word, then a role phrase ("Iraq's
# interim government", "US-backed armed forces"); "Day", "state"; "<place>, <name>"; acronyms in brackets
BEFORE = ["", "", "the ", "George ", "The ", "Atlanta, ", "Tbilisi, ", "in ", "Mr ", "(", "Secretary of ", "2024 "]
AFTER = ["", "", "'s", "’s", " 's", "'s-backed", "’s - led", "-led", " - backed", "-backed", " Day", " state", " Post", " (ISIL)", ")", ".", ","]
WORD = ["", "", " new", " interim", " the", " said", " Iraq", " US"]
ROLE = ["", " government", " security forces", " armed forces", " forces", " prime minister", " foreign ministry",
        " defence ministry", " troops", " police officers", " officials", " militia"]
FILLER = ["said on Monday", "and", "the", "2,000", "in a statement", "Wednesday", "of the", ""]
GAPS = [" ", " ", " ", "", "\n", "\n\n", "  ", "\t", " \n"]


@pytest.fixture(scope="module")
def names(dictionary_annotator):
    forms = sorted(dictionary_annotator.linker.forms)
    ambiguous = [f for f, alias in dictionary_annotator.linker.forms.items() if alias.ambiguous]
    return forms[::5] + [f for f in forms if " " in f or "-" in f or "." in f][::2] + ambiguous


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_texts_give_the_rows_of_their_whole_doc(dictionary_annotator, pipelines, names, data):
    unit = st.tuples(st.sampled_from(BEFORE), st.sampled_from(names), st.sampled_from(AFTER), st.sampled_from(WORD),
                     st.sampled_from(ROLE), st.sampled_from(GAPS), st.sampled_from(FILLER), st.sampled_from(GAPS))
    text = "".join("".join(u) for u in data.draw(st.lists(unit, max_size=12)))
    _same_as_whole_doc(pipelines, text)
    _same_as_whole_doc(pipelines, " ".join(text.split()))
    tokens = [t.text for t in dictionary_annotator.nlp.make_doc(text) if not t.is_space]
    _same_as_whole_doc(pipelines, " ".join(tokens))  # one token a run: the least context a run gives


FAR = " ".join(["word"] * 20)


@pytest.mark.parametrize(
    "phrase, expected",
    [
        ("in Atlanta , Georgia said", []),
        ("in Tbilisi , Georgia said", [("Tbilisi", "GEO", None), ("Georgia", "GEO", None)]),
        ("George Washington said", []),
        ("the Washington Post said", []),
        ("Washington said", [("Washington", "USA", None)]),
        ("Washington state", []),
        ("Labour Day", []),
        ("US - led forces", [("US", "USA", "military")]),
        ("Iraq 's interim security forces", [("Iraq", "IRQ", "police")]),
        ("Iran 's - backed prime minister", [("Iran", "IRN", "government")]),
    ],
)
def test_context_at_the_edge_of_a_stretch_is_read_as_in_the_whole_doc(pipelines, phrase, expected):
    text = f"{FAR} {phrase} {FAR}"  # one token a run, far from the text's edges
    a = _same_as_whole_doc(pipelines, text)
    assert [(m["text"], m["actor_id"], m["role"]) for m in a.mentions] == expected


def test_bbc_articles_give_the_rows_of_their_whole_doc(pipelines):
    paths = sorted(corpus("bbc").glob("*/*.txt"))[::9]
    mentions = 0
    for path in paths:
        text = clean(path.read_bytes().decode("utf-8", "replace")).text
        mentions += len(_same_as_whole_doc(pipelines, text).mentions)
    assert len(paths) == 248 and mentions > 2000


def test_the_tokenizer_keeps_more_runs_and_gives_the_tokens_it_gives_without_keeping_any(dictionary_annotator):
    """Dictionary mode's tokenizer keeps the tokens of up to ``DICTIONARY_TOKENIZER_CACHE`` runs of non-space
    characters (spaCy's default keeps 10,000: the dictionary windows of all of BBC hold 24,782); what it gives from that cache is
    what it gives splitting every run afresh."""
    tokenizer = dictionary_annotator.nlp.tokenizer
    assert tokenizer.max_cache_size == DICTIONARY_TOKENIZER_CACHE > 10_000
    uncached = load_pipeline("dictionary", "unused").tokenizer
    uncached.max_cache_size = 0
    paths = sorted(corpus("bbc").glob("*/*.txt"))[::50]
    texts = [clean(p.read_bytes().decode("utf-8", "replace")).text for p in paths]
    for text in texts * 2:  # the second time, every run from the cache
        got = [(t.idx, t.text, t.whitespace_) for t in tokenizer(text)]
        assert got == [(t.idx, t.text, t.whitespace_) for t in uncached(text)]


def test_words_learnt_ahead_change_no_row(settings):
    """``Annotator.learn_words`` (what the warm process does with the model package's words) adds lexemes and
    cached tokens ahead of the articles, and the rows of the articles are those of a pipeline that learnt none."""
    agents = {w.strip(): r["role"] for r in _read_seed_csv(settings.seeds_dir / "agents.csv") for w in r["words"].split(";") if w.strip()}
    titles = {r["title"]: r["role"] for r in _read_seed_csv(settings.seeds_dir / "titles.csv")}
    dictionary = _dictionary(str(settings.seeds_dir), seeds_fingerprint(settings.seeds_dir))
    plain, taught = (Annotator(settings.model, dictionary, agents, titles, "dictionary") for _ in range(2))
    words = model_words(settings.model)
    assert len(words) > 50_000 and "government" in words
    assert taught.learn_words(words) > 50_000 and taught.learn_words(words) == 0
    assert "government" in taught.nlp.vocab.strings and "government" not in plain.nlp.vocab.strings
    texts = [(settings.seeds_dir / "articles" / "000_d29fa587e65ba4b0.txt").read_text()]
    texts += [clean(p.read_bytes().decode("utf-8", "replace")).text for p in sorted(corpus("bbc").glob("*/*.txt"))[::25]]
    assert [_rows(a) for a in taught.analyse(texts)] == [_rows(a) for a in plain.analyse(texts)]
    assert model_words("no_such_spacy_package") == []
