"""The staged duplicate decision (DuckDB over the run's scratch folder) against the in-memory definition
``transforms.batch.resolve``: exact decisions on small cases, and the same decisions on generated runs."""

from __future__ import annotations

import contextlib
import random
import unittest.mock
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flows.resolve
from flows.resolve import carried, resolve_staged
from flows.scratch import RunScratch
from transforms.batch import ACCOUNT, PREPARED, RawFile, ReadOptions, account_rows, prepare_files, resolve
from transforms.dedup import band_keys, signature
from transforms.schemas import to_table
from transforms.text import article_id

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
WORDS = ("the minister said that talks with unions would resume next week after the strike closed schools "
         "across the north while police reported calm streets and markets opened late in the capital").split()


def story(n: int, extra: str = "") -> bytes:
    words = [WORDS[(i * (n + 3) + n) % len(WORDS)] for i in range(80)]
    return (f"Story number {n}\n\n" + " ".join(words) + "." + extra).encode()


class StubLake:
    """The lake tables the decision reads (articles, signature_bands, signatures), as Parquet files."""

    def __init__(self, root: Path, in_lake: set[str], signatures: dict[str, object]):
        root.mkdir(parents=True, exist_ok=True)
        self.paths = {}
        tables = {
            "articles": pa.table({"article_id": pa.array(sorted(in_lake), pa.string())}),
            "signature_bands": pa.table({"band_key": pa.array([k for a in sorted(signatures) for k in band_keys(signatures[a])], pa.int64()),
                                         "article_id": [a for a in sorted(signatures) for _ in band_keys(signatures[a])]}),
            "signatures": pa.table({"article_id": sorted(signatures),
                                    "minhash": pa.array([[int(v) for v in signatures[a]] for a in sorted(signatures)], pa.list_(pa.int64()))}),
        }
        for name, table in tables.items():
            if table.num_rows:
                self.paths[name] = [str(root / f"{name}.parquet")]
                pq.write_table(table, self.paths[name][0])

    def files(self, table: str) -> list[str]:
        return self.paths.get(table, [])

    def looking_up(self):
        return contextlib.nullcontext()

    def _rows(self, table: str) -> list[dict]:
        return pq.read_table(self.paths[table][0]).to_pylist() if table in self.paths else []

    def existing_articles(self, ids) -> set[str]:
        return {r["article_id"] for r in self._rows("articles")} & set(ids)

    def signature_candidates(self, keys) -> dict:
        found = {r["article_id"] for r in self._rows("signature_bands") if r["band_key"] in set(keys)}
        return {r["article_id"]: np.asarray(r["minhash"], dtype=np.int64).view(np.uint64) for r in self._rows("signatures") if r["article_id"] in found}


class Both:
    """One run decided both ways: the in-memory reference and the staged decision as the flow runs it."""

    def __init__(self, tmp: Path, batches: list[list[RawFile]], in_lake=frozenset(), lake_signatures=None, threshold=0.8):
        lake_signatures = lake_signatures or {}
        scratch = RunScratch(tmp / "lake", "r1")
        options = ReadOptions(max_bytes=5000)
        prepared, parts = [], []
        for n, files in enumerate(batches):
            part = f"p{n:05d}"
            batch = prepare_files(files, {}, {}, options, part, sink=lambda name, rows: scratch.write(name, to_table(rows, PREPARED)))
            scratch.write_account(part, to_table(account_rows(batch, n), ACCOUNT) if batch.file_rows else ACCOUNT.empty_table())
            prepared.append(batch)
            parts.append(part)
        self.reference = resolve(prepared, set(in_lake), lake_signatures, threshold, "r1", NOW)
        lake = StubLake(tmp / "stub", set(in_lake), lake_signatures)
        # decided in memory (a run this small) and in DuckDB (as a larger run is): the DuckDB outputs are the ones kept
        self.in_memory = resolve_staged(lake, scratch, parts, threshold, "r1", NOW)
        self.in_memory_rows = (pq.read_table(scratch.files_path).to_pylist(), self._keep(scratch, self.in_memory.kept))
        with unittest.mock.patch.object(flows.resolve, "IN_MEMORY_ROWS", 0):
            self.resolved = resolve_staged(lake, scratch, parts, threshold, "r1", NOW)
        self.file_rows = pq.read_table(scratch.files_path).to_pylist()
        self.keep = self._keep(scratch, self.resolved.kept)
        self.scratch = scratch

    @staticmethod
    def _keep(scratch: RunScratch, kept: int) -> list[tuple]:
        return [(k["part"], k["article_id"], k["duplicate_of"], k["analyse"]) for k in scratch.read_keep(0, kept)]

    def same(self) -> bool:
        """The reference, the DuckDB decision and the in-memory one agree (rows, keep list and counts)."""
        reference_keep = [(k.part, k.article_id, k.duplicate_of, k.analyse) for k in self.reference.keep]
        return (self.file_rows == self.reference.file_rows and self.keep == reference_keep
                and self.in_memory_rows == (self.file_rows, self.keep) and self.in_memory == self.resolved)

    def statuses(self) -> list[str]:
        return [r["status"] for r in self.file_rows]


FILES = [
    RawFile("/in/1.txt", 1, story(1)),
    RawFile("/in/2.txt", 1, story(2)),
    RawFile("/in/3.txt", 1, story(1)),  # exact copy of 1
    RawFile("/in/4.txt", 1, story(2, " The end.")),  # near copy of 2
    RawFile("/in/5.txt", 1, story(5)),
]


def test_duplicates_within_and_across_batches_in_input_order(tmp_path):
    for size in (1, 2, 5):
        run = Both(tmp_path / str(size), [FILES[i : i + size] for i in range(0, len(FILES), size)])
        assert run.statuses() == ["ingested", "ingested", "duplicate", "near_duplicate", "ingested"]
        one, two = article_id(story(1).decode()), article_id(story(2).decode())
        assert run.file_rows[2]["reason"] == "same normalised text as an article already in the lake or this run"
        assert run.file_rows[3]["reason"] == f"near-duplicate of {two} (estimated similarity 0.91)"  # Jaccard 0.944
        assert [k[1:3] for k in run.keep] == [(one, None), (two, None), (run.file_rows[3]["article_id"], two),
                                              (run.file_rows[4]["article_id"], None)]
        assert {(r["run_id"], r["seen_at"]) for r in run.file_rows} == {("r1", NOW)}
        assert run.resolved.statuses == {"ingested": 3, "duplicate": 1, "near_duplicate": 1} and run.resolved.records == 5
        assert run.same()


def test_the_lake_is_earlier_than_the_run(tmp_path):
    one = article_id(story(1).decode())
    run = Both(tmp_path, [FILES[:2], FILES[2:]], in_lake={one}, lake_signatures={"lakeart": signature(story(2).decode() + " Reporting by a wire service.")})
    assert run.statuses() == ["duplicate", "near_duplicate", "duplicate", "near_duplicate", "ingested"]
    two = article_id(story(2).decode())
    assert [k[1:3] for k in run.keep][:2] == [(two, "lakeart"), (run.file_rows[3]["article_id"], two)]  # the closest one wins
    assert run.same()


def test_a_later_copy_of_a_near_duplicate_is_an_exact_duplicate_and_notes_survive(tmp_path):
    french = "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, contestée par les syndicats.".encode()
    nul = story(7).replace(b"minister", b"mini\x00ster", 1)
    run = Both(tmp_path, [[RawFile("/in/fr.txt", 1, french), RawFile("/in/nul.txt", 1, nul)],
                          [RawFile("/in/copy.txt", 1, nul), RawFile("/in/empty.txt", 0, b""), RawFile("/in/fr2.txt", 1, french)]])
    assert [(r["status"], r["reason"]) for r in run.file_rows] == [
        ("non_english", "language fr: kept, not analysed"),
        ("ingested", "removed 1 NUL/control byte"),
        ("duplicate", "same normalised text as an article already in the lake or this run; removed 1 NUL/control byte"),
        ("rejected", "empty file"),
        ("duplicate", "same normalised text as an article already in the lake or this run"),
    ]
    assert [k[3] for k in run.keep] == [False, True]  # the French article is kept, not analysed
    assert run.same()


def test_an_empty_run_and_what_the_run_carries(tmp_path):
    empty = Both(tmp_path / "empty", [])
    assert (empty.file_rows, empty.keep, empty.resolved.records) == ([], [], 0)
    run = Both(tmp_path / "run", [FILES])
    one = article_id(story(1).decode())
    assert carried(run.scratch, {one, "gone"}) == {one} and carried(run.scratch, set()) == set()


def test_a_run_with_nothing_to_decide_writes_its_accounts_as_they_are(tmp_path, monkeypatch):
    """No record pending (every file rejected, say, or a no-op rerun's settled account): the file rows are the
    accounts in input order and the keep list is empty, as the full decision would make them, without it (known
    from the statistics of the accounts' status column: no DuckDB connection at all)."""
    import flows.resolve

    opened = []
    connect = duckdb.connect
    monkeypatch.setattr(flows.resolve.duckdb, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    rejected = [[RawFile("/in/empty.txt", 0, b""), RawFile("/in/blank.txt", 4, b"  \n\n")], [RawFile("/in/none.txt", 0, b"")]]
    run = Both(tmp_path, rejected)
    assert run.same() and run.keep == [] and run.resolved.kept == 0
    assert [(r["path"], r["status"]) for r in run.file_rows] == [("/in/empty.txt", "rejected"), ("/in/blank.txt", "rejected"),
                                                                   ("/in/none.txt", "rejected")]
    assert (run.resolved.records, run.resolved.statuses) == (3, {"rejected": 3}) and opened == []


def test_nothing_pending_past_the_statistics_and_nothing_new(tmp_path):
    """Statuses around 'pending' in one account (a symbolic link's 'duplicate', a 'rejected' file) with none pending;
    and a run whose pending articles the lake holds already: decided in DuckDB with no near-duplicate search."""
    rows = [RawFile("/in/link.txt", 0, None, link_to="/in/1.txt"), RawFile("/in/empty.txt", 0, b"")]
    run = Both(tmp_path / "none", [rows])
    assert [(r["path"], r["status"], r["reason"]) for r in run.file_rows] == [
        ("/in/link.txt", "duplicate", "symbolic link to /in/1.txt"), ("/in/empty.txt", "rejected", "empty file")]
    assert (run.keep, run.resolved.records, run.resolved.statuses) == ([], 2, {"duplicate": 1, "rejected": 1}) and run.same()
    one, two = article_id(story(1).decode()), article_id(story(2).decode())
    old = Both(tmp_path / "old", [FILES[:1] + rows, FILES[1:3]], in_lake={one, two})
    assert old.statuses() == ["duplicate", "duplicate", "rejected", "duplicate", "duplicate"] and old.keep == []
    assert old.file_rows[0]["reason"] == "same normalised text as an article already in the lake or this run"
    assert (old.resolved.kept, old.resolved.statuses) == (0, {"duplicate": 4, "rejected": 1}) and old.same()


def _texts(seed: int, n: int) -> list[bytes]:
    """``n`` articles from a few stories: exact copies, near copies (one word changed) and new stories."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for _ in range(n):
        kind = rng.random()
        if out and kind < 0.25:
            out.append(rng.choice(out))
        elif out and kind < 0.6:
            words = rng.choice(out).decode().split(" ")
            words[rng.randrange(len(words))] = rng.choice(WORDS)
            out.append(" ".join(words).encode())
        else:
            out.append(story(rng.randrange(40)))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 24), cuts=st.lists(st.integers(1, 6), max_size=8),
       lake_share=st.floats(0, 0.5), threshold=st.sampled_from([0.5, 0.8, 0.9]))
def test_the_staged_decision_equals_the_in_memory_one(tmp_path_factory, seed, n, cuts, lake_share, threshold):
    texts = _texts(seed, n)
    files = [RawFile(f"/in/{i}.txt", len(t), t) for i, t in enumerate(texts)]
    batches, start = [], 0
    for cut in cuts + [len(files)]:
        if start < len(files):
            batches.append(files[start : start + cut])
            start += cut
    rng = random.Random(seed + 1)
    lake_texts = [t.decode() for t in _texts(seed + 2, 6)]
    lake_signatures = {f"lake{i}": signature(t) for i, t in enumerate(lake_texts) if rng.random() < lake_share * 2}
    in_lake = {article_id(t.decode().strip()) for t in texts if rng.random() < lake_share}
    run = Both(tmp_path_factory.mktemp("run"), batches, in_lake, lake_signatures, threshold)
    assert run.same(), (run.file_rows, run.reference.file_rows)


def test_a_decision_that_does_not_fit_the_first_memory_limit_is_made_within_the_next(tmp_path, monkeypatch):
    import flows.resolve

    monkeypatch.setattr(flows.resolve, "MEMORY_LIMITS", ("1KB", "128MB"))
    run = Both(tmp_path, [FILES[:2], FILES[2:]])
    assert run.statuses() == ["ingested", "ingested", "duplicate", "near_duplicate", "ingested"] and run.same()
    monkeypatch.setattr(flows.resolve, "MEMORY_LIMITS", ("1KB",))
    with pytest.raises(duckdb.OutOfMemoryException):  # the last limit's error is the run's
        Both(tmp_path / "again", [FILES])


@pytest.mark.parametrize("in_memory_rows, databases", [(6, 0), (5, 1)])
def test_a_small_run_is_decided_in_memory_a_larger_one_in_duckdb(tmp_path, monkeypatch, in_memory_rows, databases):
    opened = []
    connect = flows.resolve.duck.connect
    monkeypatch.setattr(flows.resolve.duck, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    monkeypatch.setattr(flows.resolve, "IN_MEMORY_ROWS", in_memory_rows)
    scratch = RunScratch(tmp_path / "lake", "r1")
    batch = prepare_files(FILES, {}, {}, ReadOptions(max_bytes=5000), "p00000", sink=lambda name, rows: scratch.write(name, to_table(rows, PREPARED)))
    scratch.write_account("p00000", to_table(account_rows(batch, 1), ACCOUNT))
    resolved = resolve_staged(StubLake(tmp_path / "stub", set(), {}), scratch, ["p00000"], 0.8, "r1", NOW)
    assert [r["status"] for r in pq.read_table(scratch.files_path).to_pylist()] == ["ingested", "ingested", "duplicate", "near_duplicate", "ingested"]
    assert (resolved.records, resolved.kept, len(opened)) == (5, 4, databases)
