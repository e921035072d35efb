"""Actor linking with the real spaCy model: exact links for each rule."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.linking import fold_initials, org_actor_id


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
        ("Bowling : Wasim Akram 10-0-33-2 , Aamir Sohail 5-0-31-0 .", ["Aamir Sohail"]),  # the model's "Aamir Sohail 5-0-"
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


CRICKET = ("CRICKET - ENGLAND BEAT PAKISTAN BY 107 RUNS .\nEngland beat Pakistan by 107 runs on Friday. "
           "Middlesex beat Hampshire by 188 runs and Surrey 429-7 batted on.")


def test_places_and_clubs_used_as_teams_in_sports_news(annotator):
    mentions, actors = links(annotator, CRICKET)
    assert mentions == [
        ("ENGLAND", "GPE", "team:england", None, "team"), ("PAKISTAN", "GPE", "team:pakistan", None, "team"),
        ("England", "GPE", "team:england", None, "team"), ("Pakistan", "GPE", "team:pakistan", None, "team"),
        ("Middlesex", "ORG", "team:middlesex", None, "team"), ("Hampshire", "ORG", "team:hampshire", None, "team"),
        ("Surrey", "ORG", "team:surrey", None, "team"),
    ]
    assert sorted((a.actor_id, a.type, a.parent) for a in actors.values()) == [
        ("team:england", "team", "GB-ENG"), ("team:hampshire", "team", "GB-HAM"), ("team:middlesex", "team", None),
        ("team:pakistan", "team", "PAK"), ("team:surrey", "team", "GB-SRY")]


def test_the_same_places_in_other_news_stay_places(annotator):
    text = ("England's NHS is under pressure, the health secretary said. France said it would back the plan, "
            "and the Surrey council agreed.")
    assert [m[:3] for m in links(annotator, text)[0]] == [
        ("England", "GPE", "GB-ENG"), ("NHS", "ORG", "org:nhs"), ("France", "GPE", "FRA"), ("Surrey", "PERSON", "person:surrey")]


def test_results_tables_and_team_sheets(annotator):
    text = ("SOCCER - ENGLISH LEAGUE RESULTS .\nBlackpool 0 Wycombe 0\nMINNESOTA AT MILWAUKEE\n"
            "France - 1 - Bernard Lama ; 2 - Lilian Thuram , 5 - Laurent Blanc .")
    assert [m[:3] for m in links(annotator, text)[0]] == [
        ("ENGLISH", "NORP", "GB-ENG"), ("Blackpool", "ORG", "team:blackpool"), ("Wycombe", "ORG", "team:wycombe"),
        ("MINNESOTA", "ORG", "team:minnesota"), ("MILWAUKEE", "GPE", "city:us-milwaukee"), ("France", "GPE", "FRA"),
        ("Bernard Lama", "PERSON", "person:bernard-lama"), ("Lilian Thuram", "PERSON", "person:lilian-thuram"),
        ("Laurent Blanc", "PERSON", "person:laurent-blanc")]


def test_headlines_are_read_re_cased_and_reported_as_written(annotator):
    text = "IRAQ SAYS U.S. TROOPS MUST LEAVE\nBAGHDAD, Iraq - Iraqi officials said on Monday."
    a = next(annotator.analyse([text]))
    assert [(m["text"], m["actor_id"]) for m in a.mentions] == [
        ("IRAQ", "IRQ"), ("U.S.", "USA"), ("BAGHDAD", "city:iq-baghdad"), ("Iraq", "IRQ"), ("Iraqi", "IRQ")]
    assert all(text[m["start_char"]:m["end_char"]] == m["text"] for m in a.mentions)
    assert a.sentences[0]["text"] == "IRAQ SAYS U.S. TROOPS MUST LEAVE"


@pytest.mark.parametrize(
    "text, expected",
    [
        (   # middle initials fold; the surname alone joins the one full name
            "Former president Gerald R. Ford died. Gerald Ford was 93. Ford served after Nixon.",
            [("Gerald R. Ford", "PERSON", "person:gerald-ford", "government", "model-only"),
             ("Gerald Ford", "PERSON", "person:gerald-ford", None, "model-only"),
             ("Ford", "PERSON", "person:gerald-ford", None, "person-merge"),
             ("Nixon", "PERSON", "person:nixon", None, "model-only")],
        ),
        (   # a forename alone joins the one full name it opens
            "Saddam Hussein spoke on Monday. Saddam said Iraq would not yield.",
            [("Saddam Hussein", "PERSON", "person:saddam-hussein", None, "model-only"),
             ("Saddam", "PERSON", "person:saddam-hussein", None, "person-merge"),
             ("Iraq", "GPE", "IRQ", None, "dictionary")],
        ),
        (   # ... but not when it opens two
            "John Smith and John Major met. John said no.",
            [("John Smith", "PERSON", "person:john-smith", None, "model-only"),
             ("John Major", "PERSON", "person:john-major", None, "model-only"),
             ("John", "PERSON", "person:john", None, "model-only")],
        ),
        (   # only people are written with an initial, or with an age in commas
            "Wang, 45, was sentenced last month. D. Fleming scored.",
            [("Wang", "PERSON", "person:wang", None, "model-only"), ("D. Fleming", "PERSON", "person:d-fleming", None, "model-only")],
        ),
        (   # legal forms aside; a short form that opens one organisation's name is that organisation
            "Apple Inc. and Magna International Inc said on Monday. Magna shares rose. Microsoft Corp fell.",
            [("Apple Inc.", "ORG", "APPLE", None, "dictionary"),
             ("Magna International Inc", "ORG", "org:magna-international", None, "model-only"),
             ("Magna", "ORG", "org:magna-international", "business", "org-merge"),
             ("Microsoft Corp", "ORG", "MICROSOFT", None, "dictionary")],
        ),
        (
            "The Federal Reserve left rates unchanged. The Fed said inflation was low.",
            [("Federal Reserve", "ORG", "FED", None, "dictionary"), ("Fed", "ORG", "FED", None, "alias")],
        ),
    ],
)
def test_one_actor_per_person_and_organisation(annotator, text, expected):
    assert links(annotator, text)[0] == expected


@pytest.mark.parametrize(
    "name, expected",
    [("Dominion Textile Inc.", "org:dominion-textile"), ("Ford Motor Co", "org:ford-motor"), ("Acme & Co", "org:acme"),
     ("Smith, Barney Inc", "org:smith-barney"), ("Company", "org:company"), ("Royal Dutch Shell plc", "org:royal-dutch-shell")],
)
def test_organisation_ids_leave_out_legal_forms(name, expected):
    assert org_actor_id(name) == expected


@pytest.mark.parametrize(
    "name, expected",
    [("Gerald R. Ford", "Gerald Ford"), ("George H. W. Bush", "George Bush"), ("J. Smith", "J. Smith"),
     ("Mary Jo White", "Mary Jo White"), ("Ford", "Ford")],
)
def test_middle_initials_fold(name, expected):
    assert fold_initials(name) == expected


def test_an_event_the_model_calls_an_organisation_or_person_is_an_event(annotator):
    assert links(annotator, "The Brit Awards were held in London.")[0] == [
        ("Brit Awards", "EVENT", None, None, "unlinked"), ("London", "GPE", "city:gb-london", None, "place-locative")]


def test_an_athletes_country_stays_the_country_and_the_side_she_runs_for_is_a_team(annotator):
    text = ("Kelly Holmes won the 1500m final in Athens, finishing clear of Russia's Svetlana Cherkasova. The Olympic "
            "champion beat France's Hind Dehiba, and the stadium rose. Holmes ran for Britain.")
    assert [m[2] for m in links(annotator, text)[0] if m[1] == "GPE"] == ["city:gr-athens", "RUS", "FRA", None, "team:united-kingdom"]


def test_a_player_the_model_calls_an_organisation_is_not_a_team(annotator):
    text = "Chelsea beat Newcastle 4-0 in the league. Craig Bellamy missed a chance, and Bellamy beat two defenders in the cup."
    assert [m[:3] for m in links(annotator, text)[0]] == [
        ("Chelsea", "PERSON", "person:chelsea"), ("Newcastle", "ORG", "team:newcastle"),
        ("Craig Bellamy", "PERSON", "person:craig-bellamy"), ("Bellamy", "PERSON", "person:craig-bellamy")]


def test_a_results_line_the_model_calls_one_person_is_two_teams(annotator):
    text = "SOCCER - ENGLISH LEAGUE RESULTS .\nNorwich 1 Wolverhampton 0\nPohang 3 Ulsan 2 ( halftime 1-0 )"
    assert [m[:3] for m in links(annotator, text)[0]] == [  # the model: "Norwich 1 Wolverhampton 0", a PERSON
        ("ENGLISH", "NORP", "GB-ENG"), ("Norwich", "ORG", "team:norwich"), ("Wolverhampton", "ORG", "team:wolverhampton"),
        ("Pohang", "ORG", "team:pohang"), ("Ulsan", "ORG", "team:ulsan")]


def test_a_short_form_joins_the_full_name_written_with_a_legal_form(annotator):
    from spacy.tokens import Span

    doc = annotator.nlp.make_doc("Magna International Inc said profit rose . Magna 's North American sales grew . Magna shares rose .")
    doc.ents = [Span(doc, 0, 3, "ORG"), Span(doc, 7, 11, "ORG"), Span(doc, 14, 15, "ORG")]
    found = [(doc[m.start : m.end].text, m.actor_id, m.link_method) for m in annotator.linker.link(doc).mentions]
    assert found == [("Magna International Inc", "org:magna-international", "model-only"),
                     ("Magna 's North American", "org:magna-s-north-american", "model-only"),
                     ("Magna", "org:magna-international", "org-merge")]


def test_a_holiday_named_after_a_party_or_a_country_is_not_a_mention_of_it(annotator):
    text = "Markets shut ahead of the long Labour Day weekend . Labour won the vote . Canada Day and Canada ."
    assert [(m[0], m[2]) for m in links(annotator, text)[0]] == [("Labour", "LABOUR_UK"), ("Canada Day", None), ("Canada", "CAN")]


def test_a_name_linked_to_a_place_is_that_place_wherever_the_model_typed_it_otherwise(annotator):
    from spacy.tokens import Span

    doc = annotator.nlp.make_doc("Officials in Arbil met . Arbil said the talks failed . Acme Widgets reported it .")
    doc.ents = [Span(doc, 2, 3, "GPE"), Span(doc, 5, 6, "ORG"), Span(doc, 11, 13, "ORG")]
    linked = annotator.linker.link(doc)
    assert [(doc[m.start : m.end].text, m.label, m.actor_id, m.link_method) for m in linked.mentions] == [
        ("Arbil", "GPE", "city:iq-erbil", "place"), ("Arbil", "GPE", "city:iq-erbil", "place-article"),
        ("Acme Widgets", "ORG", "org:acme-widgets", "model-only")]
    assert "org:arbil" not in linked.actors and "org:acme-widgets" in linked.actors


def test_linking_reads_only_the_lexical_attributes_a_linking_vocabulary_computes():
    """Dictionary mode's vocabulary computes only ``LEXICAL_ATTRS`` for new words (``transforms.nlp.linked_only``):
    every token attribute linking reads, here and in the sports and places rules, is among them."""
    import inspect
    import re

    import spacy

    from transforms import linking, places, sports
    from transforms.linking import LEXICAL_ATTRS
    from transforms.nlp import linked_only

    pattern = r"\.(is_[a-z]+|like_[a-z]+|lower_|norm_?|shape_?|prefix_|suffix_|lang_|lex_id|cluster|prob|sentiment)\b"
    read = {name.rstrip("_").upper() for module in (linking, places, sports) for name in re.findall(pattern, inspect.getsource(module))}
    assert read == set(LEXICAL_ATTRS)
    full, trimmed = spacy.blank("en"), spacy.blank("en")
    linked_only(trimmed.vocab)
    text = "The U.S.-led forces' 2,000 troops (ISIL) said: Iraq's  new INTERIM government is in Baghdad... 10km ok"
    for a, b in zip(full.make_doc(text), trimmed.make_doc(text), strict=True):
        assert a.text == b.text
        assert [getattr(a, n.lower() if n != "LOWER" else "lower_") for n in LEXICAL_ATTRS] == \
               [getattr(b, n.lower() if n != "LOWER" else "lower_") for n in LEXICAL_ATTRS]
    assert trimmed.make_doc("zzyzx")[0].shape_ == ""  # a new word's other attributes are not computed
