"""A lake written before ``actors.parent`` existed (main's schema) keeps working after the column is added."""

from datetime import date

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

from flows import warehouse
from flows.lake import Lake
from flows.settings import Settings
from tests.flows.delta_rows import IRQ, article_tables, commit_run
from transforms import schemas

OLD_ACTORS = pa.schema([f for f in schemas.ACTORS if f.name != "parent"])
BASRA = {"actor_id": "city:iq-basrah", "name": "Basrah", "type": "city", "country_code": "IRQ", "parent": "IRQ",
         "affiliation": None, "source": "gazetteer", "wikidata_qid": None, "valid_from": None, "valid_to": None}


def test_an_old_actors_table_gains_parent(tmp_path, monkeypatch):
    with monkeypatch.context() as old_code:
        old_code.setitem(schemas.TABLES, "actors", OLD_ACTORS)
        old_code.setattr(schemas, "ACTORS", OLD_ACTORS)
        lake = Lake(tmp_path)
        commit_run(lake, "r1", {**article_tables(["a1"], "r1"), "actors": [{k: v for k, v in IRQ.items() if k != "parent"}]})
        assert "parent" not in lake.read("actors").column_names
    lake = Lake(tmp_path)
    assert lake.read("actors").to_pylist() == [IRQ]  # the old file reads with parent null
    warehouse.refresh(lake, Settings().sql_dir, export_marts=False)  # views over the old files alone
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select actor_id, parent, mentions from mentions_per_actor").fetchall() == [("IRQ", None, 1)]
    commit_run(lake, "r2", {"actors": [IRQ, BASRA]}, day=date(2026, 1, 8))
    assert sorted(lake.read("actors", ["actor_id", "parent"]).to_pylist(), key=lambda r: r["actor_id"]) == [
        {"actor_id": "IRQ", "parent": None}, {"actor_id": "city:iq-basrah", "parent": "IRQ"}]
    warehouse.refresh(lake, Settings().sql_dir, export_marts=False)
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select actor_id, type, parent from actors order by actor_id").fetchall() == [
            ("IRQ", "country", None), ("city:iq-basrah", "city", "IRQ")]
        assert con.execute("select country_id, mentions, own_mentions from mentions_per_country").fetchall() == [("IRQ", 1, 1)]
    assert "parent" in [f.name for f in DeltaTable(lake.table_path("actors")).schema().fields]
