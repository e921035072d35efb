"""Stopping `newslake ingest` as operators do (kill -9, SIGTERM, Ctrl-C) at several moments: no process
of the run outlives it by 10 s, the lake reads as before, the next run is not locked out and ends
with the rows of runs that were never interrupted."""

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psutil
import pytest

from flows.settings import Settings
from tests.conftest import lake_rows

pytestmark = pytest.mark.slow
NEWSLAKE = str(Path(sys.executable).parent / "newslake")
PLACES = ["France", "Germany", "Iraq", "Iran", "the United States", "Russia", "China", "Brazil", "India", "Japan"]
PEOPLE = ["Angela Merkel", "Emmanuel Macron", "Narendra Modi", "Lula da Silva", "Fumio Kishida", "Olaf Scholz"]
SENTENCES = [
    "{p} met officials from {c} on Tuesday to discuss trade and security.",
    "The government of {c} said the talks with {c2} had been constructive.",
    "Ministers in {c} announced a new budget that raises spending on schools and hospitals.",
    "{p} told reporters that the agreement with {c2} would be signed next month.",
    "Protesters gathered outside the parliament of {c} demanding lower fuel prices.",
    "The central bank of {c} kept interest rates unchanged for the third time this year.",
    "Officials in {c2} said {p} would visit the region after the elections.",
]


def write_corpus(folder: Path, first: int, count: int) -> None:
    """``count`` distinct English articles naming countries and people, numbered from ``first``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(first, first + count):
        rng = random.Random(n)
        body = []
        for _paragraph in range(6):
            body.append(" ".join(rng.choice(SENTENCES).format(p=rng.choice(PEOPLE), c=rng.choice(PLACES), c2=rng.choice(PLACES))
                                 for _ in range(5)))
        (folder / f"story_{n:04d}.txt").write_text(f"Report number {n} on talks in {rng.choice(PLACES)}\n\n" + "\n\n".join(body) + "\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill_corpus")
    write_corpus(root / "first", 0, 40)
    write_corpus(root / "second", 40, 160)
    return root


# a two-worker Dask cluster, or two helpers forked from the run's process (flows.pool)
ON_CLUSTER = {"NEWSLAKE_RUNNER": "dask"}
ON_HELPERS = {"NEWSLAKE_RUNNER": "auto", "NEWSLAKE_POOL_MIN_BYTES": "1", "NEWSLAKE_CLUSTER_MIN_BYTES": str(10**12)}


def start(paths: list[Path], lake: Path, log: Path, where: dict = ON_CLUSTER) -> tuple[subprocess.Popen, str]:
    """`newslake ingest` on two workers; every process it starts inherits a marker."""
    mark = uuid.uuid4().hex
    env = {**os.environ, **where, "NEWSLAKE_WORKERS": "2", "NEWSLAKE_BATCH_SIZE": "20", "KILL_TEST_MARK": mark}
    proc = subprocess.Popen([NEWSLAKE, "ingest", *map(str, paths), "--lake", str(lake)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    return proc, mark


def finish(paths: list[Path], lake: Path, log: Path) -> None:
    proc, _ = start(paths, lake, log)
    assert proc.wait(timeout=600) == 0, log.read_text()


def marked(mark: str) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("KILL_TEST_MARK") == mark:
                out.append(p)
        except psutil.Error:
            continue
    return out


def wait_for(log: Path, text: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"{text!r} never appeared: {log.read_text()}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    """Rows of the same two runs, never interrupted."""
    lake = tmp_path_factory.mktemp("reference")
    finish([corpus / "first"], lake, lake / "first.log")
    finish([corpus], lake, lake / "all.log")
    return lake_rows(Settings.load(lake=lake), corpus)


# (signal, moment): the moment is a line the run prints to stderr, or seconds after it starts
STOPS = [
    (signal.SIGKILL, 1.5),  # while Prefect's server starts
    (signal.SIGKILL, "ingest: analysing articles"),
    (signal.SIGTERM, "ingest: analysing articles"),
    (signal.SIGINT, "ingest: analysing articles"),
    (signal.SIGKILL, "ingest: reading files"),
]


# the same stops of a run whose helpers are forked from it, not a cluster's workers
HELPER_STOPS = [(signal.SIGKILL, "ingest: analysing articles"), (signal.SIGTERM, "ingest: reading files")]


@pytest.mark.parametrize(("where", "stops"), [(ON_CLUSTER, STOPS), (ON_HELPERS, HELPER_STOPS)], ids=["cluster", "helpers"])
def test_stopped_runs_leave_nothing_and_the_next_run_converges(corpus, reference, tmp_path, where, stops):
    lake = tmp_path / "lake"
    finish([corpus / "first"], lake, tmp_path / "first.log")
    settings = Settings.load(lake=lake)
    before = lake_rows(settings, corpus)
    for n, (sig, moment) in enumerate(stops):
        log = tmp_path / f"stop{n}.log"
        proc, mark = start([corpus], lake, log, where)
        if isinstance(moment, str):
            wait_for(log, moment)
            time.sleep(0.5)
        else:
            time.sleep(moment)
        proc.send_signal(sig)
        code = proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (left := marked(mark)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], f"{sig.name} at {moment!r}: {[p.cmdline() for p in left]}"
        stderr = log.read_text()
        if sig == signal.SIGKILL:
            assert code == -signal.SIGKILL
        else:
            assert code == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], stderr
            assert stderr.strip().splitlines()[-1] == (f"newslake: run stopped by {sig.name}; nothing was committed, "
                                                        "the lake is as before the run")
            assert "Traceback" not in stderr and "Error" not in stderr, stderr
        assert lake_rows(settings, corpus) == before, f"{sig.name} at {moment!r} changed the lake"
    finish([corpus], lake, tmp_path / "last.log")
    assert lake_rows(settings, corpus) == reference


def test_a_prefect_cancellation_stops_the_run_like_a_signal(corpus, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    from flows.prefect_env import api_server

    lake = tmp_path / "lake"
    finish([corpus / "first"], lake, tmp_path / "first.log")
    settings = Settings.load(lake=lake)
    before = lake_rows(settings, corpus)
    more = tmp_path / "more"  # enough NLP that the cancellation (a `prefect` command, seconds to start) lands during it
    write_corpus(more, 200, 600)
    log = tmp_path / "cancel.log"
    with api_server():  # the run reports to this server, where the test can find and cancel it
        since = datetime.now(timezone.utc)
        proc, mark = start([corpus, more], lake, log)
        wait_for(log, "ingest: analysing articles")
        running = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])))
        with get_client(sync_client=True) as client:
            (run,) = [r for r in client.read_flow_runs(flow_run_filter=running) if r.start_time and r.start_time >= since]
        prefect = str(Path(sys.executable).parent / "prefect")
        subprocess.run([prefect, "flow-run", "cancel", str(run.id)], check=True, capture_output=True)
        code = proc.wait(timeout=10)
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run.id).state
    deadline = time.monotonic() + 10
    while (left := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == []
    assert code == 1
    assert log.read_text().strip().splitlines()[-1] == "newslake: run cancelled in Prefect; nothing was committed, the lake is as before the run"
    assert state.type == StateType.CANCELLED
    assert lake_rows(settings, corpus) == before
