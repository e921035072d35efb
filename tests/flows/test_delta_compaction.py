"""200 tiny runs stay within a bounded number of files per table; readers of an old snapshot keep reading."""

import subprocess
import sys
from datetime import date

import duckdb
import pandas as pd
from deltalake import DeltaTable

from flows import warehouse
from flows.lake import Lake
from flows.settings import Settings
from tests.flows.delta_rows import IRQ, article_tables, commit_run

COMPACT_FILES = 8
READER = """
import sys, time, pathlib, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from mentions").fetchone()[0], flush=True)
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.05)
print(con.execute("select count(*) from mentions").fetchone()[0], flush=True)
"""


def test_two_hundred_tiny_runs_keep_every_table_small(tmp_path):
    lake = Lake(tmp_path, retention_seconds=0, compact_files=COMPACT_FILES)
    for n in range(200):
        commit_run(lake, f"r{n:03d}", {**article_tables([f"a{n:03d}"], f"r{n:03d}"), "actors": [IRQ]})
    counts = {t: len(lake.files(t)) for t in lake.current_versions()}
    assert max(counts.values()) <= COMPACT_FILES, counts
    assert lake.read("articles").num_rows == 200 and lake.read("signature_bands").num_rows == 200 * 20
    on_disk = {t: len(list((tmp_path / "lake" / t).rglob("*.parquet"))) for t in counts}
    assert max(on_disk.values()) <= COMPACT_FILES + 2, on_disk  # vacuum removed merged-away files
    assert lake.existing_articles(["a000", "a199", "zzz"]) == {"a000", "a199"}


def test_a_reader_of_an_old_snapshot_keeps_reading_through_compaction(tmp_path):
    lake = Lake(tmp_path, retention_seconds=3600, compact_files=COMPACT_FILES)
    for n in range(6):
        commit_run(lake, f"r{n}", article_tables([f"a{n}"], f"r{n}"))
    warehouse.refresh(lake, Settings().sql_dir)
    go = tmp_path / "go"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(lake.duckdb_path), str(go)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "6"
    with lake.writing():
        assert lake.compact(force=True)
        lake.repin()
        lake.vacuum(lake.current_versions(), full=True)
    warehouse.refresh(lake, Settings().sql_dir)
    assert {t: len(lake.files(t)) for t in ("articles", "mentions", "runs")} == {"articles": 1, "mentions": 1, "runs": 1}
    go.touch()
    assert reader.communicate(timeout=60)[0].split() == ["6"]
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*) from mentions").fetchone() == (6,)
    short = Lake(tmp_path, retention_seconds=0)
    with short.writing():
        assert short.vacuum(short.current_versions()) > 0
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*) from mentions").fetchone() == (6,)


def test_pandas_on_the_raw_delta_table_matches_the_view_after_retirement(tmp_path):
    lake = Lake(tmp_path)
    commit_run(lake, "r1", article_tables(["a1", "a2", "a3"], "r1"))
    commit_run(lake, "r2", article_tables(["a4"], "r2"), retired={"a2"}, day=date(2026, 1, 8))
    warehouse.refresh(lake, Settings().sql_dir)
    columns = ["article_id", "mention_id", "sentence_id", "start_char", "end_char", "text", "label", "actor_id", "role"]
    raw = DeltaTable(tmp_path / "lake" / "mentions").to_pandas()
    raw_rows = sorted(tuple(None if pd.isna(v) else v for v in row) for row in raw[columns].itertuples(index=False))
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        view_rows = con.execute("select article_id, mention_id, sentence_id, start_char, end_char, text, label, "
                                "linked_actor_id, role from mentions order by all").fetchall()
    assert [r[0] for r in raw_rows] == ["a1", "a3", "a4"]
    assert raw_rows == view_rows


def test_the_compact_command_merges_every_table_and_the_views_follow(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    lake = Lake(tmp_path, compact_files=COMPACT_FILES)
    for n in range(4):
        commit_run(lake, f"r{n}", article_tables([f"a{n}"], f"r{n}"), day=date(2026, 1, 7 + n // 2))
    warehouse.refresh(lake, Settings().sql_dir)
    result = CliRunner().invoke(app, ["compact", "--lake", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {t: len(lake.files(t)) for t in ("articles", "signatures", "runs")} == {"articles": 2, "signatures": 1, "runs": 1}
    with duckdb.connect(str(lake.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*), count(distinct ingest_date) from articles").fetchone() == (4, 2)
        assert con.execute("select list(run_id order by run_id) from runs").fetchone() == (["r0", "r1", "r2", "r3"],)
    assert sorted(DeltaTable(tmp_path / "lake" / "articles").to_pandas()["article_id"]) == ["a0", "a1", "a2", "a3"]


def test_small_files_merge_in_bins_of_about_the_target_size(monkeypatch):
    from flows import lake as lake_module

    monkeypatch.setattr(lake_module, "TARGET_FILE_BYTES", 30)
    rows = [{"path": f"f{i}", "size_bytes": size} for i, size in enumerate([10, 20, 15, 5, 40])]
    assert [[r["path"] for r in b] for b in lake_module._bins(rows[::-1])] == [["f0", "f1"], ["f2", "f3"], ["f4"]]
