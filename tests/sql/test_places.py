"""Places below the country in the views: ``parent`` in mentions_per_actor, the roll-up in mentions_per_country."""

from datetime import date

import duckdb
import pytest

from flows import warehouse
from flows.lake import Lake
from flows.settings import Settings
from tests.sql.conftest import ROWS, T2, actor, article, mention
from transforms.schemas import TABLES, to_table

A3 = "Fighting in Basra and Baghdad. N.J. and Basra voted."


def place(aid, name, kind, parent):
    return {**actor(aid, name, kind, source="gazetteer"), "country_code": parent, "parent": parent}


@pytest.fixture(scope="module")
def places_db(tmp_path_factory):
    rows = {name: list(r) for name, r in ROWS.items()}
    rows["articles"].append(article("a3", A3, None, T2, "wire"))
    rows["sentences"].append({"article_id": "a3", "sentence_id": 1, "start_char": 0, "end_char": len(A3), "text": A3})
    rows["mentions"] += [
        mention("a3", 1, "Basra", "GPE", "city:iq-basrah", None, "place", A3),
        mention("a3", 2, "Baghdad", "GPE", "city:iq-baghdad", None, "place-locative", A3),
        mention("a3", 3, "N.J.", "GPE", "US-NJ", None, "place", A3),
        {**mention("a3", 4, "Basra", "GPE", "city:iq-basrah", None, "place", A3), "start_char": A3.rindex("Basra"),
         "end_char": A3.rindex("Basra") + 5},
    ]
    rows["actors"] += [place("city:iq-basrah", "Basrah", "city", "IRQ"), place("city:iq-baghdad", "Baghdad", "city", "IRQ"),
                       place("US-NJ", "New Jersey", "subdivision", "USA")]
    lake = Lake(tmp_path_factory.mktemp("places_lake"))
    staged = {name: [lake.stage(name, to_table(r, TABLES[name]), "r1", "p0")] for name, r in rows.items()}
    lake.commit("r1", staged, date(2026, 1, 7))
    warehouse.refresh(lake, Settings().sql_dir)
    con = duckdb.connect(str(lake.duckdb_path), read_only=True)
    yield lake, con
    con.close()


def test_places_show_their_parent(places_db):
    _, con = places_db
    sql = "select actor_id, actor_type, parent, mentions from mentions_per_actor where parent is not null order by actor_id"
    assert con.execute(sql).fetchall() == [
        ("US-NJ", "subdivision", "USA", 1), ("city:iq-baghdad", "city", "IRQ", 1), ("city:iq-basrah", "city", "IRQ", 2)]


def test_places_roll_up_to_their_country(places_db):
    _, con = places_db
    sql = "select * from mentions_per_country order by country_id"
    assert con.execute(sql).fetchall() == [
        ("IRQ", "Iraq", 5, 2, 3, 2, 3),
        ("USA", "United States", 2, 1, 1, 1, 2),
    ]


def test_data_tests_pass_with_places(places_db):
    lake, _ = places_db
    results = warehouse.data_tests(lake, Settings().sql_dir)
    assert {name: n for name, n in results.items() if n} == {}
