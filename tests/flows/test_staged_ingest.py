"""The staged ingest on real Prefect: a retried analyse task, and a real Dask cluster of two workers,
each giving exactly the rows of a clean one-process run."""

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from flows.settings import Settings
from tests.conftest import SEEDS, lake_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "articles"
    shutil.copytree(SEEDS / "articles", path)
    return path


@pytest.fixture(scope="module")
def clean_rows(articles, tmp_path_factory):
    """The rows of one clean run in this process."""
    from flows.ingest import ingest_flow

    settings = Settings.load(lake=tmp_path_factory.mktemp("clean"), batch_size=2, runner="local")
    ingest_flow([str(articles)], settings)
    return lake_rows(settings, articles)


def test_a_failed_analyse_attempt_is_retried_and_leaves_no_trace(articles, clean_rows, tmp_path, monkeypatch):
    from flows import ingest

    real_stage = ingest.Lake.stage
    attempts = []

    def failing_once(self, table, rows, run_id, part):
        staged = real_stage(self, table, rows, run_id, part)
        if part == "a00001" and table == "sentences":
            attempts.append(part)
            if len(attempts) == 1:
                raise OSError("injected: the disk went away after staging sentences")
        return staged

    monkeypatch.setattr(ingest.Lake, "stage", failing_once)
    settings = Settings.load(lake=tmp_path, batch_size=2, runner="local")
    summary = ingest.ingest_flow([str(articles)], settings)
    assert attempts == ["a00001", "a00001"]
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    assert lake_rows(settings, articles) == clean_rows


@pytest.fixture
def dask_cluster(tmp_path):
    """A stock `dask scheduler` and two `dask worker` processes on localhost, sharing this test's Prefect API."""
    from flows.prefect_env import api_server

    scheduler_file = tmp_path / "scheduler.json"
    bin_dir = os.path.dirname(sys.executable)
    with api_server():
        procs = [subprocess.Popen([f"{bin_dir}/dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], stderr=subprocess.DEVNULL)]
        procs += [subprocess.Popen([f"{bin_dir}/dask", "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                    "--no-dashboard", "--name", f"w{n}"], stderr=subprocess.DEVNULL) for n in range(2)]
        try:
            from distributed import Client

            deadline = time.monotonic() + 60
            while not scheduler_file.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
                client.wait_for_workers(2, timeout=60)
                yield client
        finally:
            for p in procs[::-1]:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)


def test_a_real_two_worker_cluster_gives_the_rows_of_a_local_run(articles, clean_rows, tmp_path, dask_cluster):
    from flows import runner

    settings = Settings.load(lake=tmp_path / "lake", batch_size=1, dask_address=dask_cluster.scheduler.address)
    summary = runner.run([str(articles)], settings)
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    assert lake_rows(settings, articles) == clean_rows
    # the NLP ran in the workers: each loaded spaCy at most once, the flow's process never
    loaded = dask_cluster.run(lambda: __import__("flows.ingest", fromlist=["_annotator"])._annotator.cache_info().currsize)
    assert sorted(loaded) == sorted(dask_cluster.scheduler_info()["workers"]) and sum(loaded.values()) >= 1
    assert max(loaded.values()) == 1


def test_a_run_closes_the_workers_of_its_own_cluster_once_the_analysis_is_done(articles, clean_rows, tmp_path, monkeypatch):
    """The local cluster a run starts has its workers closed before the commit (the run's memory peak), and
    the rows are those of a one-process run; the external cluster above keeps its workers."""
    from flows import ingest, runner

    workers = []

    def closing(helpers: bool = True) -> bool:  # holds nothing unpicklable: the flow's context, pickled for every task, refers to it
        import psutil

        me = psutil.Process()

        def forked() -> int:  # the Dask workers: forked from here (a child of an earlier test exiting meanwhile is none)
            count = 0
            for p in me.children():
                try:
                    count += p.status() != psutil.STATUS_ZOMBIE and p.cmdline() == me.cmdline()
                except psutil.Error:
                    pass
            return count

        workers.append(forked())
        closed = runner.close_own_workers(helpers)
        workers.append(forked())
        return closed

    monkeypatch.setattr(ingest, "close_own_workers", closing)
    settings = Settings.load(lake=tmp_path / "lake", batch_size=1, runner="dask", workers=2)
    summary = runner.run([str(articles)], settings)
    assert workers == [2, 0]
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    assert lake_rows(settings, articles) == clean_rows


def test_small_runs_stay_in_this_process_and_large_ones_use_a_cluster(tmp_path):
    from flows.runner import uses_cluster

    auto = Settings.load(lake=tmp_path, runner="auto", workers=2, cluster_min_bytes=1000)
    assert not uses_cluster(auto, 999) and uses_cluster(auto, 1000)
    assert not uses_cluster(replace(auto, workers=1), 10**9)
    assert not uses_cluster(replace(auto, runner="local"), 10**9)
    assert uses_cluster(replace(auto, runner="dask"), 0)
    assert uses_cluster(replace(auto, dask_address="tcp://127.0.0.1:8786"), 0)


def test_pending_bytes_count_only_new_or_changed_input(seed_run, tmp_path):
    from flows.runner import pending_bytes

    settings, _, articles = seed_run
    assert pending_bytes([str(articles)], settings) == 0
    extra = tmp_path / "new.txt"
    extra.write_text("A new story\n\nWith a body.")
    assert pending_bytes([str(articles), str(extra)], settings) == extra.stat().st_size
    fresh = replace(settings, lake=tmp_path / "empty")
    assert pending_bytes([str(articles)], fresh) == sum(p.stat().st_size for p in articles.iterdir() if p.suffix == ".txt")


def test_pending_bytes_stop_at_enough_and_never_hash_a_dump_that_grew_by_that_much(tmp_path, monkeypatch):
    import hashlib

    from flows import runner
    from transforms.batch import KnownFile

    dump, other = tmp_path / "a.jsonl", tmp_path / "b.txt"
    first = b'{"text": "one"}\n' * 10
    dump.write_bytes(first + b'{"text": "two"}\n' * 30)
    other.write_text("A story\n\nIts body.")
    known = {str(dump): KnownFile(sha256=hashlib.sha256(first).hexdigest(), size=len(first))}
    monkeypatch.setattr(runner.Lake, "known_files", lambda self, files, articles=True: {p: k for p, k in known.items() if p in files})
    hashed = []
    digest = hashlib.file_digest
    monkeypatch.setattr(runner.hashlib, "file_digest", lambda fh, name: hashed.append(fh.seek(0, 2)) or fh.seek(0) or digest(fh, name))
    settings = Settings.load(lake=tmp_path / "lake")
    grown, whole = 30 * 16, 30 * 16 + other.stat().st_size
    assert runner.pending_bytes([str(dump), str(other)], settings) == whole
    assert hashed == [dump.stat().st_size]  # the dump is hashed, the new file need not be
    hashed.clear()
    assert runner.pending_bytes([str(dump), str(other)], settings, enough=grown) == grown  # the growth alone decides
    assert hashed == []
    assert runner.pending_bytes([str(dump), str(other)], settings, enough=whole + 1) == whole  # not enough: all counted
    assert hashed == [dump.stat().st_size]


@pytest.mark.parametrize(("n", "batch_size", "workers", "sizes"), [
    (403, 200, 2, [51] * 7 + [46]),  # four batches a worker
    (5, 200, 2, [5]),                # never below ten items a batch
    (3, 2, 2, [2, 1]),               # never above batch_size
    (1000, 100, 1, [100] * 10),
])
def test_batches_share_the_work_between_workers(tmp_path, n, batch_size, workers, sizes):
    from flows.ingest import chunks

    batches = chunks(list(range(n)), Settings.load(lake=tmp_path, batch_size=batch_size, workers=workers))
    assert [len(b) for b in batches] == sizes and sum(batches, []) == list(range(n))


def test_dictionary_mode_analyses_in_two_tasks_a_worker(tmp_path):
    from flows.ingest import analyse_tasks_per_worker, chunks

    for nlp, sizes in (("dictionary", [101, 101, 101, 100]), ("model", [51] * 7 + [46])):
        settings = Settings.load(lake=tmp_path, workers=2, nlp=nlp)
        assert [len(b) for b in chunks(range(403), settings, analyse_tasks_per_worker(settings))] == sizes


def test_a_large_lake_leaves_its_marts_to_refresh(articles, tmp_path):
    import duckdb

    from flows import warehouse
    from flows.ingest import ingest_flow
    from flows.lake import Lake

    settings = Settings.load(lake=tmp_path, runner="local", mart_max_mentions=10)
    summary = ingest_flow([str(articles)], settings)
    assert summary["mentions"] > 10 and summary["marts_exported"] is False
    assert not list((tmp_path / "marts").glob("*.parquet"))
    with duckdb.connect(str(Lake(tmp_path).duckdb_path), read_only=True) as con:  # the views are current all the same
        assert con.execute("select sum(mentions) from mentions_per_actor").fetchone()[0] > 10
    warehouse.refresh(Lake(tmp_path), settings.sql_dir)
    assert (tmp_path / "marts" / "mentions_per_actor.parquet").exists()


def test_a_thread_runner_flow_is_made_once_per_thread_count():
    """A flow with other options computes its parameters' schema again: the one made for as many threads serves
    every run (Prefect runs a duplicate of its runner)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.ingest import ingest_flow
    from flows.runner import ingest_with

    two = ingest_with(ThreadPoolTaskRunner(max_workers=2))
    assert two is ingest_with(ThreadPoolTaskRunner(max_workers=2)) and two is not ingest_with(ThreadPoolTaskRunner(max_workers=1))
    assert two.task_runner._max_workers == 2 and two.fn is ingest_flow.fn and two.name == ingest_flow.name
    other = ThreadPoolTaskRunner(max_workers=2)
    other.__class__ = type("Threads", (ThreadPoolTaskRunner,), {})  # another kind of runner: its own flow each time
    assert ingest_with(other) is not ingest_with(other) and ingest_with(other).task_runner is other
