"""The shortcuts a no-op rerun takes, each against the long way round."""

from datetime import date

import duckdb
import pyarrow as pa

from flows import sqlproject, warehouse
from transforms.actors import actors_after, same_actors
from flows.lake import Lake
from flows.settings import Settings
from tests.flows.delta_rows import IRQ, article_tables, commit_run
from transforms.actors import actor_rows
from transforms.schemas import ACTORS, to_table

USA = {**IRQ, "actor_id": "USA", "name": "United States", "country_code": "USA", "wikidata_qid": None}


def test_same_actors_compares_rows_in_any_stored_order():
    built = to_table([IRQ, USA], ACTORS)
    assert same_actors(built, to_table([USA, IRQ], ACTORS))
    assert same_actors(ACTORS.empty_table(), ACTORS.empty_table())
    assert not same_actors(built, to_table([USA, {**IRQ, "affiliation": "USA"}], ACTORS))
    assert not same_actors(built, to_table([USA], ACTORS))
    assert not same_actors(built, pa.concat_tables([to_table([USA, IRQ], ACTORS), to_table([{**IRQ, "actor_id": "ISR"}], ACTORS)]))


def test_the_actors_after_a_run_that_found_none_are_those_actor_rows_makes():
    person = {**USA, "actor_id": "person:a-b", "name": "A B", "type": "person", "country_code": None, "source": "model", "affiliation": "USA"}
    place = {**USA, "actor_id": "place:x", "name": "X", "type": "place", "source": "gazetteer"}
    now_curated = {**place, "actor_id": "ISR", "name": "Israel", "source": "gazetteer"}
    stored = to_table([person, place, now_curated, {**IRQ, "name": "Iraq (old seed)"}, {**USA, "actor_id": "XXX"}], ACTORS)
    curated = [USA, IRQ, {**IRQ, "actor_id": "ISR", "name": "Israel", "country_code": "ISR"}]
    built = actors_after(stored, [], curated)
    assert built.equals(to_table(actor_rows(stored.to_pylist(), [], curated), ACTORS))
    assert built.column("actor_id").to_pylist() == ["IRQ", "ISR", "USA", "person:a-b", "place:x"]
    assert built.column("source").to_pylist() == ["seed", "seed", "seed", "model", "gazetteer"]
    assert same_actors(actors_after(built, [], curated), built) and not same_actors(built, stored)


def _views(con):
    return {name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for (name,) in con.execute("select view_name from duckdb_views() where not internal order by 1").fetchall()}


def _marks(lake):
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        return dict(con.execute("select view_name, comment from duckdb_views() where not internal").fetchall())


def test_a_refresh_recreates_the_views_over_changed_tables_only_and_reads_as_a_full_rebuild(tmp_path):
    lake, sql = Lake(tmp_path / "lake"), Settings().sql_dir
    commit_run(lake, "r1", {**article_tables(["a1", "a2"], "r1"), "actors": [IRQ]})
    warehouse.refresh(lake, sql)
    before = _marks(lake)
    rerun = [{**row, "run_id": "r2", "status": "unchanged", "article_id": None} for row in article_tables(["a1", "a2"], "r2")["files"]]
    commit_run(lake, "r2", {"files": rerun}, day=date(2026, 1, 8))
    assert warehouse.refresh(lake, sql) == [v.name for v in sqlproject.build_order(sqlproject.load_views(sql))]
    after = _marks(lake)
    assert {name for name in after if after[name] != before[name]} == {"stg_files", "stg_runs"}
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        updated = _views(con)
    assert len(updated["stg_runs"]) == 2 and len(updated["stg_files"]) == 4
    lake.duckdb_path.unlink()
    warehouse.refresh(lake, sql)
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert _views(con) == updated


def test_a_view_over_a_view_recreated_with_other_columns_reads_them(tmp_path):
    sql = tmp_path / "sql"
    for layer, name, body in (("staging", "stg_things", "select 1 as thing_id"), ("marts", "things", "select * from {{ ref('stg_things') }}")):
        (sql / layer).mkdir(parents=True, exist_ok=True)
        (sql / layer / f"{name}.sql").write_text(f"-- {name}: rows\n-- grain: one row per thing\n-- key: thing_id\n\n{body}\n")
    lake = Lake(tmp_path / "lake")
    warehouse.refresh(lake, sql, export_marts=False)
    (sql / "staging" / "stg_things.sql").write_text("-- stg_things: rows\n-- grain: one row per thing\n-- key: thing_id\n\n"
                                                     "select 'one' as thing_id, 2 as n\n")
    (sql / "marts" / "gone.sql").write_text("-- gone: rows\n-- grain: one row per thing\n-- key: thing_id\n\nselect 1 as thing_id\n")
    warehouse.refresh(lake, sql, export_marts=False)
    (sql / "marts" / "gone.sql").unlink()
    warehouse.refresh(lake, sql, export_marts=False)
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select * from things").fetchall() == [("one", 2)]
        assert con.execute("select column_name, data_type from duckdb_columns() where table_name = 'things'").fetchall() == [
            ("thing_id", "VARCHAR"), ("n", "INTEGER")]
        assert sorted(_marks(lake)) == ["stg_things", "things"]


def test_a_duckdb_file_holding_more_than_views_is_built_again(tmp_path):
    lake, sql = Lake(tmp_path / "lake"), Settings().sql_dir
    commit_run(lake, "r1", article_tables(["a1"], "r1"))
    warehouse.refresh(lake, sql, export_marts=False)
    with duckdb.connect(str(lake.duckdb_path)) as con:
        con.execute("create table notes as select 1 as n")
        con.execute("comment on view stg_runs is 'edited'")
    lake.duckdb_path.with_name("newslake.duckdb.building").write_text("left by a killed run")
    warehouse.refresh(lake, sql, export_marts=False)
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0
    assert _marks(lake)["stg_runs"].startswith(warehouse.VIEW_MARK)
    lake.duckdb_path.write_text("not a DuckDB file")
    warehouse.refresh(lake, sql, export_marts=False)
    assert len(_marks(lake)) == len(sqlproject.load_views(sql))


def test_without_heartbeats_turns_them_off_with_one_copy_per_settings_object():
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows.prefect_env import without_heartbeats

    outside = get_current_settings()
    with without_heartbeats():
        first = get_current_settings()
        assert first.flows.heartbeat_frequency is None and first.api.url == outside.api.url
    with without_heartbeats():
        assert get_current_settings() is first
    assert get_current_settings() is outside
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}), without_heartbeats():
        other = get_current_settings()
        assert other is not first and other.flows.heartbeat_frequency is None and other.api.url == "http://127.0.0.1:9/api"


def test_the_warm_process_builds_prefects_deferred_models_once():
    import pydantic
    from prefect.client.schemas.actions import FlowRunCreate

    from flows.warm import complete_models

    complete_models()
    assert FlowRunCreate.__pydantic_complete__ and not isinstance(FlowRunCreate.__pydantic_validator__, pydantic._internal._mock_val_ser.MockValSer)
    assert complete_models() == 0
