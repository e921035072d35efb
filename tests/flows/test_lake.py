import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from flows.lake import Lake, LakeBusy, OldLakeFormat
from tests.flows.delta_rows import T0, article_tables, commit_run, signature, stage_all
from transforms.dedup import band_keys
from transforms.schemas import ACTORS, SENTENCES


def sentences(n, aid="a"):
    return pa.Table.from_pylist(
        [{"article_id": aid, "sentence_id": i, "start_char": 0, "end_char": 1, "text": "x"} for i in range(1, n + 1)],
        schema=SENTENCES,
    )


def test_staged_rows_are_invisible_until_the_runs_row_commits(tmp_path):
    lake = Lake(tmp_path)
    staged = stage_all(lake, "run1", {"sentences": sentences(2).to_pylist()})
    assert lake.read("sentences").num_rows == 0 and lake.versions() == {}
    versions = lake.commit("run1", staged, date(2026, 1, 2))
    assert lake.read("sentences").num_rows == 2
    assert [p.split("/lake/")[1] for p in lake.files("sentences")] == ["sentences/ingest_date=2026-01-02/run1-p0.parquet"]
    assert versions["sentences"] == 1 and versions["articles"] == 0 and versions["runs"] == 1
    assert lake.versions() == lake.versions("run1") == versions
    commit_run(lake, "run2", {"sentences": sentences(3, "b").to_pylist()}, day=date(2026, 1, 3))
    assert lake.read("sentences").num_rows == 5
    assert not (tmp_path / "lake" / "_staging" / "run1").exists()
    with pytest.raises(ValueError, match="runs"):
        lake.commit("run3", {"sentences": [lake.stage("sentences", sentences(1), "run3", "p0")]}, date(2026, 1, 3))


def test_staging_again_overwrites_the_same_part(tmp_path):
    lake = Lake(tmp_path)
    first = lake.stage("sentences", sentences(3), "r", "b0")
    again = lake.stage("sentences", sentences(2), "r", "b0")
    assert first == again == "_staging/r/sentences/b0.parquet"
    assert sorted(p.name for p in (tmp_path / "lake" / "_staging" / "r" / "sentences").iterdir()) == ["b0.parquet"]


def test_replaced_tables_keep_only_the_latest_rows(tmp_path):
    row = {"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA", "parent": None,
           "affiliation": None, "source": "seed", "wikidata_qid": None, "valid_from": None, "valid_to": None}
    lake = Lake(tmp_path)
    commit_run(lake, "r1", {"actors": [row]})
    commit_run(lake, "r2", {"actors": [row, {**row, "actor_id": "IRQ", "name": "Iraq", "country_code": "IRQ"}]})
    assert lake.read("actors", ["actor_id"]).column("actor_id").to_pylist() == ["USA", "IRQ"]
    assert len(lake.files("actors")) == 1


def test_retired_articles_lose_their_rows_in_the_same_run(tmp_path):
    lake = Lake(tmp_path)
    commit_run(lake, "r1", article_tables(["a1", "a2"], "r1"))
    commit_run(lake, "r2", article_tables(["a3"], "r2"), retired={"a1"})
    for table in ("articles", "sentences", "mentions", "signatures", "signature_bands"):
        assert sorted(set(lake.read(table, ["article_id"]).column("article_id").to_pylist())) == ["a2", "a3"], table
    assert lake.read("files", ["article_id"]).num_rows == 3  # the file account keeps its history


def test_unsigned_minhash_round_trips(tmp_path):
    lake = Lake(tmp_path)
    sig = np.array([2**64 - 1, 2**63, 0] + [5] * 117, dtype=np.uint64)
    commit_run(lake, "r1", {"signatures": [{"article_id": "a", "minhash": sig}]})
    stored = lake.read("signatures")
    assert stored.schema.field("minhash").type == pa.list_(pa.uint64())
    assert stored.column("minhash").to_pylist() == [sig.tolist()]


@pytest.mark.parametrize("literal_keys", [256, 0])
def test_lookups_return_only_the_asked_keys(tmp_path, monkeypatch, literal_keys):
    """Whether the keys are literals of the query or a table joined (many keys), the same rows come back."""
    monkeypatch.setattr("flows.lake.LITERAL_KEYS", literal_keys)
    lake = Lake(tmp_path)
    commit_run(lake, "r1", {**article_tables(["a1", "a2", "a3"], "r1"),
                            "source_lines": [{"source_name": "wire", "line": "Share this", "n_articles": 9},
                                             {"source_name": "blog", "line": "Subscribe", "n_articles": 5}]})
    assert lake.file_history(["/in/a2.txt", "/in/zz.txt"]) == [
        {"path": "/in/a2.txt", "run_id": "r1", "record": None, "sha256": "sha-a2", "status": "ingested", "article_id": "a2", "size": 10,
         "seen_at": T0, "etag": None}]
    assert lake.existing_articles(["a1", "a3", "b9"]) == {"a1", "a3"}
    assert sorted(r["path"] for r in lake.files_carrying(["a1", "a3", "b9"])) == ["/in/a1.txt", "/in/a3.txt"]
    assert lake.existing_articles([]) == set()
    sig = signature("a2", int(b"a2".hex(), 16) % 2**32)
    found = lake.signature_candidates(band_keys(sig)[5:6] + [12345])
    assert list(found) == ["a2"] and found["a2"].dtype == np.uint64 and np.array_equal(found["a2"], sig)
    assert lake.signature_candidates([12345]) == {}
    assert lake.source_lines(["blog"]) == [{"source_name": "blog", "line": "Subscribe", "n_articles": 5}]


@pytest.mark.parametrize("literal_keys", [256, 0], ids=["literals", "joined"])
def test_lookups_inside_looking_up_share_one_database_opened_at_the_first_that_needs_one(tmp_path, monkeypatch, literal_keys):
    import flows.lake

    monkeypatch.setattr("flows.lake.LITERAL_KEYS", literal_keys)
    opened = []
    connect = flows.lake.duck.connect
    monkeypatch.setattr(flows.lake.duck, "connect", lambda *a, **k: opened.append(1) or connect(*a, **k))
    empty = Lake(tmp_path / "empty")
    with empty.looking_up():
        assert empty.existing_articles(["a1"]) == set() and empty.signature_candidates([1]) == {}
    assert opened == []  # a lake without files needs no database
    lake = Lake(tmp_path / "lake")
    commit_run(lake, "r1", article_tables(["a1", "a2"], "r1"))
    sig = signature("a2", int(b"a2".hex(), 16) % 2**32)
    with lake.looking_up():
        assert lake.existing_articles(["a1", "b9"]) == {"a1"}
        assert list(lake.signature_candidates(band_keys(sig)[:1])) == ["a2"]  # two look-ups: bands, then signatures
        assert lake.existing_articles(["a2"]) == {"a2"}
        with lake.looking_up():
            assert lake.existing_articles(["a1"]) == {"a1"}
    assert len(opened) == 1
    assert lake.existing_articles(["a1"]) == {"a1"} and len(opened) == 2  # outside the block: a database of its own


def test_a_files_table_written_before_the_etag_column_is_read_and_extended(tmp_path, monkeypatch):
    from transforms.schemas import FILES, TABLES

    lake = Lake(tmp_path)
    monkeypatch.setitem(TABLES, "files", FILES.remove(FILES.get_field_index("etag")))
    tables = article_tables(["a1"], "r1")
    commit_run(lake, "r1", {**tables, "files": [{k: v for k, v in r.items() if k != "etag"} for r in tables["files"]]})
    monkeypatch.setitem(TABLES, "files", FILES)
    assert lake.file_history(["/in/a1.txt"])[0]["etag"] is None
    assert lake.known_under(["/in"])["/in/a1.txt"].etag is None
    later = article_tables(["a2"], "r2")
    commit_run(lake, "r2", {**later, "files": [{**r, "etag": "e2"} for r in later["files"]]})
    assert {r["path"]: r["etag"] for r in lake.file_history(["/in/a1.txt", "/in/a2.txt"])} == {"/in/a1.txt": None, "/in/a2.txt": "e2"}
    assert lake.read("files", ["path", "etag"]).to_pylist() == [{"path": "/in/a1.txt", "etag": None}, {"path": "/in/a2.txt", "etag": "e2"}]


def test_lookups_on_an_empty_lake(tmp_path):
    lake = Lake(tmp_path)
    assert lake.file_history(["/x"]) == [] and lake.existing_articles(["a"]) == set()
    assert lake.signature_candidates([1, 2]) == {} and lake.source_lines(["wire"]) == []


def test_schema_drift_fails_loudly(tmp_path):
    bad = pa.table({"article_id": ["a"], "sentence_id": ["not a number"], "start_char": [0], "end_char": [1], "text": ["x"]})
    with pytest.raises((pa.ArrowInvalid, ValueError)):
        Lake(tmp_path).stage("sentences", bad, "r", "b0")


def test_single_writer_with_a_lock_no_child_inherits(tmp_path):
    import subprocess
    import sys

    lake = Lake(tmp_path)
    with lake.writing():
        with pytest.raises(LakeBusy):
            with Lake(tmp_path).writing():
                pass
        probe = ("import fcntl, sys; fh = open(sys.argv[1], 'w'); fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)")
        child = subprocess.Popen(["sleep", "5"])
        try:
            assert subprocess.run([sys.executable, "-c", probe, str(tmp_path / ".lock")]).returncode != 0
        finally:
            child.kill()
    child = subprocess.Popen(["sleep", "5"])
    try:
        with Lake(tmp_path).writing():
            pass
    finally:
        child.kill()


def test_a_pre_delta_lake_gets_a_one_line_way_out(tmp_path):
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "_manifest.json").write_text('{"version": 1, "tables": {}}')
    with pytest.raises(OldLakeFormat, match=f"newslake migrate --lake {tmp_path}$"):
        with Lake(tmp_path).writing():
            pass
    with pytest.raises(OldLakeFormat):
        Lake(tmp_path).read("articles")


def test_files_written_before_a_column_was_added_still_read(tmp_path):
    import pyarrow.parquet as pq

    lake = Lake(tmp_path)
    commit_run(lake, "r1", {})
    old = pa.table({"actor_id": ["USA"], "name": ["United States"], "type": ["country"], "country_code": ["USA"],
                    "source": ["seed"], "wikidata_qid": ["Q30"]})
    path = tmp_path / "lake" / "actors" / "old.parquet"
    pq.write_table(old, path)
    lake.commit_table("actors", [path])
    lake.commit("r2", stage_all(lake, "r2", {}), date(2026, 1, 8))
    rows = lake.read("actors").to_pylist()
    assert rows == [{"actor_id": "USA", "name": "United States", "type": "country", "country_code": "USA", "parent": None,
                     "affiliation": None, "source": "seed", "wikidata_qid": "Q30", "valid_from": None, "valid_to": None}]
    assert ACTORS.names == list(rows[0])


def test_a_lake_created_before_a_column_was_added_gets_it_in_its_delta_schema(tmp_path):
    from deltalake import DeltaTable

    from flows.lake import delta_schema

    lake = Lake(tmp_path)
    commit_run(lake, "r1", {})
    path = tmp_path / "lake" / "actors"
    old = pa.schema([f for f in delta_schema("actors") if f.name != "parent"])
    for log in (path / "_delta_log").iterdir():
        log.unlink()
    DeltaTable.create(path, old)  # the actors table as a lake made before `parent` existed
    assert "parent" not in [f.name for f in DeltaTable(path).schema().fields]
    lake = Lake(tmp_path)
    commit_run(lake, "r2", {})
    assert sorted(f.name for f in DeltaTable(path).schema().fields) == sorted(delta_schema("actors").names)
    assert "parent" in DeltaTable(path).to_pyarrow_table().column_names


def test_row_count_reads_the_pinned_files(tmp_path):
    lake = Lake(tmp_path)
    assert lake.row_count("sentences") == 0
    rows = [{"article_id": "a", "sentence_id": i, "start_char": 0, "end_char": 1, "text": "x"} for i in (1, 2, 3)]
    with lake.writing():
        commit_run(lake, "r1", {"sentences": rows})
    assert lake.row_count("sentences") == 3 and lake.row_count("mentions") == 0


def test_a_busy_lake_is_refused_in_one_line_before_prefect_starts(tmp_path):
    import subprocess
    import sys

    lake = Lake(tmp_path)
    assert not lake.busy()  # no lock file yet
    with lake.writing():
        assert lake.busy()
        done = subprocess.run([sys.executable, "-m", "flows.cli", "ingest", "seeds/articles", "--lake", str(tmp_path)],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert not lake.busy()
    assert done.returncode == 75  # EX_TEMPFAIL: try again later
    assert " ".join(done.stderr.split()) == f"error: another newslake run is writing to {tmp_path}"  # one message, no traceback


def test_wait_gives_a_busy_lake_time_to_free_up(tmp_path):
    import subprocess
    import sys
    import threading

    lake, release, held = Lake(tmp_path / "lake"), threading.Event(), threading.Event()

    def hold():
        with lake.writing():
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    cmd = [sys.executable, "-m", "flows.cli", "ingest", "seeds/articles", "--lake", str(lake.root)]
    cwd = Path(__file__).resolve().parents[2]
    t0 = time.monotonic()
    gave_up = subprocess.run([*cmd, "--wait", "1"], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert gave_up.returncode == 75 and time.monotonic() - t0 >= 1
    assert " ".join(gave_up.stderr.split()) == f"error: another newslake run is writing to {lake.root} (waited 1 s)"
    threading.Timer(1.0, release.set).start()
    waited = subprocess.run([*cmd, "--wait", "60"], capture_output=True, text=True, cwd=cwd, timeout=300)
    holder.join()
    assert waited.returncode == 0, waited.stderr
    assert "done run" in waited.stderr


def test_known_files_reads_past_the_rows_that_repeat_an_account(tmp_path):
    """A no-op run adds an ``unchanged`` row per file; the lookup of what the lake knows skips them (its cost
    must not grow with every rerun) and knows exactly what the whole history says."""
    from transforms.batch import current_files

    lake = Lake(tmp_path)
    commit_run(lake, "r1", article_tables(["a1", "a2"], "r1"))
    for run in ("r2", "r3"):
        rows = article_tables(["a1", "a2"], run)["files"]
        commit_run(lake, run, {"files": [{**r, "status": "unchanged", "article_id": None} for r in rows]})
    paths = ["/in/a1.txt", "/in/a2.txt"]
    assert len(lake.file_history(paths)) == 6
    assert [r["run_id"] for r in lake.file_history(paths, repeats=False)] == ["r1", "r1"]
    assert lake.known_files(paths) == current_files(lake.file_history(paths))
    assert lake.known_files(paths)["/in/a1.txt"].article_ids == {"a1"}


def test_known_files_without_articles_is_the_same_account_with_no_article_ids(tmp_path):
    """The look-up a run starts with leaves the article ids out (a dump carries hundreds of thousands) and
    collapses a path's rows per run in DuckDB; hashes, sizes, times and ETags are those of the full account,
    across an appended read (which keeps the earlier run's account) and a deletion."""
    from dataclasses import replace

    lake = Lake(tmp_path)
    first = article_tables(["a1", "a2", "a3"], "r1")
    for n, r in enumerate(first["files"]):
        r.update(path="/in/dump.jsonl", record=n + 1, sha256="s1", size=300)
    commit_run(lake, "r1", first)
    grown = article_tables(["a4"], "r2")
    for r in grown["files"]:
        r.update(path="/in/dump.jsonl", record=4, sha256="s2", size=400, etag="e2")
    kept = {**grown["files"][0], "record": 3, "status": "unchanged", "article_id": None}
    commit_run(lake, "r2", {**grown, "files": [kept, *grown["files"]]})
    gone = article_tables(["a5"], "r3")
    commit_run(lake, "r3", gone)
    commit_run(lake, "r4", {"files": [{**gone["files"][0], "run_id": "r4", "status": "deleted", "sha256": None, "article_id": None}]})
    paths = ["/in/dump.jsonl", gone["files"][0]["path"], "/in/never.txt"]
    full = lake.known_files(paths)
    assert full["/in/dump.jsonl"].article_ids == {"a1", "a2", "a3", "a4"} and list(full) == ["/in/dump.jsonl"]
    assert lake.known_files(paths, articles=False) == {p: replace(k, article_ids=set()) for p, k in full.items()}


def test_a_reader_sees_the_commits_another_lake_object_made(tmp_path):
    """A Lake keeps its tables open and rereads a log only when it holds a later commit: another writer's
    commits (another process in practice), restores and compactions must all show."""
    reader, writer = Lake(tmp_path), Lake(tmp_path)
    commit_run(writer, "run1", {"sentences": sentences(2).to_pylist()})
    assert reader.read("sentences").num_rows == 2 and reader.latest_run() == "run1"
    first = reader.versions()
    commit_run(writer, "run2", {"sentences": sentences(3, "b").to_pylist()}, day=date(2026, 1, 3))
    assert reader.read("sentences").num_rows == 5 and reader.latest_run() == "run2"
    assert reader.current_versions() == writer.current_versions()
    writer.restore("run1")
    assert reader.read("sentences").num_rows == 2 and reader.versions() == first
    assert reader.current_versions() == writer.current_versions()


def test_the_same_account_look_up_is_answered_once_per_version_of_the_files_table(tmp_path, monkeypatch):
    """A run looks its files up twice (choosing its runner, then in the flow): the second look-up over the same
    files of the table is the first's answer, a copy; a commit between them is seen."""
    lake = Lake(tmp_path)
    commit_run(lake, "r1", article_tables(["a1", "a2"], "r1"))
    paths = [r["path"] for r in article_tables(["a1", "a2"], "r1")["files"]]
    asked = []
    rows = Lake._file_rows
    monkeypatch.setattr(Lake, "_file_rows", lambda self, *a, **k: asked.append(a[0]) or rows(self, *a, **k))
    first = lake.known_files(paths, articles=False)
    first[paths[0]].article_ids.add("changed by a caller")
    again = Lake(tmp_path).known_files(list(reversed(paths)), articles=False)
    assert asked == ["path"] and set(again) == set(paths) and again[paths[0]].article_ids == set()
    commit_run(lake, "r2", article_tables(["a3"], "r2"))
    assert Lake(tmp_path).known_files(paths, articles=False) == again and asked == ["path", "path"]
    assert set(Lake(tmp_path).known_files(paths + ["/in/other.txt"], articles=False)) == set(paths) and len(asked) == 3


def test_the_runs_table_is_read_once_per_version(tmp_path, monkeypatch):
    """The latest run's versions, asked for dozens of times by a run, come from one read of the ``runs`` table
    per version of it; a caller changing the answer changes no later answer, and a commit is seen."""
    lake = Lake(tmp_path)
    commit_run(lake, "r1", {"sentences": sentences(2).to_pylist()})
    import flows.lake

    reads = []
    read = flows.lake._runs_rows
    monkeypatch.setattr(flows.lake, "_runs_rows", lambda path: reads.append(path.rsplit("/", 1)[-1]) or read(path))
    first = lake.versions()
    first["runs"] = 99
    assert lake.versions() == lake.versions("r1") != first and lake.latest_run() == "r1" and reads == ["r1-run.parquet"]
    commit_run(Lake(tmp_path), "r2", {"sentences": sentences(3, "b").to_pylist()}, day=date(2026, 1, 3))
    assert lake.latest_run() == "r2" and lake.versions()["runs"] == 2
    assert sorted(reads) == ["r1-run.parquet", "r1-run.parquet", "r2-run.parquet"]  # each version's files read once


def test_a_new_lakes_tables_are_opened_by_their_creation_not_again(tmp_path, monkeypatch):
    import flows.lake

    opened = []

    class Counting(flows.lake.DeltaTable):
        def __init__(self, table_uri, *args, **kwargs):
            opened.append(Path(table_uri).name)
            super().__init__(table_uri, *args, **kwargs)

    monkeypatch.setattr(flows.lake, "DeltaTable", Counting)
    lake = Lake(tmp_path)
    with lake.writing():
        lake._tables_created()  # made in the background: the run's first stages need none of them
        assert sorted(opened) == sorted(flows.lake.TABLES)  # once each, by DeltaTable.create
        assert lake.current_versions() == {t: 0 for t in flows.lake.TABLES}
        commit_run(lake, "r1", article_tables(["a"], "r1"))  # the tables it holds open take the run's commits
    assert sorted(opened) == sorted(flows.lake.TABLES)
    assert Lake(tmp_path).row_count("articles") == 1


def test_data_files_keep_a_dictionary_only_for_columns_whose_values_repeat(tmp_path):
    import pyarrow.parquet as pq

    lake = Lake(tmp_path)
    with lake.writing():
        commit_run(lake, "r1", article_tables(["a", "b", "c"], "r1"))
    for table, dictionary, plain in (("articles", {"run_id", "language", "nlp_status", "title", "duplicate_of"}, {"article_id", "text"}),
                                     ("mentions", {"actor_id", "label", "link_method"}, {"article_id", "text", "start_char"}),
                                     ("signatures", set(), {"article_id", "minhash"})):
        meta = pq.ParquetFile(lake.files(table)[0]).metadata
        chunks = {meta.schema.column(i).path.split(".")[0]: meta.row_group(0).column(i) for i in range(meta.num_columns)}
        assert {name for name, c in chunks.items() if c.has_dictionary_page} >= dictionary, table
        assert not {name for name, c in chunks.items() if c.has_dictionary_page} & plain, table
        assert {c.compression for c in chunks.values()} == {"ZSTD"}, table


def test_the_minhash_scheme_of_a_lake_is_its_latest_runs_and_sha1_for_runs_that_recorded_none(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from tests.flows import delta_rows
    from transforms.dedup import MINHASH, SHA1_SHINGLES

    lake = Lake(tmp_path)
    assert lake.minhash_scheme() == MINHASH  # no runs: a new lake signs with the current scheme
    commit_run(lake, "r1", {})
    assert lake.minhash_scheme() == MINHASH
    monkeypatch.setattr(delta_rows, "MINHASH", None)  # a run that recorded no scheme
    commit_run(lake, "r2", {}, day=date(2026, 1, 8))
    assert Lake(tmp_path).minhash_scheme() == SHA1_SHINGLES
    monkeypatch.setattr(delta_rows, "MINHASH", "crc32-words")
    commit_run(lake, "r3", {}, day=date(2026, 1, 9))
    assert lake.minhash_scheme() == "crc32-words"  # the latest run's, read again once runs has a new version

    old = tmp_path / "old"  # a lake whose runs files predate the column
    commit_run(Lake(old), "r1", {})
    runs = old / "lake" / "runs"
    for path in runs.glob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["minhash_scheme"]), path)
    assert Lake(old).minhash_scheme() == SHA1_SHINGLES


def test_duckdb_counts_the_null_values_of_a_column_whose_other_values_are_all_equal(tmp_path):
    """DuckDB 2.0.0 matched every row of ``duplicate_of is null`` in a plain-encoded column holding one
    near-duplicate's id among nulls: the lake writes nullable strings with a dictionary, which it reads right."""
    import duckdb

    from tests.flows.delta_rows import article

    lake = Lake(tmp_path)
    rows = [article(a, "r1") for a in ("a", "b", "c", "d")]
    rows[3]["duplicate_of"] = "a"
    commit_run(lake, "r1", {"articles": rows})
    files = lake.files("articles")
    with duckdb.connect() as con:
        assert con.execute("select count(*) from read_parquet($f) where duplicate_of is null", {"f": files}).fetchall() == [(3,)]
        assert con.execute("select count(*) from read_parquet($f) where duplicate_of is not null", {"f": files}).fetchall() == [(1,)]


def test_a_new_lakes_tables_are_made_behind_the_run_which_reads_them_as_empty_meanwhile(tmp_path, monkeypatch):
    import threading

    import flows.lake

    release, made = threading.Event(), []
    create = Lake._create_table

    def held(self, table):
        assert release.wait(30)
        create(self, table)
        made.append(table)

    monkeypatch.setattr(Lake, "_create_table", held)
    lake = Lake(tmp_path)
    with lake.writing():
        assert made == [] and lake._creating()  # writing() did not wait for them
        assert lake.versions() == {} and lake.current_versions() == {} and lake.files("files") == []
        assert lake.read("articles").num_rows == 0 and lake.source_lines(["bbc"]) == [] and lake.minhash_scheme() == flows.lake.MINHASH
        staged = stage_all(lake, "r1", article_tables(["a"], "r1"))  # staging needs no table
        release.set()
        versions = lake.commit("r1", staged, date(2026, 1, 7))  # a commit waits for them
        assert sorted(made) == sorted(flows.lake.TABLES) and versions["articles"] == 1 and versions["runs"] == 1
    assert Lake(tmp_path).read("articles").column("article_id").to_pylist() == ["a"]
    assert not any(t.name == "newslake-new-tables" for t in threading.enumerate())


def test_a_new_lakes_tables_that_cannot_be_made_fail_the_run_and_never_hide_its_own_error(tmp_path, monkeypatch):
    import threading

    def broken(self, table):
        raise OSError(f"no room for {table}")

    monkeypatch.setattr(Lake, "_create_table", broken)
    with pytest.raises(OSError, match="no room"):
        with Lake(tmp_path).writing():
            pass  # a run that writes nothing still learns that its lake could not be made
    with pytest.raises(OSError, match="no room"):
        with Lake(tmp_path / "b").writing() as lake:
            commit_run(lake, "r1", article_tables(["a"], "r1"))
    with pytest.raises(ValueError, match="the run's own"):
        with Lake(tmp_path / "c").writing():
            raise ValueError("the run's own error")
    assert not any(t.name == "newslake-new-tables" for t in threading.enumerate())
    assert not Lake(tmp_path / "c").busy()
