"""Warm runs (flows.warm): commands forked from the warm process that `newslake server start` leaves running,
with the outputs, exit codes and stops of a command run in its own process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import psutil
import pytest

from flows import prefect_env, warm
from flows.lake import Lake
from flows.settings import PROJECT_ROOT, Settings
from tests.conftest import SEEDS, lake_rows
from tests.flows.test_kill import marked, wait_for, write_corpus
from tests.flows.test_prefect_server import _free_port

pytestmark = pytest.mark.slow
NEWSLAKE = [sys.executable, "-m", "flows.warm"]  # what the `newslake` console script runs
SEED_COUNTS = {"IRQ": 15, "USA": 13, "ISIL": 5, "IRN": 3, "ISR": 2}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A PREFECT_HOME with a background server and a warm process for this module's tests (stopped after them)."""
    home = tmp_path_factory.mktemp("warm-home")
    subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], check=True,
                   env={**os.environ, "PREFECT_HOME": str(home)}, capture_output=True)
    state = prefect_env.start_server(home, port=_free_port())
    try:
        record = warm.start(home)
        yield home, state, record
    finally:
        warm.stop(home)
        prefect_env.stop_server(home)


def _env(home, **more) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return {**env, "PREFECT_HOME": str(home), "NEWSLAKE_WARM": "1", "NEWSLAKE_WARM_VERBOSE": "1", **more}


def newslake(home, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([*NEWSLAKE, *map(str, args)], env=_env(home, **env), capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)


def went_warm(done: subprocess.CompletedProcess, record: dict) -> bool:
    """Whether the client says it ran the command in a child of the warm process ``record``."""
    return f"forked from the warm process {record['pid']}" in done.stderr


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    articles = tmp_path_factory.mktemp("warm-input") / "articles"
    shutil.copytree(SEEDS / "articles", articles)
    return articles


def test_ingest_goes_warm_and_writes_what_a_cold_run_writes(home, seeds, tmp_path):
    home, state, record = home
    done = newslake(home, "ingest", seeds, "--lake", tmp_path / "warm")
    assert done.returncode == 0, done.stderr
    assert went_warm(done, record), done.stderr
    assert not re.search(r"prefect|eventsworker|traceback|warning|error", done.stderr, re.IGNORECASE), done.stderr
    assert "done run" in done.stderr
    cold = newslake(home, "ingest", seeds, "--lake", tmp_path / "cold", NEWSLAKE_WARM="0")
    assert cold.returncode == 0 and "cold: NEWSLAKE_WARM is off" in cold.stderr, cold.stderr
    warm_rows = lake_rows(Settings.load(lake=tmp_path / "warm"), seeds)
    assert warm_rows == lake_rows(Settings.load(lake=tmp_path / "cold"), seeds)
    mentions = Lake(tmp_path / "warm").read("mentions").to_pylist()
    counts = {a: sum(1 for m in mentions if m["actor_id"] == a) for a in SEED_COUNTS}
    assert counts == SEED_COUNTS
    # both runs are real Prefect flow runs on the background server
    request = urllib.request.Request(f"{state['api_url']}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert sorted(run["state_type"] for run in json.load(r)) == ["COMPLETED", "COMPLETED"]
    # a read command prints the same, warm or cold
    same = [newslake(home, "actors", "--lake", tmp_path / "warm", "-f", "csv", **({"NEWSLAKE_WARM": "0"} if c else {})) for c in (0, 1)]
    assert went_warm(same[0], record) and not went_warm(same[1], record)
    assert same[0].stdout == same[1].stdout and same[0].stdout.startswith("actor_id,actor_name")


def test_exit_codes_and_messages_are_a_cold_runs(home, tmp_path):
    home, _, record = home
    for args in (["ingest", tmp_path / "nowhere"], ["timeline", "Nobody", "--lake", tmp_path / "none"], ["no-such-command"]):
        hot, cold = newslake(home, *args), newslake(home, *args, NEWSLAKE_WARM="0")
        assert went_warm(hot, record), hot.stderr
        assert (hot.returncode, hot.stdout) == (cold.returncode, cold.stdout) and hot.returncode != 0
        assert hot.stderr.splitlines()[1:] == cold.stderr.splitlines()[1:]  # after the line saying warm or cold


def test_a_busy_lake_exits_75_through_the_warm_path(home, seeds, tmp_path):
    home, _, record = home
    lake = Lake(tmp_path / "lake")
    with lake.writing():
        done = newslake(home, "ingest", seeds, "--lake", tmp_path / "lake")
    assert went_warm(done, record), done.stderr
    assert done.returncode == 75 and f"another newslake run is writing to {tmp_path / 'lake'}" in done.stderr


def test_other_code_or_a_dead_warm_process_runs_cold(home, tmp_path):
    home, _, record = home
    path = warm.record_path(home)
    kept = open(path).read()
    try:
        stale = json.loads(kept)
        stale["startup"]["code"][1][2] += 1  # a file of the code as it was when the warm process started
        open(path, "w").write(json.dumps(stale))
        done = newslake(home, "runs", "--lake", tmp_path / "none")
        assert "cold: the warm process differs in code" in done.stderr and not went_warm(done, record)
        gone = subprocess.Popen(["true"])
        gone.wait()
        open(path, "w").write(json.dumps({**json.loads(kept), "pid": gone.pid}))
        done = newslake(home, "--help")
        assert "cold: the recorded warm process is not running" in done.stderr and not went_warm(done, record)
        assert done.returncode == 0 and "Usage:" in done.stdout
    finally:
        open(path, "w").write(kept)
    assert went_warm(newslake(home, "--help"), record)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_stopped_client_ends_its_child_and_frees_the_lake(home, tmp_path, sig):
    """Ctrl-C reaches the child through the client; a client killed outright closes the connection, which the
    child takes as a SIGTERM. Either way every process of the run ends, nothing is committed, the lake is free."""
    home, _, record = home
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 0, 120)
    lake, log, mark = tmp_path / "lake", tmp_path / "run.log", uuid.uuid4().hex
    env = _env(home, NEWSLAKE_RUNNER="dask", NEWSLAKE_WORKERS="2", NEWSLAKE_BATCH_SIZE="20", KILL_TEST_MARK=mark)
    with open(log, "w") as err:
        proc = subprocess.Popen([*NEWSLAKE, "ingest", str(corpus), "--lake", str(lake)], env=env, cwd=PROJECT_ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)
    wait_for(log, "ingest: analysing articles")
    child = psutil.Process(int(re.search(r"warm: pid (\d+)", log.read_text())[1]))
    run = [child, *child.children(recursive=True)]  # forked: their environment in /proc is the warm process's
    assert len(run) >= 4 and psutil.Process(proc.pid).children() == []  # the child, its watchdog, two workers
    proc.send_signal(sig)
    code = proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (left := [p for p in run + marked(mark) if p.is_running()]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], [p.cmdline() for p in left]
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    if sig == signal.SIGINT:
        assert log.read_text().strip().splitlines()[-1] == ("newslake: run stopped by SIGINT; nothing was committed, "
                                                            "the lake is as before the run")
    assert not Lake(lake).busy()
    assert Lake(lake).latest_run() is None
    assert psutil.Process(record["pid"]).is_running()


def test_server_status_names_the_warm_process(home):
    home, _, record = home
    done = newslake(home, "server", "status")
    assert done.returncode == 0
    assert f"warm process {record['pid']}" in done.stdout and "commands run in children forked from it" in done.stdout


def test_a_child_takes_up_prefect_settings_from_the_environment_it_is_given():
    """What a child of the warm process does with its client's environment: Prefect's settings, built when
    Prefect was imported, follow the environment once `configure` has seen it change (in a process of its own,
    so that this one's Prefect is left as it is)."""
    code = ("import os; from prefect.settings import get_current_settings; from flows import prefect_env; "
            "from flows.settings import Settings; prefect_env.settings_built(); before = get_current_settings().client.max_retries; "
            "os.environ['PREFECT_CLIENT_MAX_RETRIES'] = '7'; prefect_env.configure(Settings().prefect_home); "
            "print(before, get_current_settings().client.max_retries)")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_CLIENT_MAX_RETRIES"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.stdout.split() == ["5", "7"], done.stderr


def test_the_code_fingerprint_follows_size_and_time_of_the_code_only(tmp_path):
    for d in ("flows", "transforms", "sql/marts", "seeds"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "flows" / "a.py").write_text("x = 1\n")
    (tmp_path / "sql" / "marts" / "m.sql").write_text("select 1\n")
    (tmp_path / "seeds" / "s.csv").write_text("a\n")
    first = warm.code_fingerprint(str(tmp_path))
    assert first[0] == str(tmp_path) and sorted(f[0] for f in first[1:]) == ["flows/a.py", "sql/marts/m.sql"]
    (tmp_path / "seeds" / "s.csv").write_text("b\n")
    (tmp_path / "flows" / "__pycache__").mkdir()
    (tmp_path / "flows" / "__pycache__" / "a.pyc").write_bytes(b"0")
    assert warm.code_fingerprint(str(tmp_path)) == first
    (tmp_path / "flows" / "a.py").write_text("x = 22\n")
    assert warm.code_fingerprint(str(tmp_path)) != first
    os.utime(tmp_path / "flows" / "a.py", ns=(1, 1))
    changed = warm.code_fingerprint(str(tmp_path))
    os.utime(tmp_path / "flows" / "a.py", ns=(2, 2))
    assert warm.code_fingerprint(str(tmp_path)) != changed


def test_warming_duckdb_leaves_no_thread_behind():
    """The warm process forks its children only while it holds one thread (``serve`` checks)."""
    from flows.warm import warm_duckdb

    before = sorted(os.listdir("/proc/self/task"))
    warm_duckdb()
    assert sorted(os.listdir("/proc/self/task")) == before
