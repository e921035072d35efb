"""Sports context on tokenised text (spaCy's rule-based tokenizer, no model): exact spans."""

import pytest
import spacy

from transforms.sports import is_sports, results_teams, roster_people, team_context

NLP = spacy.blank("en")


def names(text, spans):
    doc = NLP.make_doc(text)
    return [doc[s:e].text for s, e in spans(doc)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SOCCER - ENGLISH LEAGUE RESULTS .\nThe matches were played.", True),  # a sport on the first line
        ("Leicestershire beat Somerset by an innings and 39 runs to top the championship table.", True),
        ("Japan began the defence of their title with a 2-1 win against Syria in the Asian Cup.", True),
        ("England's NHS is under pressure, the health secretary said on Monday.", False),
        ("France said it won the vote, and the government will host the final round of talks.", False),
        ("The game sold well: the title won three awards, and games firms say the game is a hit.", False),
        ("", False),
    ],
)
def test_is_sports(text, expected):
    assert is_sports(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Blackpool 0 Wycombe 0\nBournemouth 1 Peterborough 2 ( halftime 1-1 )", ["Blackpool", "Wycombe", "Bournemouth", "Peterborough"]),
        ("West Bromwich 3 0 2 1 2 3 2", ["West Bromwich"]),  # a standings line
        ("CHICAGO 65 66 .496 5", ["CHICAGO"]),
        ("Benetton ( Italy ) 92 Dinamo ( Russia ) 81", ["Benetton", "Dinamo"]),
        ("MINNESOTA AT MILWAUKEE", ["MINNESOTA"]),  # a fixture: "at" is where they play
        ("Australia v Sri Lanka", ["Australia", "Sri Lanka"]),
        ("3. Ekimov 1:7", []),  # a ranked list with times: individuals
        ("Quigley ( USA ) 3:42.852", []),
        ("NEW YORK 1996-08-30", []),  # a dateline: a date is not a score
        ("Surrey 24 points , Warwickshire 2 .", []),  # words between: not a table line
        ("He scored 3 goals in 2 games.", []),
    ],
)
def test_results_teams(text, expected):
    assert names(text, results_teams) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("France - 1 - Bernard Lama ; 2 - Lilian Thuram ( 14 - Sabri Lamouchi 87th ) , 5 - Laurent Blanc .",
         ["Bernard Lama", "Lilian Thuram", "Sabri Lamouchi", "Laurent Blanc"]),
        ("Romania - Viorel Moldovan ( 21st minute ) , Dan Petrescu ( 65th )", ["Viorel Moldovan", "Dan Petrescu"]),
        ("South Africa - 9 - Joost van der Westhuizen , 10 - Henry Honiball", ["Joost van der Westhuizen", "Henry Honiball"]),
        ("Chapter 1 - Introduction", []),  # one number: not a team sheet
    ],
)
def test_roster_people(text, expected):
    assert names(text, roster_people) == expected


@pytest.mark.parametrize(
    "text, start, end, expected",
    [
        ("Surrey 429 for seven", 0, 1, "score"),
        ("Middlesex beat Hampshire by 188 runs", 2, 3, "result"),  # a result word before
        ("Leicestershire beat Somerset", 0, 1, "result"),  # a result word after
        ("Milwaukee has won 10 of its last 15", 0, 1, "result"),  # after an auxiliary
        ("Birmingham 's Gary Breen was selected", 0, 1, "possessive"),
        ("He has played 40 times for Wales", 6, 7, "for"),
        ("In Toronto , Kevin Tapani allowed two runs", 1, 2, None),  # a venue
        ("LONDON 1996-08-30", 0, 1, None),  # a dateline
        ("Germany 5 percent growth", 0, 1, None),
    ],
)
def test_team_context(text, start, end, expected):
    assert team_context(NLP.make_doc(text), start, end) == expected
