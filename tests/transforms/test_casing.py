"""All-capitals lines re-cased for the recogniser: exact outputs, and the length and offsets kept."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.casing import recased

KEEP = frozenset({"NATO", "USA", "ISIL"})


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
         "Soccer - Japan get Lucky Win , China in Surprise Defeat ."),  # "get": an English stop word
        ("CHICAGO 65 66 .496 5", "Chicago 65 66 .496 5"),
        ("BIRMINGHAM , England 1996-08-31", "Birmingham , England 1996-08-31"),  # a dateline's head
        ("AL-AIN , United Arab Emirates", "Al-Ain , United Arab Emirates"),
        ("US AND NATO AGREE ON U.S. PLAN", "US and NATO Agree on U.S. Plan"),  # short words and known acronyms stay
        ("JAPAN'S O'NEILL AT THE TOP", "Japan's O'Neill at the top"),
        ("THE USA WINS", "The USA Wins"),
        ("US TROOPS IN IRAQ", "US Troops in Iraq"),
        ("U.S. BEAT EL SALVADOR AT ST LOUIS", "U.S. Beat El Salvador at St Louis"),  # a stop word that opens the line is capitalised
        ("Normal text with NATO and IBM.", "Normal text with NATO and IBM."),  # mixed case: untouched
        ("USA 13", "USA 13"),  # too few capitals to be a headline
        ("", ""),
    ],
)
def test_recased(text, expected):
    assert recased(text, KEEP) == expected


def test_words_the_article_writes_in_lower_case_are_lower_cased():
    text = "CRICKET - ENGLAND BEAT PAKISTAN BY 107 RUNS .\nEngland beat Pakistan by 107 runs on Friday."
    assert recased(text).split("\n")[0] == "Cricket - England beat Pakistan by 107 runs ."


def test_a_word_the_article_also_capitalises_stays_a_name():
    text = "BUSH MEETS BLAIR\nBush met Blair; a bush fire burned."
    assert recased(text).split("\n")[0] == "Bush Meets Blair"


@given(st.text(alphabet=st.sampled_from("AbCDEFXYZ ,.-'\n0123456789ßİﬁ"), max_size=80))
def test_same_length_and_only_case_changes(text):
    out = recased(text, KEEP)
    assert len(out) == len(text)
    assert out.lower() == text.lower() or all(a == b or a.lower() == b.lower() for a, b in zip(out, text))
