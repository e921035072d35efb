"""Actor linking with the real spaCy model: exact links for each rule."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def links(annotator, text):
    a = next(annotator.analyse([text]))
    return [(m["text"], m["label"], m["actor_id"], m["role"], m["link_method"]) for m in a.mentions], a.actors


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "The UK and Britain agree, said British officials. U.K. sources confirmed.",
            [("UK", "GPE", "GBR", None, "alias"), ("Britain", "GPE", "GBR", None, "alias"),
             ("British", "NORP", "GBR", "government", "alias"), ("U.K.", "GPE", "GBR", None, "alias")],
        ),
        (
            "US-led troops and Iran-backed armed groups clashed.",
            [("US", "GPE", "USA", "military", "alias"), ("Iran", "GPE", "IRN", "militia", "dictionary")],
        ),
        (
            "the Pentagon said. The Kremlin denied it. Downing Street agreed.",
            [("Pentagon", "GPE", "USA", "military", "alias"), ("Kremlin", "GPE", "RUS", "government", "alias"),
             ("Downing Street", "GPE", "GBR", "government", "alias")],
        ),
        ("Washington fears a withdrawal.", [("Washington", "GPE", "USA", None, "alias")]),
        ("Officials in Washington state voted.", [("Washington", "GPE", "US-WA", None, "place")]),
        ("George Washington was the first president.",
         [("George Washington", "PERSON", "person:george-washington", None, "model-only")]),
        ("Michael Jordan scored.", [("Michael Jordan", "PERSON", "person:michael-jordan", None, "model-only")]),
        ("He lives in Atlanta, Georgia, near the airport.",
         [("Atlanta", "GPE", "city:us-atlanta", None, "place"), ("Georgia", "GPE", "US-GA", None, "place")]),
        ("He flew to Tbilisi, Georgia, on Monday.",
         [("Tbilisi", "GPE", "city:ge-tbilisi", None, "place-context"), ("Georgia", "GPE", "GEO", None, "dictionary")]),
        ("A bomb exploded in Basra, Iraq, on Monday.",
         [("Basra", "GPE", "city:iq-basrah", None, "place"), ("Iraq", "GPE", "IRQ", None, "dictionary")]),
        ("Officials say us and them.", []),
        (
            "The Islamic State of Iraq and the Levant (ISIL) lost ground. ISIL fighters fled.",
            [("Islamic State of Iraq and the Levant", "ORG", "ISIL", None, "dictionary"),
             ("ISIL", "ORG", "ISIL", None, "alias"), ("ISIL", "ORG", "ISIL", "militia", "alias")],
        ),
        (
            "The World Wide Fund for Nature (WWF) warned. WWF said more.",
            [("World Wide Fund for Nature", "ORG", "org:world-wide-fund-for-nature", None, "model-only"),
             ("WWF", "ORG", "org:world-wide-fund-for-nature", None, "acronym"),
             ("WWF", "ORG", "org:world-wide-fund-for-nature", None, "acronym")],
        ),
        (
            "The Iraqi government and Iraq's Ministry of Oil met U.S. officials.",
            [("Iraqi", "NORP", "IRQ", "government", "alias"), ("Iraq", "GPE", "IRQ", "government", "dictionary"),
             ("Ministry of Oil", "ORG", "org:ministry-of-oil", None, "model-only"),
             ("U.S.", "GPE", "USA", "government", "alias")],
        ),
        (
            "Tony Blair spoke. Mr Blair said Blair was right, and Blair's aides agreed.",
            [("Tony Blair", "PERSON", "person:tony-blair", None, "model-only")]
            + [("Blair", "PERSON", "person:tony-blair", None, "person-merge")] * 3,
        ),
    ],
)
def test_links(annotator, text, expected):
    assert links(annotator, text)[0] == expected


def test_titled_person_becomes_person_actor_with_affiliation(annotator):
    mentions, actors = links(annotator, "US Secretary of Defense Lloyd Austin said. Austin added.")
    assert mentions == [
        ("US", "GPE", "USA", "government", "alias"),
        ("Lloyd Austin", "PERSON", "person:lloyd-austin", "government", "model-only"),
        ("Austin", "PERSON", "person:lloyd-austin", None, "person-merge"),
    ]
    austin = actors["person:lloyd-austin"]
    assert (austin.name, austin.type, austin.affiliation) == ("Lloyd Austin", "person", "USA")


def test_sentences_break_at_paragraphs_and_offsets_slice(annotator):
    text = "US and Iraq agree\n\nThe talks start in Baghdad. They end."
    a = next(annotator.analyse([text]))
    assert [(s["sentence_id"], s["text"]) for s in a.sentences] == [
        (1, "US and Iraq agree"), (2, "The talks start in Baghdad."), (3, "They end.")]
    for s in a.sentences:
        assert text[s["start_char"]:s["end_char"]] == s["text"]
    for m in a.mentions:
        assert text[m["start_char"]:m["end_char"]] == m["text"]
        sent = a.sentences[m["sentence_id"] - 1]
        assert sent["start_char"] <= m["start_char"] < m["end_char"] <= sent["end_char"]
    assert [m["mention_id"] for m in a.mentions] == [1, 2, 3]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The United States and the Czech Republic signed.", ["United States", "Czech Republic"]),
        ("Durham 114 ( J. Smith 63 )", ["Durham", "J. Smith"]),
        ("Lithuania - Danius Gleveckas scored.", ["Lithuania", "Danius Gleveckas"]),
    ],
)
def test_spans_are_trimmed_and_split_like_conll(annotator, text, expected):
    assert [m[0] for m in links(annotator, text)[0]] == expected


def test_regions_are_places(annotator):
    assert [m[:3] for m in links(annotator, "England and Scotland met.")[0]] == [
        ("England", "GPE", "GB-ENG"), ("Scotland", "GPE", "GB-SCT")]


def test_one_digit_names_keep_their_number(annotator):
    assert [m[0] for m in links(annotator, "He told BBC Radio 4's Today programme.")[0]] == ["BBC Radio 4"]


WORDS = ["US", "U.S.", "Iraq", "Iraqi", "the", "government", "said", "Mr", "Blair", "Tony", "forces", "-", "led", "(", ")",
         "ISIL", "Washington", "state", "in", "on", "Monday", ".", ",", "’s", "\n", "\n\n", "Secretary", "of", "Defense",
         "Lloyd", "Austin", "Iran", "backed", "armed", "groups", "BBC", "Radio", "4", "114", "é", "£5m", "  "]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60))
def test_offsets_always_slice_the_text(annotator, words):
    text = " ".join(words)
    a = next(annotator.analyse([text]))
    assert [s["sentence_id"] for s in a.sentences] == list(range(1, len(a.sentences) + 1))
    assert [m["mention_id"] for m in a.mentions] == list(range(1, len(a.mentions) + 1))
    for s in a.sentences:
        assert text[s["start_char"]:s["end_char"]] == s["text"] and s["text"] == s["text"].strip()
    ends = [(m["start_char"], m["end_char"]) for m in a.mentions]
    assert ends == sorted(ends) and all(e1 <= s2 for (_, e1), (s2, _) in zip(ends, ends[1:]))
    for m in a.mentions:
        sent = a.sentences[m["sentence_id"] - 1]
        assert text[m["start_char"]:m["end_char"]] == m["text"] != ""
        assert sent["start_char"] <= m["start_char"] < m["end_char"] <= sent["end_char"]
        assert (m["actor_id"] is None) == (m["link_method"] == "unlinked")
