from datetime import date

import pyarrow as pa
import pytest

from flows.lake import Lake, LakeBusy
from transforms.schemas import ACTORS, SENTENCES


def sentences(n, aid="a"):
    return pa.Table.from_pylist(
        [{"article_id": aid, "sentence_id": i, "start_char": 0, "end_char": 1, "text": "x"} for i in range(1, n + 1)],
        schema=SENTENCES,
    )


def test_only_committed_files_are_visible_and_commit_is_atomic(tmp_path):
    lake = Lake(tmp_path)
    rel = lake.stage("sentences", sentences(2), "run1", "b0")
    assert lake.read("sentences").num_rows == 0  # staged, not committed
    lake.commit("run1", {"sentences": [rel]}, date(2026, 1, 2))
    assert lake.read("sentences").num_rows == 2
    assert lake.manifest()["sentences"] == ["sentences/ingest_date=2026-01-02/run1-b0.parquet"]
    rel2 = lake.stage("sentences", sentences(3, "b"), "run2", "b0")
    lake.commit("run2", {"sentences": [rel2]}, date(2026, 1, 3))
    assert lake.read("sentences").num_rows == 5
    assert not (tmp_path / "lake" / "_staging").exists()


def test_replaced_files_outlive_the_retention_then_go(tmp_path):
    row = {"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA",
           "affiliation": None, "source": "seed", "wikidata_qid": None, "valid_from": None, "valid_to": None}

    def commit(lake, run):
        lake.commit(run, {"actors": [lake.stage("actors", pa.Table.from_pylist([row], schema=ACTORS), run, "all")]}, date(2026, 1, 1))

    files = lambda: sorted(p.name for p in (tmp_path / "lake" / "actors").iterdir())  # noqa: E731
    commit(Lake(tmp_path), "r1")
    commit(Lake(tmp_path), "r2")
    assert Lake(tmp_path).manifest()["actors"] == ["actors/r2-all.parquet"]
    assert files() == ["r1-all.parquet", "r2-all.parquet"]  # r1 kept for readers of the older snapshot
    commit(Lake(tmp_path, retention_seconds=0), "r3")
    assert files() == ["r3-all.parquet"]
    orphan = tmp_path / "lake" / "sentences" / "crashed.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half")
    assert Lake(tmp_path).collect_garbage() == 1 and not orphan.exists()


def test_schema_drift_fails_loudly(tmp_path):
    bad = pa.table({"article_id": ["a"], "sentence_id": ["not a number"], "start_char": [0], "end_char": [1], "text": ["x"]})
    with pytest.raises((pa.ArrowInvalid, ValueError)):
        Lake(tmp_path).stage("sentences", bad, "r", "b0")


def test_single_writer(tmp_path):
    lake = Lake(tmp_path)
    with lake.writing():
        with pytest.raises(LakeBusy):
            with Lake(tmp_path).writing():
                pass


def test_files_written_before_a_column_was_added_still_read(tmp_path):
    import pyarrow.parquet as pq

    lake = Lake(tmp_path)
    old = pa.table({"actor_id": ["USA"], "name": ["United States"], "type": ["country"], "country_code": ["USA"],
                    "source": ["seed"], "wikidata_qid": ["Q30"]})
    rel = "actors/old.parquet"
    (tmp_path / "lake" / "actors").mkdir(parents=True)
    pq.write_table(old, tmp_path / "lake" / rel)
    (tmp_path / "lake" / "_manifest.json").write_text('{"version": 1, "tables": {"actors": ["%s"]}}' % rel)
    rows = lake.read("actors").to_pylist()
    assert rows == [{"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA",
                     "affiliation": None, "source": "seed", "wikidata_qid": "Q30", "valid_from": None, "valid_to": None}]
