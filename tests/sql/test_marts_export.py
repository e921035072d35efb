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
    settings_seen, threads = [], set()
    real_run, real_create = warehouse._run, warehouse.create_views

    def run(cursor, statement):
        settings_seen.append(cursor.execute("select current_setting('temp_directory'), current_setting('memory_limit')").fetchone())
        threads.add(threading.current_thread().name)
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
    assert len(settings_seen) == len(names)
    assert {s[0] for s in settings_seen} == {str(lake.root / warehouse.SPILL)}  # spills under the lake, never the working folder
    assert len(threads) >= 2 and threading.current_thread().name in threads  # the views here, the marts beside


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
