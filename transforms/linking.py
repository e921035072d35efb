"""Entity mentions of a parsed Doc, each linked to a canonical actor where one is known."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from transforms.actors import Actor, ActorDictionary, Alias, person_actor_id
from transforms.places import Gazetteer, default_gazetteer, link_places, place_actor
from transforms.sports import SPORTS, is_sports, results_teams, roster_people, team_context

# labels of named entities (the numeric ones, DATE, CARDINAL, ..., are not mentions)
NAME_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "prof", "professor", "rev"})
DEPARTMENTS = frozenset(
    """defense defence state foreign home interior justice treasury health education energy commerce
    labor labour agriculture transport transportation environment finance trade industry culture affairs
    security homeland economy veterans"""
    .split()
)
LINKERS = frozenset({"of", "the", "for", "and", "&", "-"})
PARTICIPLES = frozenset({"led", "backed", "aligned", "based", "allied", "funded", "sponsored", "supported", "run", "controlled", "linked"})
POSSESSIVE = frozenset({"'s", "’s", "'", "’"})
# the last word of an event's name ("Edinburgh Festival", "Asian Cup", "Brit Awards"): never a person or an organisation
EVENT_HEADS = frozenset(
    """festival festivals cup championship championships olympics olympiad awards prize trophy marathon
    expo biennale carnival""".split()  # not "games" (Rockstar Games) nor "fair" (Vanity Fair)
)
_SCORE = re.compile(r"\d+(?:[-/]\d+)+")
# the lexical attributes of tokens that linking reads (here and in transforms.sports and transforms.places): a
# pipeline that only links (dictionary mode) computes no others for the words it meets (transforms.nlp.load_pipeline)
LEXICAL_ATTRS = ("LOWER", "IS_ALPHA", "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_SPACE", "IS_PUNCT", "IS_STOP", "LIKE_NUM")



def _stands_alone(doc: Doc, start: int, end: int) -> bool:
    """No capitalised word (other than a stop word such as "In" or "The") right before or after the span."""
    for i in (start - 1, end):
        if 0 <= i < len(doc) and doc[i].is_alpha and doc[i].text[0].isupper() and not doc[i].is_stop:
            return False
    return True


@dataclass
class Mention:
    """An entity mention over tokens [start, end) of a Doc."""

    start: int
    end: int
    label: str
    actor_id: str | None = None
    role: str | None = None
    link_method: str = "unlinked"


@dataclass
class Linked:
    """The linked mentions of one Doc and the actors they introduced (people, organisations)."""

    mentions: list[Mention]
    actors: dict[str, Actor] = field(default_factory=dict)


def _phrases(rows: dict[str, str]) -> dict[tuple[str, ...], str]:
    return {tuple(k.lower().split()): v for k, v in rows.items()}


class Linker:
    """Links a Doc's entities to actors with the actor dictionary, role words and title words.

    Args:
        vocab_doc: ``nlp.make_doc``, to tokenise the dictionary's surface forms.
        dictionary: actors and aliases.
        agents: role word or phrase (lower case) -> role ("forces" -> "military").
        titles: title word or phrase (lower case) -> role ("secretary of defense" -> "government").
        model_entities: whether Docs come with a model's entities. Without them (dictionary mode) an
            ambiguous name ("Washington", "Jordan") is taken as its actor when it stands alone: no
            capitalised word other than a stop word right before or after it ("George Washington",
            "Washington Post" and "Michael Jordan" are not the countries).
        places: the place gazetteer (``transforms.places``; built here when not given), model mode only.
    """

    def __init__(self, make_doc, dictionary: ActorDictionary, agents: dict[str, str], titles: dict[str, str],
                 model_entities: bool = True, places: Gazetteer | None = None):
        self.dictionary = dictionary
        self.model_entities = model_entities
        self.forms = dictionary.match_forms()
        self.agents = _phrases(agents)
        self.titles = _phrases(titles)
        self.title_words = {w for phrase in self.titles for w in phrase} | HONORIFICS
        self.first_words = frozenset(phrase[0] for table in (self.agents, self.titles) for phrase in table if phrase)
        self.subdivisions = _subdivisions()
        probe = make_doc("x")
        self.places = (places or default_gazetteer()) if model_entities else None  # places: model mode only (README)
        self.government_words = frozenset(w for phrase, role in self.agents.items() if role == "government" for w in phrase)
        self.matcher = PhraseMatcher(probe.vocab, attr="ORTH")
        for form in self.forms:
            self.matcher.add(form, [make_doc(form)])

    def link(self, doc: Doc, text: str | None = None) -> Linked:
        """All name mentions of ``doc``, non-overlapping, in text order, linked where possible (``text``:
        the Doc's text as the caller has it, to save building it again)."""
        ents = [self._fix_person(doc, self._fix_titled_person(doc, m)) for e in doc.ents if e.label_ in NAME_LABELS
                for m in _clean_span(doc, e)]  # the fixes never give a date or a number a name's label
        ents = [m for m in ents if m.label in NAME_LABELS and doc[m.start : m.end].text.lower() not in SPORTS]
        text = doc.text if text is None else text
        sports = self.model_entities and is_sports(text)
        if sports:
            ents = _with_people(doc, _with_results_teams(doc, ents, text), text)
            for m in ents:
                if m.label == "ORG" and m.link_method != "team" and self._athlete(doc, m):
                    m.label = "PERSON"
        for m in ents:
            alias = self.dictionary.lookup(doc[m.start : m.end].text)
            if alias is None and m.label == "ORG":  # "Apple Inc.", "Microsoft Corp": the name without its legal form
                alias = self.dictionary.lookup(org_key(doc[m.start : m.end].text))
            if m.link_method != "team" and alias and not (alias.ambiguous and m.label == "PERSON") and not self._guarded(doc, m.start, m.end, alias):
                self._attach(m, alias)
        mentions = self._merge_dictionary(doc, ents)
        mentions.sort(key=lambda m: m.start)
        linked = Linked(mentions)
        if sports:
            self._link_teams(doc, linked)
        self._link_acronyms(doc, linked)
        self._link_people(doc, linked)
        self._link_organisations(doc, linked)
        if self.places is not None:  # places below the country: transforms/places.py
            for place in link_places(doc, mentions, self.places, self.dictionary, self.government_words, text).values():
                linked.actors[place.actor_id] = place_actor(place)
            _one_place_per_name(doc, mentions)
            used = {m.actor_id for m in mentions}
            for actor_id in [a for a, actor in linked.actors.items() if actor.source == "model" and a not in used]:
                del linked.actors[actor_id]
        for m in mentions:
            if m.actor_id and m.role is None and m.label != "PERSON":
                m.role = self._role_after(doc, m.end)
        return linked

    def _attach(self, m: Mention, alias: Alias, method: str | None = None) -> None:
        m.actor_id = alias.actor_id
        m.label = alias.label
        m.role = alias.role
        m.link_method = method or ("dictionary" if alias.kind == "name" else "alias")

    def _merge_dictionary(self, doc: Doc, ents: list[Mention]) -> list[Mention]:
        spans = filter_spans([Span(doc, s, e, label=k) for k, s, e in self.matcher(doc)])
        result = list(ents)
        for span in spans:
            alias = self.forms[doc.vocab.strings[span.label]]
            over = [m for m in result if m.start < span.end and span.start < m.end]
            undecided = alias.ambiguous and (self.model_entities or not _stands_alone(doc, span.start, span.end))
            if any(m.actor_id or m.link_method == "team" for m in over) or undecided or self._guarded(doc, span.start, span.end, alias):
                continue
            if any(m.label == "PERSON" and (m.start < span.start or m.end > span.end) for m in over):
                continue
            outer = [m for m in over if m.start <= span.start and span.end <= m.end and (m.start, m.end) != (span.start, span.end)]
            if outer:
                m = outer[0]
                role = self._role_within(doc, span.end, m.end)
                if role and m.label in ("ORG", "FAC", "GPE", "NORP", "LOC"):
                    self._attach(m, alias)
                    m.label, m.role = "ORG", role
                continue
            for m in over:
                result.remove(m)
            new = Mention(span.start, span.end, alias.label)
            self._attach(new, alias)
            result.append(new)
        return result

    def _link_teams(self, doc: Doc, linked: Linked) -> None:
        """In a sports article, a place name or an organisation the dictionary does not know used as a
        team (``transforms.sports``) and every name of a results table is a team actor: ``team:<the place's or the name's slug>``, its place as parent.
        A team named after a country keeps the place label (CoNLL's convention for national sides);
        a club named after a county or city ("Surrey", "Chicago") or after nothing is an ORG."""
        surnames = {doc[m.end - 1].text for m in linked.mentions if m.label == "PERSON" and m.end - m.start >= 2}
        for m in linked.mentions:
            text = doc[m.start : m.end].text
            alias = self.dictionary.lookup(text)
            place = self.dictionary.actors.get(alias.actor_id) if alias else None
            national = place is not None and place.type in ("country", "subdivision") and alias.kind in ("name", "alias")
            if m.link_method != "team":
                if m.role is not None or (signal := team_context(doc, m.start, m.end)) is None:
                    continue
                if m.actor_id and not (national and m.label == "GPE"):
                    continue
                if national and signal == "possessive":
                    continue  # "Russia's Svetlana Cherkasova": her country
                if m.actor_id is None and m.label not in ("GPE", "LOC") and not (m.label != "NORP" and text in self.subdivisions):
                    if m.label != "ORG" or signal != "result" or text in surnames:
                        continue  # an unknown organisation is a team only by a result word, and never a player's surname
            parent = place.actor_id if national else self.subdivisions.get(text)
            name = place.name if national else _org_name(text)
            m.actor_id = team_actor_id(name.title() if name.isupper() else name)
            m.label, m.role, m.link_method = ("GPE" if national else "ORG"), None, "team"
            linked.actors.setdefault(m.actor_id, Actor(m.actor_id, name, "team", parent=parent, source="model"))

    def _guarded(self, doc: Doc, start: int, end: int, alias: Alias) -> bool:
        """Context that makes a place name something else: "Washington state", and an ambiguous name
        after "<place>," where the place is not that country's ("Atlanta, Georgia" is the US state;
        "Tbilisi, Georgia" and "Basra, Iraq" stay countries); and any form that names a holiday with
        "Day" after it ("Labour Day", "Canada Day": a date, not the party or the country)."""
        if end < len(doc) and doc[end].text in ("Day", "DAY"):
            return True
        if alias.kind not in ("metonym", "name", "alias") or alias.label != "GPE":
            return False
        if end < len(doc) and doc[end].lower_ == "state":
            return True
        if alias.ambiguous and start >= 2 and doc[start - 1].text == "," and doc[start - 2].is_title:
            before = self.dictionary.lookup(doc[start - 2].text)
            place = doc[start - 2].ent_type_ in ("GPE", "LOC") or not self.model_entities
            return place and (before is None or before.actor_id != alias.actor_id)
        return False

    def _match_phrase(self, doc: Doc, i: int, table: dict[tuple[str, ...], str], end: int | None = None) -> tuple[str, int] | None:
        stop = len(doc) if end is None else min(end, len(doc))
        if i >= stop or doc[i].lower_ not in self.first_words:
            return None
        words = tuple(doc[k].lower_ for k in range(i, min(i + 3, stop)))
        for n in range(len(words), 0, -1):
            if words[:n] in table:
                return table[words[:n]], n
        return None

    def _role_after(self, doc: Doc, i: int) -> str | None:
        """The role named right after a mention: "US forces", "Iraq's government", "Iran-backed militias"."""
        n = len(doc)
        if i < n and doc[i].text in POSSESSIVE:
            i += 1
        if i + 1 < n and doc[i].text == "-" and doc[i + 1].lower_ in PARTICIPLES:
            i += 2
        for skip in (0, 1):
            if skip and not (i < n and doc[i].is_lower and doc[i].is_alpha and not doc[i].is_stop):
                break
            hit = self._match_phrase(doc, i + skip, self.agents)
            if hit:
                return hit[0]
        return None

    def _role_within(self, doc: Doc, i: int, end: int) -> str | None:
        """The role named inside an entity after the actor: "Iraq's Ministry of Foreign Affairs"."""
        if i < end and doc[i].text in POSSESSIVE:
            i += 1
        hit = self._match_phrase(doc, i, self.agents, end)
        return hit[0] if hit else None

    def _fix_person(self, doc: Doc, m: Mention) -> Mention:
        """Forms only people have, whatever the model's label: an initial and a surname ("D. Fleming"),
        a name with an age in commas ("Wang, 45,") that the dictionary does not know; and a "person" or
        "organisation" of two or more words named as an event ("Edinburgh Festival", "Asian Cup") is an event."""
        toks = doc[m.start : m.end]
        if m.label in ("PERSON", "ORG") and len(toks) >= 2 and toks[-1].is_title and toks[-1].lower_ in EVENT_HEADS:
            return Mention(m.start, m.end, "EVENT")
        if m.label not in ("ORG", "GPE", "LOC", "NORP", "FAC"):
            return m
        if (len(toks) >= 2 and len(toks[0].text) == 2 and toks[0].text[0].isupper() and toks[0].text[1] == "."
                and all(t.is_title and t.is_alpha for t in toks[1:])):
            return Mention(m.start, m.end, "PERSON")
        n = len(doc)
        if (m.end + 2 < n and doc[m.end].text == "," and doc[m.end + 1].text.isdigit() and 15 <= int(doc[m.end + 1].text) < 110
                and doc[m.end + 2].text == "," and all(t.is_title for t in toks) and self.dictionary.lookup(toks.text) is None):
            return Mention(m.start, m.end, "PERSON")
        return m

    def _athlete(self, doc: Doc, m: Mention) -> bool:
        """In a sports article, two or three title-case words before "(<country>)": an athlete and
        their nationality ("Marion Clignet ( France )"), not an organisation."""
        toks = doc[m.start : m.end]
        if not (2 <= len(toks) <= 3 and all(t.is_title and t.is_alpha for t in toks)):
            return False
        close = next((i for i in range(m.end + 1, min(m.end + 5, len(doc))) if doc[i].text == ")"), None)
        if m.end >= len(doc) or doc[m.end].text != "(" or close is None:
            return False
        alias = self.dictionary.lookup(doc[m.end + 1 : close].text)
        return alias is not None and self.dictionary.actors[alias.actor_id].type == "country"

    def _fix_titled_person(self, doc: Doc, m: Mention) -> Mention:
        """'Defense Lloyd Austin' (ORG, after 'Secretary of') becomes the PERSON 'Lloyd Austin';
        'Mr Blair' labelled anything but PERSON becomes a PERSON."""
        if m.label not in ("PERSON", "ORG", "GPE", "NORP"):
            return m
        toks = doc[m.start : m.end]
        if len(toks) > 1 and toks[0].lower_.rstrip(".") in HONORIFICS and all(t.is_title for t in toks[1:]):
            return Mention(m.start, m.end, "PERSON")  # "Mr Blair" the model called an organisation
        if m.label not in ("PERSON", "ORG"):
            return m
        last = max((k for k, t in enumerate(toks) if t.lower_.rstrip(".") in self.title_words or t.lower_ in DEPARTMENTS), default=-1)
        tail = toks[last + 1 :]
        if last < 0 or not tail or not all(t.is_title and t.is_alpha for t in tail):
            return m
        if m.label == "ORG":
            before = doc[m.start - 1].lower_ if m.start > 0 else ""
            if not (toks[0].lower_ in DEPARTMENTS and (before == "of" or before in self.title_words)) or len(tail) > 3:
                return m
        return Mention(m.start + last + 1, m.end, "PERSON")

    def _title_before(self, doc: Doc, i: int) -> tuple[int, str | None]:
        """Walk left over a title ("US Secretary of Defense"): returns its first token and role."""
        j, role = i, None
        while j > 0:
            t = doc[j - 1]
            word = t.lower_.rstrip(".")
            if word in self.title_words or (t.is_title and word in DEPARTMENTS) or (word in LINKERS and j < i):
                j -= 1
                continue
            break
        while j < i and doc[j].lower_ in LINKERS:
            j += 1
        for k in range(j, i):
            hit = self._match_phrase(doc, k, self.titles, i)
            if hit:
                role = hit[0]
                break
        return j, role

    def _person_name(self, doc: Doc, m: Mention) -> str:
        toks = [t for t in doc[m.start : m.end] if t.text not in POSSESSIVE]
        while len(toks) > 1 and toks[0].lower_.rstrip(".") in self.title_words:
            toks = toks[1:]
        return " ".join("".join(t.text_with_ws for t in toks).split())

    def _link_people(self, doc: Doc, linked: Linked) -> None:
        """People get ids from their names with middle initials folded ("Gerald R. Ford" is
        ``person:gerald-ford``); a one-word name joins the one full name in the article that ends
        with it ("Blair" -> "Tony Blair"), else the one that starts with it ("Saddam" -> "Saddam
        Hussein"); a one-word organisation or place the model found with such a name is that person, and
        a one-word "person" that opens an organisation's name of the article and no person's is that
        organisation ("Magna" after "Magna International Inc")."""
        people = [m for m in linked.mentions if m.label == "PERSON" and m.actor_id is None]
        names = {id(m): self._person_name(doc, m) for m in people}
        surnames: dict[str, set[str]] = {}
        forenames: dict[str, set[str]] = {}
        for m in people:
            parts = fold_initials(names[id(m)]).split()
            if len(parts) >= 2:
                surnames.setdefault(parts[-1], set()).add(" ".join(parts))
                forenames.setdefault(parts[0], set()).add(" ".join(parts))
        heads = {doc[m.start].text for m in linked.mentions if m.label == "ORG" and m.end - m.start >= 2}
        for m in [m for m in people if m.end - m.start == 1]:
            word = doc[m.start].text
            if word in heads and word not in surnames and word not in forenames:
                m.label = "ORG"  # "Magna" after "Magna International Inc": the organisation, not a person
                people.remove(m)
        for m in linked.mentions:
            if m.actor_id is not None or m.label not in ("ORG", "GPE", "NORP") or m.end - m.start != 1:
                continue
            word = doc[m.start].text
            if word.istitle() and (word in surnames or len(forenames.get(word, ())) == 1):
                m.label = "PERSON"
                people.append(m)
                names[id(m)] = word
        people.sort(key=lambda m: m.start)
        by_mention = {(m.start, m.end): m for m in linked.mentions}
        for m in people:
            name = names[id(m)]
            candidates = (surnames.get(name) or forenames.get(name, set())) if len(name.split()) == 1 else set()
            if len(candidates) == 1:
                name, m.link_method = next(iter(candidates)), "person-merge"
            else:
                m.link_method = "model-only"
            m.actor_id = person_actor_id(fold_initials(name))
            start, role = self._title_before(doc, m.start)
            affiliation = None
            if start < m.start:
                m.role = role
                org = next((o for (s, e), o in by_mention.items() if e == start and o.actor_id and o.label != "PERSON"), None)
                affiliation = org.actor_id if org else None
            known = linked.actors.get(m.actor_id)
            if known is None or (affiliation and not known.affiliation):
                linked.actors[m.actor_id] = Actor(m.actor_id, name, "person",
                                                 affiliation=affiliation or (known.affiliation if known else None), source="model")

    def _link_acronyms(self, doc: Doc, linked: Linked) -> None:
        """'Islamic State of Iraq and the Levant (ISIL)': the acronym and the expansion are one actor."""
        ments = linked.mentions
        pairs: dict[str, Mention] = {}
        for a, b in zip(ments, ments[1:]):
            if (
                a.label == "ORG"
                and b.end - b.start == 1
                and doc[b.start].is_upper
                and b.start == a.end + 1
                and doc[a.end].text == "("
                and b.end < len(doc)
                and doc[b.end].text == ")"
            ):
                pairs[doc[b.start].text] = a
                if not a.actor_id and not b.actor_id:
                    self._model_org(doc, a, linked)
                if a.actor_id and not b.actor_id:
                    b.actor_id, b.label, b.link_method = a.actor_id, a.label, "acronym"
                elif b.actor_id and not a.actor_id:
                    a.actor_id, a.link_method = b.actor_id, "acronym"
        for m in ments if pairs else ():
            source = pairs.get(doc[m.start : m.end].text)
            if source is not None and m.actor_id is None and m is not source:
                m.actor_id, m.link_method = source.actor_id, "acronym"

    def _link_organisations(self, doc: Doc, linked: Linked) -> None:
        """Organisations the dictionary does not know get an actor from their normalised name (legal
        suffixes aside: "Dominion Textile Inc" is ``org:dominion-textile``); a shorter form that opens
        exactly one longer name of the article is that organisation ("Dominion" after "Dominion
        Textile Inc", "Magna" after "Magna International"); of several such names, the one written with
        a legal form is the company's full name ("Magna" beside "Magna International Inc" and "Magna's
        North American")."""
        orgs = [m for m in linked.mentions if m.label == "ORG" and m.actor_id is None]
        names = {id(m): _org_name(doc[m.start : m.end].text) for m in orgs}
        keys = {id(m): org_key(names[id(m)]).split() for m in orgs}
        longer: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        formal = {tuple(keys[id(m)]) for m in orgs if org_key(names[id(m)]) != " ".join(names[id(m)].replace(",", " ").split())}
        for m in orgs:
            words = keys[id(m)]
            for n in range(1, len(words)):
                longer.setdefault(tuple(words[:n]), set()).add(tuple(words))
        for m in orgs:
            self._model_org(doc, m, linked)
        named = {tuple(keys[id(m)]): m for m in orgs if m.actor_id}
        for m in orgs:
            full = longer.get(tuple(keys[id(m)]), set())
            if len(full) > 1 and len(full & formal) == 1:
                full = full & formal
            if len(full) == 1 and (source := named.get(next(iter(full)))) is not None:
                m.actor_id, m.link_method = source.actor_id, "org-merge"

    @staticmethod
    def _model_org(doc: Doc, m: Mention, linked: Linked) -> None:
        name = _org_name(doc[m.start : m.end].text)
        if name:
            m.actor_id, m.link_method = org_actor_id(name), "model-only"
            linked.actors.setdefault(m.actor_id, Actor(m.actor_id, name, "organization", source="model"))


def _one_place_per_name(doc: Doc, mentions: list[Mention]) -> None:
    """A name the model typed an organisation or a person in one place and a place elsewhere in the same
    article is that place throughout ("Arbil" as ORG beside "Arbil" linked to the city): one sense per
    article, for names the dictionary does not know."""
    places = {doc[m.start : m.end].text: m for m in mentions if m.link_method.startswith("place")}
    for m in mentions:
        same = places.get(doc[m.start : m.end].text) if m.link_method == "model-only" and m.label in ("ORG", "PERSON") else None
        if same is not None:
            m.actor_id, m.label, m.role, m.link_method = same.actor_id, same.label, None, "place-article"


def _with_results_teams(doc: Doc, ents: list[Mention], text: str) -> list[Mention]:
    """The model's entities with the team names of results-table lines (``transforms.sports``) in
    place of whatever overlapped them; a person of two or more words the model found inside the name
    stays."""
    out = list(ents)
    for start, end in results_teams(doc, text):
        over = [m for m in out if m.start < end and start < m.end]
        if any(m.label == "PERSON" and m.end - m.start >= 2 and start <= m.start and m.end <= end for m in over):
            continue  # a person inside the name ("Tiger Woods 70 68"), not one running over the figures
        for m in over:
            out.remove(m)
        out.append(Mention(start, end, "ORG", link_method="team"))
    return sorted(out, key=lambda m: m.start)


def _with_people(doc: Doc, ents: list[Mention], text: str) -> list[Mention]:
    """The entities with the players of team sheets and scorer lists (``transforms.sports``) as
    people, in place of whatever overlapped them (but a team of a results table)."""
    out = list(ents)
    for start, end in roster_people(doc, text):
        over = [m for m in out if m.start < end and start < m.end]
        if any(m.link_method == "team" for m in over):
            continue
        for m in over:
            out.remove(m)
        out.append(Mention(start, end, "PERSON"))
    return sorted(out, key=lambda m: m.start)


def _subdivisions() -> dict[str, str | None]:
    """First-level subdivision names (pycountry, bracketed local names dropped) -> ISO 3166-2 code,
    None where several subdivisions share the name."""
    import pycountry

    codes: dict[str, str | None] = {}
    for sub in pycountry.subdivisions:
        name = re.sub(r"\s*\[.*?\]", "", sub.name)
        codes[name] = sub.code if name not in codes else None
    return codes


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Drop a leading "the", trailing possessives, edge whitespace and punctuation, and trailing numbers
    of two or more characters and scores (scores, "Durham 114", "Surrey 429-7"; "BBC Radio 4" keeps its 4)."""
    while start < end and (doc[start].is_space or doc[start].is_punct or doc[start].lower_ == "the"):
        start += 1
    while end > start:
        last = doc[end - 1]
        if last.is_space or last.text in POSSESSIVE or last.is_punct or (last.like_num and len(last) > 1) or _SCORE.fullmatch(last.text):
            end -= 1
        elif end - start > 3 and last.like_num and doc[end - 2].text in ("-", "/") and doc[end - 3].like_num:
            end -= 3  # a score the tokenizer split: "Surrey 429 - 7"
        else:
            break
    return start, end


def _clean_span(doc: Doc, ent: Span) -> list[Mention]:
    """An entity trimmed and split where the model ran two names together.

    'the United States' -> 'United States'; 'Durham 114' -> 'Durham'; 'Lithuania - Danius Gleveckas'
    and 'the Oval , Surrey' -> two mentions; 'World Wide Fund for Nature (WWF' -> the name and its acronym.
    """
    cuts = [t.i for t in ent if t.text == "," or (t.text in ("-", "–") and t.whitespace_ and t.i > 0 and doc[t.i - 1].whitespace_)]
    parens = [t.i for t in ent if t.text == "("]
    pieces, start = [], ent.start
    for cut in cuts:
        pieces.append((start, cut))
        start = cut + 1
    if parens and parens[0] > start:
        k = parens[0]
        pieces.append((start, k))
        if ent.end == k + 2 and doc[k + 1].is_upper and ent.end < len(doc) and doc[ent.end].text == ")":
            pieces.append((k + 1, ent.end))
    else:
        pieces.append((start, ent.end))
    out = []
    for s, e in pieces:
        s, e = _trim(doc, s, e)
        if s < e:
            out.append(Mention(s, e, ent.label_))
    return out


def _org_name(text: str) -> str:
    text = re.sub(r"^(the|The)\s+", "", " ".join(text.split()))
    return re.sub(r"(['’]s|['’])$", "", text).strip()


def fold_initials(name: str) -> str:
    """A person's name without middle initials: "Gerald R. Ford" -> "Gerald Ford", "George H. W. Bush"
    -> "George Bush" (a first initial stays: "J. Smith")."""
    parts = name.split()
    if len(parts) <= 2:
        return name
    middle = [p for p in parts[1:-1] if not re.fullmatch(r"[A-Z]\.?", p)]
    return " ".join([parts[0], *middle, parts[-1]])


def team_actor_id(name: str) -> str:
    """Stable id of a sports team from its name (a national side: its country's name): ``team:surrey``."""
    return "team:" + person_actor_id(name).split(":", 1)[1]


LEGAL_SUFFIXES = frozenset(
    """inc incorporated corp corporation co company cos ltd limited plc llc llp lp ag sa nv bv gmbh spa
    ab asa oyj bhd pty kk""".split()
)


def org_key(name: str) -> str:
    """An organisation's name without its legal form: "Dominion Textile Inc." -> "Dominion Textile",
    "Ford Motor Co" -> "Ford Motor", "Acme & Co" -> "Acme" (a name that is nothing but a legal form
    stays as it is)."""
    words = name.replace(",", " ").split()
    while len(words) > 1 and words[-1].lower().replace(".", "") in LEGAL_SUFFIXES:
        words.pop()
        while len(words) > 1 and words[-1].lower() in ("&", "and"):
            words.pop()
    return " ".join(words)


def org_actor_id(name: str) -> str:
    """Stable id of an organisation known only from the model, legal form aside:
    ``org:ministry-of-foreign-affairs``, ``org:dominion-textile`` for "Dominion Textile Inc"."""
    return "org:" + person_actor_id(org_key(name)).split(":", 1)[1]
