import pytest

from transforms.actors import Actor, actor_rows, build_dictionary, person_actor_id

CURATED = [
    {"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA",
     "aliases": "US;U.S.", "demonyms": "American", "metonyms": "?Washington;Pentagon:military"},
    {"actor_id": "ISIL", "name": "Islamic State", "type": "armed_group", "country_code": "",
     "aliases": "ISIS;Daesh", "demonyms": "", "metonyms": "", "wikidata_qid": "Q2429253", "valid_from": "2013-04-08"},
]


@pytest.fixture(scope="module")
def d():
    return build_dictionary(CURATED)


def test_every_iso_country_is_an_actor_with_alpha3_id(d):
    countries = [a for a in d.actors.values() if a.type == "country"]
    assert len(countries) == 249
    assert d.actors["IRN"].name == "Iran"
    assert d.actors["KOR"].name == "South Korea"
    assert d.lookup("Democratic Republic of the Congo").actor_id == "COD"


@pytest.mark.parametrize(
    "surface, actor, kind, label, role",
    [
        ("US", "USA", "alias", "GPE", None),
        ("the United States", "USA", "name", "GPE", None),
        ("United States'", "USA", "name", "GPE", None),
        ("American", "USA", "demonym", "NORP", None),
        ("Pentagon", "USA", "metonym", "GPE", "military"),
        ("Daesh", "ISIL", "alias", "ORG", None),
        ("IRAN", "IRN", "name", "GPE", None),
    ],
)
def test_lookup(d, surface, actor, kind, label, role):
    alias = d.lookup(surface)
    assert (alias.actor_id, alias.kind, alias.label, alias.role) == (actor, kind, label, role)


def test_ambiguous_marker_and_unknown(d):
    assert d.lookup("Washington").ambiguous is True
    assert d.lookup("Gotham") is None
    assert d.lookup("us") is None


def test_person_ids_are_normalised_names():
    assert person_actor_id("Lloyd Austin") == "person:lloyd-austin"
    assert person_actor_id("  José  María Aznar ") == "person:jose-maria-aznar"



def test_curated_metadata(d):
    from datetime import date

    isil = d.actors["ISIL"]
    assert (isil.wikidata_qid, isil.valid_from, isil.valid_to, isil.source) == ("Q2429253", date(2013, 4, 8), None, "seed")
    assert d.actors["USA"].source == "pycountry+seed"


def test_bad_date_in_seeds_is_a_clear_error():
    with pytest.raises(ValueError, match="ISIL: '2013-13-01' is not a YYYY-MM-DD date"):
        build_dictionary([{"actor_id": "ISIL", "name": "Islamic State", "type": "armed_group", "valid_from": "2013-13-01"}])


def test_actor_rows_keep_model_actors_and_refresh_curated_ones():
    stored = [
        {**Actor("person:ann-lee", "Ann Lee", "person", source="model").row()},
        {**Actor("UN", "UN (old name)", "organization").row()},
    ]
    found = [Actor("person:ann-lee", "Ann Lee", "person", affiliation="USA", source="model"),
             Actor("person:bo-li", "Bo Li", "person", affiliation="CHN", source="model"),
             Actor("person:bo-li", "Bo Li", "person", affiliation="TWN", source="model")]
    curated = [Actor("UN", "United Nations", "organization").row()]
    rows = actor_rows(stored, found, curated)
    assert [(r["actor_id"], r["name"], r["affiliation"]) for r in rows] == [
        ("UN", "United Nations", None), ("person:ann-lee", "Ann Lee", "USA"), ("person:bo-li", "Bo Li", "CHN")]


def test_the_first_stated_affiliation_wins_however_articles_are_batched():
    from transforms.actors import Actor, actor_rows, keep_first

    seen = [Actor("person:ann-lee", "Ann Lee", "person", source="model"),
            Actor("person:ann-lee", "Ann Lee", "person", affiliation="USA", source="model"),
            Actor("person:ann-lee", "Ann Lee", "person", affiliation="GBR", source="model")]
    for cut in range(len(seen) + 1):
        batches = [seen[:cut], seen[cut:]]
        found = []
        for batch in batches:
            kept: dict = {}
            keep_first(kept, batch)
            found += kept.values()
        (row,) = actor_rows([], found, [])
        assert row["affiliation"] == "USA", cut
