"""A writer killed (kill -9) between two table commits: readers never see its rows; the next writer rolls it back."""

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
from deltalake import DeltaTable

from flows import warehouse
from flows.lake import Lake
from flows.settings import PROJECT_ROOT, Settings
from tests.flows.delta_rows import article_tables, commit_run

WRITER = """
import sys, time
from datetime import date
from flows.lake import Lake
from tests.flows.delta_rows import article_tables, stage_all
lake = Lake(sys.argv[1])
with lake.writing():
    staged = stage_all(lake, "r2", article_tables(["b1", "b2"], "r2"))
    for table in ("articles", "sentences"):
        lake.commit_table(table, [lake.place(table, staged[table][0], "r2", date(2026, 1, 8))])
    print("two tables committed", flush=True)
    time.sleep(120)
"""


def ids(rows) -> list[str]:
    return sorted(set(rows))


def test_a_run_killed_between_table_commits_is_invisible_then_rolled_back(tmp_path):
    lake = Lake(tmp_path)
    commit_run(lake, "r1", article_tables(["a1"], "r1"))
    warehouse.refresh(lake, Settings().sql_dir)
    pinned = lake.versions()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout.readline().strip() == "two tables committed"
        raw = DeltaTable(tmp_path / "lake" / "articles").to_pandas()
        assert ids(raw["article_id"]) == ["a1", "b1", "b2"]  # a raw Delta reader sees the half-committed run
        assert lake.read("articles", ["article_id"]).column("article_id").to_pylist() == ["a1"]
        with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
            assert con.sql("select article_id from articles").fetchall() == [("a1",)]
            assert con.sql("select count(*) from sentences").fetchall() == [(1,)]
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    with Lake(tmp_path).writing() as again:
        now = again.current_versions()
        assert {t: again.files(t, now) for t in now} == {t: again.files(t, pinned) for t in now}
        assert again.recover() == {}
        assert ids(DeltaTable(tmp_path / "lake" / "sentences").to_pandas()["article_id"]) == ["a1"]
        assert DeltaTable(tmp_path / "lake" / "articles").history(1)[0]["operation"] == "RESTORE"
        assert not (tmp_path / "lake" / "_staging").exists()
    commit_run(lake, "r3", article_tables(["c1"], "r3"), day=date(2026, 1, 9))
    for table in ("articles", "sentences", "mentions", "signatures", "files"):
        raw = DeltaTable(tmp_path / "lake" / table).to_pandas()
        assert ids(raw["article_id"]) == ["a1", "c1"], table
    assert sorted(DeltaTable(tmp_path / "lake" / "runs").to_pandas()["run_id"]) == ["r1", "r3"]
    assert Path(tmp_path / "lake").exists()
