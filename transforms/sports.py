"""Sports context: when a place's name stands for a team, and the team names of results tables.

Sports news names its teams after places: "England" (the cricket side), "Surrey", "Chicago" (a
baseball club), "Swansea 49 Cardiff 23". Counting those as the places is wrong, and a recogniser
trained on general news misses most of the club names in results tables. The rules here are local,
so ordinary news ("England's NHS", "France said") is never touched:

- an **article is sports** when its first line names a sport ("SOCCER - ...", "Cricket: ...") or
  when sports words and scores ("won", "match", "innings", "halftime", "2-1") make at least one in
  60 of its words, with at least four different ones, two of them (or scores) words only sports
  news uses much ("innings", "league", "goal", "football"; an article about video games says
  "game", "title" and "won" often, and nothing else);
- in a sports article, a **results-table line** is a line made only of names and numbers, where each
  name is followed by a number ("Swansea 49 Cardiff 23", "CHICAGO 65 66 .496 5", "Barnsley 3 3 0 0 8
  2 9", parenthesised notes aside), or two names around "at"/"v"/"vs" ("MINNESOTA AT MILWAUKEE");
  its names are teams (a name of two or more words the recogniser calls a person stays a person:
  golf and athletics tables list people). A line that starts with a rank ("3.") or holds times
  ("3:42.852") lists individuals and is left alone;
- in a sports article, a place name is a **team** where the words around it make it one: a score
  after it ("Surrey 429-7"), a result word before it ("beat Hampshire", "against France", "joined
  Milan") or after it ("Leicestershire beat", "Milwaukee has won", "Kent will need"), or a possessive
  ("Birmingham's Gary Breen"), or "for" ("played for Wales"). A national side needs a result word, a
  score or "for" ("Russia's Svetlana Cherkasova" is her country); an organisation the dictionary does
  not know needs a result word, and must not be the surname of a person named in the article (the
  recogniser calls many players organisations: "Bellamy", "Drogba").
"""

from __future__ import annotations

import re

import numpy as np
from spacy.tokens import Doc

SPORTS = frozenset(
    """soccer football cricket rugby tennis golf baseball basketball hockey athletics cycling motorcycling
    motor-racing racing boxing skiing swimming squash badminton volleyball handball nfl nba nhl mlb formula"""
    .split()
)
# words only sports news uses much (with the sports' names), and words it shares with other news
SPORTS_WORDS = SPORTS | frozenset(
    """beat beats defeated drew halftime half-time innings inning wicket wickets goal goals scored striker
    midfielder defender goalkeeper coach league cup championship homer homered pitcher rbi runs batting
    bowling bowled unbeaten standings olympic olympics sprinter marathon stadium squad referee fixture
    fixtures slam wimbledon premiership""".split()
)
RESULT_WORDS = frozenset(
    """draw drawn win wins won lost lose title season match matches game games points round final
    semifinal semifinals semi-final quarter-final quarterfinal playoff play-off tournament division seed
    seeded lap podium medal""".split()
)
BEFORE_TEAM = frozenset("beat beats defeated against over v vs vs. joined join host hosts hosted".split())
AFTER_TEAM = frozenset(
    """beat beats defeated won win wins lost lose drew draw tied trail trailed lead led leads scored
    captain coach manager striker goalkeeper need needs needed will must face faces faced play plays
    played host hosts hosted visit visits clinched reached moved climbed slipped""".split()
)
_ALL_WORDS = SPORTS_WORDS | RESULT_WORDS
FIXTURE = frozenset({"at", "v", "vs", "vs."})
_LINE = re.compile(r"[^\n]+")
_BRACKETS = re.compile(r"\([^()\n]*\)")
_LOWER_WORD = re.compile(r"(?<![\w'’.-])(?!(?:at|v|vs)\b)[a-z]")
# a line that may be a team sheet or a scorer list: "1 - Name", "( 21st"
_ROSTER_LINE = re.compile(r"\b\d{1,2} - [A-Z]|\( ?\d+(?:st|nd|rd|th)\b")


def _table_line(line: str) -> bool:
    """Whether a line may be a results table: a figure, and no word in lower case outside brackets
    but "at", "v", "vs"."""
    bare = _BRACKETS.sub(" ", line)
    if _LOWER_WORD.search(bare):
        return False
    words = bare.lower().split()
    return any(c.isdigit() for c in bare) or any(w in FIXTURE for w in words)
AUXILIARIES = frozenset("has have had is are was were will would".split())
_SCORE = re.compile(r"\b\d{1,3}-\d{1,3}\b")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*")
_TIME = re.compile(r"\d:\d")
_RANK = re.compile(r"\d+\.?\Z")
_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")
_YEAR = re.compile(r"(19|20)\d\d\Z")
_ORDINAL = re.compile(r"\d+(st|nd|rd|th)\Z")
PARTICLES = frozenset("de da di do dos das du del della van von der den la le ter ten bin al el".split())


def is_sports(text: str) -> bool:
    """Whether an article is sports news: a sport named on its first line, or sports words and
    scores that make at least one in 60 of its words (see the module's rules)."""
    first = text.lstrip().split("\n", 1)[0]
    head = {w.lower() for w in _WORDS.findall(first[:80])[:3]}
    if head & SPORTS:
        return True
    words = _WORDS.findall(text.lower())
    weak = [w for w in words if w in _ALL_WORDS]
    strong = {w for w in weak if w in SPORTS_WORDS}
    scores = min(len(_SCORE.findall(text)), 3)
    return len(strong) + scores >= 2 and len(set(weak)) + scores >= 4 and (len(weak) + scores) * 60 >= len(words)


def _lines(doc: Doc, text: str, keep) -> list[tuple[int, int]]:
    """Token ranges of the Doc's lines whose text passes ``keep`` (the tokens between line breaks; the
    line's text is tested first, so prose costs no token work)."""
    starts = doc.to_array("IDX")
    lines = []
    for m in _LINE.finditer(text):
        if keep(m.group()):
            start, end = np.searchsorted(starts, [m.start(), m.end()])
            if start < end:
                lines.append((int(start), int(end)))
    return lines


def _is_name_token(t) -> bool:
    """A capitalised word ("Surrey", "NEW", "St.", "Al-Ain"), not a fixture's "AT" or "V"."""
    return t.text[:1].isupper() and t.lower_ not in FIXTURE and (t.is_alpha or (t.text.rstrip(".").isalpha() and len(t.text) <= 4)
                                     or t.text.replace("-", "").replace("'", "").isalpha())


def _is_number(t) -> bool:
    """A score, a count or a table figure ("49", "429-7", ".496", "1/2"); never a date or a year."""
    if _DATE.match(t.text) or _YEAR.match(t.text):
        return False
    text = t.text.replace("-", "").replace(".", "").replace("/", "")
    return text.isdigit()


def results_teams(doc: Doc, text: str | None = None) -> list[tuple[int, int]]:
    """Token spans of the team names of a Doc's results-table lines (see the module's rules; ``text``:
    the Doc's text when the caller has it)."""
    teams: list[tuple[int, int]] = []
    for start, end in _lines(doc, doc.text if text is None else text, _table_line):
        toks = [t for t in doc[start:end] if not t.is_space]
        if not toks or _RANK.match(toks[0].text) or any(_TIME.search(t.text) for t in toks):
            continue  # ranked lists and times: individuals
        depth, kept = 0, []
        for t in toks:  # parenthesised notes aside: "( halftime 50-28 )", "( Italy )"
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth = max(depth - 1, 0)
            elif depth == 0:
                kept.append(t)
        while kept and kept[-1].is_punct:
            kept.pop()
        found = _table_names(kept)
        if found is not None:
            teams += found
    return teams


def _table_names(kept: list) -> list[tuple[int, int]] | None:
    """The names of a line of names and numbers ("A 2 B 1", "A 3 1 0 2 4 3 9"), or of a fixture ("A at
    B": only A; "A v B": both); None when the line is something else."""
    runs, i = [], 0  # (name start, name end, numbers after it)
    while i < len(kept):
        j = i
        while j < len(kept) and _is_name_token(kept[j]):
            j += 1
        if j == i:
            return None
        k = j
        while k < len(kept) and _is_number(kept[k]):
            k += 1
        runs.append((i, j, k - j))
        if k == j and j < len(kept):
            if len(runs) != 1 or kept[j].lower_ not in FIXTURE or j + 1 == len(kept):
                return None
            k = j + 1
        i = k
    spans = [(kept[s].i, kept[e - 1].i + 1) for s, e, _ in runs]
    if len(runs) == 2 and runs[0][2] == 0:  # a fixture
        if runs[1][2] != 0:
            return None
        return spans[:1] if kept[runs[0][1]].lower_ == "at" else spans
    if len(runs) == 2 and runs[0][2] >= 1 and runs[1][2] >= 1:
        return spans  # a score line
    if len(runs) == 1 and runs[0][2] >= 3:
        return spans  # a standings line
    return None


def team_context(doc: Doc, start: int, end: int) -> str | None:
    """What in the words around tokens [start, end) makes a name a team in a sports article: "result"
    (a result word before or after it: "beat Hampshire", "Leicestershire beat", "Milwaukee has won"),
    "score" (a score after it: "Surrey 429-7"), "for" ("played for Wales"), "possessive" ("Birmingham's
    Gary Breen"); None when nothing does."""
    n = len(doc)
    before = doc[start - 1].lower_ if start > 0 else ""
    i = end
    if i < n and doc[i].text in ("'s", "’s", "'", "’"):
        return "possessive"  # first: in "beat France's Hind Dehiba" she is who was beaten
    if before in BEFORE_TEAM:
        return "result"
    if i < n and (_is_number(doc[i]) or _SCORE.fullmatch(doc[i].text)) and not (i + 1 < n and doc[i + 1].lower_ in ("percent", "%", "million", "pct")):
        return "score"
    if i < n and doc[i].lower_ in AUXILIARIES:
        i += 1
    if i < n and doc[i].lower_ in AFTER_TEAM:
        return "result"
    return "for" if before == "for" else None


def _name_run(doc: Doc, i: int, end: int) -> int:
    """The end of the run of name words from token i (title-case words, with particles such as "de"
    or "van der" between them); i when there is none."""
    j = i
    while j < end and (_is_name_token(doc[j]) or (doc[j].lower_ in PARTICLES and j > i)):
        j += 1
    while j > i and doc[j - 1].lower_ in PARTICLES:
        j -= 1
    return j


def roster_people(doc: Doc, text: str | None = None) -> list[tuple[int, int]]:
    """Token spans of the players of team sheets and scorer lists: names after a shirt number in a
    line that numbers at least two ("France - 1 - Bernard Lama ; 2 - Lilian Thuram"), and names
    before a minute in brackets ("Viorel Moldovan ( 21st minute )")."""
    people: list[tuple[int, int]] = []
    for start, end in _lines(doc, doc.text if text is None else text, _ROSTER_LINE.search):
        numbered = []
        for t in doc[start:end]:
            i = t.i
            if (t.like_num and t.text.isdigit() and len(t.text) <= 2 and i + 2 < end and doc[i + 1].text == "-"
                    and (j := _name_run(doc, i + 2, end)) > i + 2):
                numbered.append((i + 2, j))
            elif (t.text == "(" and i + 1 < end and _ORDINAL.match(doc[i + 1].text) and i > start
                  and _is_name_token(doc[i - 1])):
                k = i
                while k > start and (_is_name_token(doc[k - 1]) or doc[k - 1].lower_ in PARTICLES):
                    k -= 1
                while k < i and doc[k].lower_ in PARTICLES:
                    k += 1
                if k < i:
                    people.append((k, i))
        if len(numbered) >= 2:
            people += numbered
    return sorted(set(people))
