"""The marts' export (flows/warehouse.py): each mart file holds its view's rows, in key order, whether what several
marts read is computed once or not; the views and the marts are made side by side."""

import shutil
import threading

import duckdb
import pyarrow.parquet as pq
import pytest

from flows import sqlproject, warehouse
from flows.lake import Lake
from flows.settings import Settings


def _copy(lake: Lake, target) -> Lake:
    shutil.copytree(lake.root, target)
    for name in ("marts", warehouse.MANIFEST):
        shutil.rmtree(target / name, ignore_errors=True)
    (target / lake.duckdb_path.name).unlink(missing_ok=True)
    return Lake(target)


def _exported(views):
    return sorted(v.name for v in views.values() if v.exported)


@pytest.mark.parametrize("shared_mentions", [warehouse.SHARED_MENTIONS, 0], ids=["shared-once", "each-mart-reads-the-views"])
def test_every_mart_file_holds_its_views_rows_in_key_order(fixture_lake, tmp_path, monkeypatch, shared_mentions):
    monkeypatch.setattr(warehouse, "SHARED_MENTIONS", shared_mentions)
    lake, sql = _copy(fixture_lake, tmp_path / "lake"), Settings().sql_dir
    settings_seen, threads, statements = [], set(), []
    real_run, real_create = warehouse._run, warehouse.create_views

    def run(cursor, statement):
        settings_seen.append(cursor.execute("select current_setting('temp_directory'), current_setting('memory_limit')").fetchone())
        threads.add(threading.current_thread().name)
        statements.append(statement)
        real_run(cursor, statement)

    def create(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(warehouse, "_run", run)
    monkeypatch.setattr(warehouse, "create_views", create)
    warehouse.refresh(lake, sql)
    views = sqlproject.load_views(sql)
    names = _exported(views)
    assert sorted(p.stem for p in (lake.root / "marts").glob("*.parquet")) == names
    assert not list((lake.root / "marts").glob(".*.tmp"))
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        for name in names:
            expected = con.execute(f"select * from {name} order by {', '.join(views[name].key)}").fetchall()
            path = lake.root / "marts" / f"{name}.parquet"
            assert pq.read_schema(path).names == [d[0] for d in con.execute(f"select * from {name} limit 0").description], name
            assert con.execute(f"select * from read_parquet('{path}')").fetchall() == expected, name
    assert len(settings_seen) == len(statements) and sum(s.startswith("copy (") for s in statements) == len(names)
    assert {s[0] for s in settings_seen} == {str(lake.root / warehouse.SPILL)}  # spills under the lake, never the working folder
    assert len(threads) >= 2 and threading.current_thread().name in threads  # the views here, the marts beside


@pytest.mark.parametrize("shared_mentions", [warehouse.SHARED_MENTIONS, 0], ids=["shared-once", "each-mart-reads-the-views"])
def test_a_mart_asked_for_is_made_first_and_handed_over_as_soon_as_it_is_written(fixture_lake, tmp_path, monkeypatch, shared_mentions):
    """``on_export``: what the mart reads comes first among the jobs, then its export, then the rest (each job starts once
    what it reads is made, in that order of those ready); its function gets the written file (not yet in place) holding
    the rows the mart then has in place."""
    monkeypatch.setattr(warehouse, "SHARED_MENTIONS", shared_mentions)
    lake, sql = _copy(fixture_lake, tmp_path / "lake"), Settings().sql_dir
    given, handed = [], []
    real_graph = warehouse._run_graph
    monkeypatch.setattr(warehouse, "_run_graph", lambda con, jobs, *args, **kwargs: given.extend(jobs) or real_graph(con, jobs, *args, **kwargs))
    target = warehouse.mart_path(lake, "mentions_per_actor")

    def exported(path):
        handed.append((path.name, target.exists(), pq.read_table(path).to_pylist()))

    warehouse.refresh(lake, sql, on_export={"mentions_per_actor": exported})
    [(name, in_place, rows)] = handed
    assert name == ".mentions_per_actor.parquet.tmp" and not in_place and rows and rows == pq.read_table(target).to_pylist()
    reads = sqlproject.upstream(sqlproject.load_views(sql), "mentions_per_actor")
    names = [name for name, _, _ in given]
    ahead = len([n for n in names if n in reads])
    assert set(names[:ahead]) <= reads and names[ahead] == warehouse.COPY + "mentions_per_actor"
    assert len(names) > ahead + 5 and not reads & set(names[ahead + 1 :])  # the rest after it


def test_what_two_marts_read_is_found_through_the_views_between(tmp_path):
    sql = tmp_path / "sql"
    bodies = {("staging", "stg_a"): "select 1 as k", ("intermediate", "int_a"): "select * from {{ ref('stg_a') }}",
              ("marts", "m1"): "select * from {{ ref('int_a') }}",
              ("marts", "m2"): "select * from {{ ref('int_a') }} join {{ ref('stg_a') }} using (k)",
              ("marts", "m3"): "select * from {{ ref('m1') }}", ("marts", "m4"): "select 2 as k"}
    for (layer, name), body in bodies.items():
        (sql / layer).mkdir(parents=True, exist_ok=True)
        (sql / layer / f"{name}.sql").write_text(f"-- {name}: rows\n-- grain: one row per k\n-- key: k\n\n{body}\n")
    views = sqlproject.load_views(sql)
    assert warehouse._readers(views, ["m1", "m2", "m3", "m4"]) == {
        "int_a": {"m1", "m2", "m3"}, "stg_a": {"m1", "m2", "m3"}, "m1": {"m3"}}
    assert warehouse._readers(views, ["m4"]) == {}
    assert sqlproject.upstream(views, "m3") == {"m1", "int_a", "stg_a"} and sqlproject.upstream(views, "stg_a") == set()


def test_views_that_fail_leave_the_marts_and_the_file_as_they_were(fixture_lake, tmp_path, monkeypatch):
    lake, sql = _copy(fixture_lake, tmp_path / "lake"), Settings().sql_dir
    warehouse.refresh(lake, sql)
    before = {p.name: p.read_bytes() for p in (lake.root / "marts").iterdir()}
    file_before = lake.duckdb_path.read_bytes()
    (lake.root / warehouse.MANIFEST).unlink(missing_ok=True)
    (lake.root / "marts" / warehouse.MANIFEST).unlink()  # every mart exported again, then thrown away

    def failing(*args, **kwargs):
        raise duckdb.IOException("IO Error: disk full")

    monkeypatch.setattr(warehouse, "create_views", failing)
    with pytest.raises(duckdb.IOException, match="disk full"):
        warehouse.refresh(lake, sql)
    after = {p.name: p.read_bytes() for p in (lake.root / "marts").iterdir()}
    assert after == {name: data for name, data in before.items() if name != warehouse.MANIFEST}  # no .tmp file left
    assert lake.duckdb_path.read_bytes() == file_before


def test_a_new_lake_starts_from_the_views_template_and_reads_its_own_rows(fixture_lake, tmp_path, monkeypatch):
    """The first refresh of this SQL writes the template (views over no rows); the next new lake's refresh starts from
    it and makes again only the staging views, those naming the lake's files; its views read that lake's rows."""
    sql, cache = Settings().sql_dir, tmp_path / "cache"
    first = _copy(fixture_lake, tmp_path / "first")
    warehouse.refresh(first, sql, cache_dir=cache)
    template = warehouse.template_path(cache, sqlproject.load_views(sql))
    assert sorted(p.name for p in cache.iterdir()) == [template.name]
    staging = sorted(v.name for v in sqlproject.load_views(sql).values() if v.sources)
    with duckdb.connect(str(template), read_only=True) as con:
        assert con.execute(warehouse.ONLY_VIEWS.replace(f"'{warehouse.BUILDING}'", "current_database()")).fetchone()[0]
        assert all(con.execute(f"select count(*) from {name}").fetchone()[0] == 0 for name in staging)
        assert not [s for (s,) in con.execute("select sql from duckdb_views() where not internal").fetchall() if "read_parquet" in s]

    remade = []
    real = warehouse.create_views

    class Recording:  # the connection create_views is given, with every view it makes recorded
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if sql.startswith("create or replace view "):
                remade.append(sql.split()[4])
            return self.con.execute(sql, *args)

    monkeypatch.setattr(warehouse, "create_views", lambda con, *args: real(Recording(con), *args))
    second = _copy(fixture_lake, tmp_path / "second")
    warehouse.refresh(second, sql, cache_dir=cache, export_marts=False)
    with_files = sorted(v.name for v in sqlproject.load_views(sql).values() if v.sources and second.files(v.sources[0]))
    assert len(with_files) >= 4 and sorted(remade) == with_files  # made again: the staging views naming files
    plain = _copy(fixture_lake, tmp_path / "plain")
    warehouse.refresh(plain, sql, export_marts=False)
    names = sorted(v.name for v in sqlproject.load_views(sql).values())
    with duckdb.connect(str(second.duckdb_path), read_only=True) as a, duckdb.connect(str(plain.duckdb_path), read_only=True) as b:
        for name in names:
            query = f"select * from {name} order by all"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), name
        assert a.execute("select count(*) from mentions").fetchone()[0] == 6


def test_a_template_that_cannot_be_used_is_written_again(fixture_lake, tmp_path):
    sql, cache = Settings().sql_dir, tmp_path / "cache"
    template = warehouse.template_path(cache, sqlproject.load_views(sql))
    cache.mkdir()
    template.write_text("not a DuckDB file")
    lake = _copy(fixture_lake, tmp_path / "lake")
    warehouse.refresh(lake, sql, cache_dir=cache, export_marts=False)
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*) from mentions").fetchone()[0] == 6
    with duckdb.connect(str(template), read_only=True) as con:
        assert con.execute("select count(*) from stg_mentions").fetchone()[0] == 0
    assert sorted(p.name for p in cache.iterdir()) == [template.name]  # no temporary file left


def test_the_template_is_named_by_the_sql_it_holds(tmp_path):
    sql = tmp_path / "sql"
    (sql / "staging").mkdir(parents=True)
    view = sql / "staging" / "stg_runs.sql"
    view.write_text("-- stg_runs: rows\n-- grain: one row per run\n-- key: run_id\n\nselect * from {{ source('runs') }}\n")
    first = warehouse.template_path(tmp_path, sqlproject.load_views(sql))
    assert warehouse.template_path(tmp_path, sqlproject.load_views(sql)) == first
    view.write_text("-- stg_runs: rows\n-- grain: one row per run\n-- key: run_id\n\nselect run_id from {{ source('runs') }}\n")
    assert warehouse.template_path(tmp_path, sqlproject.load_views(sql)) != first


def test_a_job_runs_once_what_it_reads_is_made_and_the_first_failure_stops_the_rest():
    import time

    made, order = duckdb.connect(), []
    real = warehouse._run

    def run(cursor, sql):
        order.append(sql.split()[2])
        if "slow" in sql:
            time.sleep(0.2)
        real(cursor, sql)

    jobs = [("slow", "create table slow as select 1 as k", set()),
            ("fast", "create table fast as select 2 as k", {"some_lake_table"}),
            ("both", "create table both_ as select * from slow join fast on true", {"slow", "fast"}),
            ("after_fast", "create table after_fast as select k from fast", {"fast"})]
    import unittest.mock

    finished = []
    with unittest.mock.patch.object(warehouse, "_run", run):
        warehouse._run_graph(made, jobs, 4, done=finished.append)
    # the job reading only "fast" did not wait for "slow"; the one reading both did
    assert order.index("after_fast") < order.index("both_") and order[-1] == "both_"
    assert sorted(finished) == sorted(name for name, _, _ in jobs) and finished[-1] == "both"  # each named once it is done
    assert made.execute("select * from both_").fetchall() == [(1, 2)]
    with pytest.raises(duckdb.Error):
        warehouse._run_graph(made, [("bad", "create table bad as select * from no_such_table", set()),
                                    ("later", "create table later as select * from bad", {"bad"})], 4)
    assert made.execute("select count(*) from duckdb_tables() where table_name in ('bad', 'later')").fetchone()[0] == 0
    with pytest.raises(RuntimeError, match="cycle"):
        warehouse._run_graph(made, [("a", "select 1", {"b"}), ("b", "select 1", {"a"})], 2)
