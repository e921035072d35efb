import pytest

from transforms.actors import build_dictionary, person_actor_id

CURATED = [
    {"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA",
     "aliases": "US;U.S.", "demonyms": "American", "metonyms": "?Washington;Pentagon:military"},
    {"actor_id": "ISIL", "name": "Islamic State", "type": "armed_group", "country_code": "",
     "aliases": "ISIS;Daesh", "demonyms": "", "metonyms": ""},
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

