"""`newslake server`: a Prefect server in the background, found and reused by later commands."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from flows import prefect_env
from flows.settings import PROJECT_ROOT, Settings

NEWSLAKE = [sys.executable, "-m", "flows.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_home(tmp_path_factory):
    """A PREFECT_HOME whose background server runs for this module's tests (stopped after them)."""
    home = tmp_path_factory.mktemp("prefect-home")
    subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], check=True,
                   env={**os.environ, "PREFECT_HOME": str(home)}, capture_output=True)
    port = _free_port()
    state = prefect_env.start_server(home, port=port)
    yield home, state, port
    prefect_env.stop_server(home)


def _env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return {**env, "PREFECT_HOME": str(home)}


def test_start_records_a_reachable_local_server_and_reuses_it(server_home):
    home, state, port = server_home
    assert state["api_url"] == f"http://127.0.0.1:{port}/api"
    assert json.loads((home / prefect_env.STATE_FILE).read_text())["pid"] == state["pid"]
    assert prefect_env.running_server(home) == state["api_url"]
    assert prefect_env.start_server(home, port=port)["pid"] == state["pid"]  # a second start finds the first
    # bound to the loopback interface only, unless told otherwise
    listening = {c.laddr for c in __import__("psutil").Process(state["pid"]).net_connections("tcp")
                 if c.status == "LISTEN"} | {c.laddr for p in __import__("psutil").Process(state["pid"]).children(recursive=True)
                                             for c in p.net_connections("tcp") if c.status == "LISTEN"}
    assert {(a.ip, a.port) for a in listening} == {("127.0.0.1", port)}


def test_the_server_records_task_runs_a_batch_at_a_time_unless_told_otherwise(server_home, tmp_path, monkeypatch):
    home, state, _ = server_home
    environ = dict(line.split("=", 1) for line in open(f"/proc/{state['pid']}/environ").read().split("\0") if "=" in line)
    assert {k: environ.get(k) for k in prefect_env.SERVER_DEFAULTS} == prefect_env.SERVER_DEFAULTS
    launched = []
    monkeypatch.setattr(prefect_env.subprocess, "Popen", lambda *a, **k: launched.append(k["env"]) or (_ for _ in ()).throw(OSError("stop")))
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "7")
    with pytest.raises(OSError, match="stop"):
        prefect_env.launch_server(tmp_path, "127.0.0.1", _free_port(), "http://127.0.0.1:1/api", 1, own_session=True, nice=0)
    assert launched[0]["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"] == "7"  # the user's value wins
    assert launched[0]["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL"] == "1"


def test_the_server_runs_below_the_commands_priority(server_home):
    """Its bookkeeping waits for a free core (NEWSLAKE_SERVER_NICE, 19 by default), in every thread it made,
    and, where Linux groups processes by session, its session's group too."""
    psutil = pytest.importorskip("psutil")
    _, state, _ = server_home
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + Settings.load().server_nice)
    server = psutil.Process(state["pid"])

    def level(thread_id: int) -> int | None:  # None: a thread that ended between the listing and the look-up
        try:
            return os.getpriority(os.PRIO_PROCESS, thread_id)
        except ProcessLookupError:
            return None

    assert {level(t.id) for t in server.threads()} - {None} == {expected}
    if (ours := prefect_env.autogroup()) is not None:
        group = prefect_env.autogroup(state["pid"])
        assert group[0] != ours[0] and group[1] == min(19, ours[1] + Settings.load().server_nice)


def test_lower_priority_steps_down_from_ours_and_stops_at_19():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        prefect_env.lower_priority(child.pid, 0)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == ours
        prefect_env.lower_priority(child.pid, 3)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, ours + 3)
        prefect_env.lower_priority(child.pid, 40)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 19
    finally:
        child.kill()
        child.wait()


def test_lower_priority_lowers_the_scheduling_group_of_a_process_in_a_session_of_its_own():
    """Where Linux groups processes by session, a nice level only ranks a process within its group: the
    background server's session is its own group, which must be lowered too; a process of our own group keeps
    the group as it is (lowering it would lower us)."""
    if prefect_env.autogroup() is None:
        pytest.skip("this kernel does not group processes by session (sched_autogroup)")
    ours = prefect_env.autogroup()
    own = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    same = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert prefect_env.autogroup(own.pid)[0] != ours[0] and prefect_env.autogroup(same.pid)[0] == ours[0]
        prefect_env.lower_priority(own.pid, 4)
        assert prefect_env.autogroup(own.pid)[1] == min(19, ours[1] + 4)
        assert os.getpriority(os.PRIO_PROCESS, own.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 4)
        prefect_env.lower_priority(same.pid, 4)
        assert prefect_env.autogroup() == ours  # our group (the same one) is not touched
        prefect_env.lower_priority(own.pid, 40)
        assert prefect_env.autogroup(own.pid)[1] == 19
    finally:
        for child in (own, same):
            child.kill()
            child.wait()


def test_autogroup_reads_the_group_and_its_nice_level(tmp_path, monkeypatch):
    if prefect_env.autogroup() is None:
        pytest.skip("this kernel does not group processes by session (sched_autogroup)")
    name, nice = prefect_env.autogroup()
    assert name.startswith("/autogroup-") and -20 <= nice <= 19
    assert prefect_env.autogroup(999_999_999) is None  # no such process


@pytest.mark.parametrize("raw", ["-1", "20"])
def test_server_nice_outside_0_to_19_is_refused(monkeypatch, raw):
    monkeypatch.setenv("NEWSLAKE_SERVER_NICE", raw)
    with pytest.raises(ValueError, match="NEWSLAKE_SERVER_NICE"):
        Settings.load()


def test_ingest_reports_its_flow_run_to_the_background_server(server_home, tmp_path):
    home, state, _ = server_home
    status = subprocess.run([*NEWSLAKE, "server", "status"], env=_env(home), capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert status.returncode == 0 and state["api_url"] in status.stdout
    done = subprocess.run([*NEWSLAKE, "ingest", str(PROJECT_ROOT / "seeds" / "articles"), "--lake", str(tmp_path / "lake")],
                          env=_env(home), capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    request = urllib.request.Request(f"{state['api_url']}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        runs = json.load(r)
    assert [(run["name"], run["state_type"]) for run in runs] == [("ingest articles", "COMPLETED")]
    # its task runs recorded from their events, a batch at a time (SERVER_DEFAULTS): within seconds, every one completed
    body = json.dumps({"flow_runs": {"id": {"any_": [runs[0]["id"]]}}}).encode()
    for _ in range(50):
        request = urllib.request.Request(f"{state['api_url']}/task_runs/filter", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            tasks = json.load(r)
        if {"commit-run", "refresh-duckdb-views"} <= {t["name"].rsplit("-", 1)[0] for t in tasks if t["state_type"] == "COMPLETED"}:
            break
        time.sleep(0.2)
    assert tasks and {t["state_type"] for t in tasks} == {"COMPLETED"}, [(t["name"], t["state_type"]) for t in tasks]
    # nothing but newslake's own lines on the console: no Prefect start-up, worker or shutdown noise
    assert not re.search(r"prefect|eventsworker|traceback|warning|error", done.stderr, re.IGNORECASE), done.stderr
    assert "done run" in done.stderr


def test_stop_ends_the_server_and_later_commands_fall_back(tmp_path):
    home = tmp_path / "home"
    assert prefect_env.running_server(home) is None
    assert prefect_env.stop_server(home) is None
    stopped = subprocess.run([*NEWSLAKE, "server", "status"], env=_env(home), capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert stopped.returncode == 1 and "no background server" in stopped.stdout


def test_a_stale_record_is_not_trusted(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / prefect_env.STATE_FILE).write_text(json.dumps({"pid": 2**22 + 1, "api_url": "http://127.0.0.1:9/api", "log": ""}))
    assert prefect_env.running_server(home) is None


def test_serve_starts_its_server_on_the_loopback_interface(tmp_path, monkeypatch):
    from flows import serve

    launched = []
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(serve, "healthy", lambda url: False)
    monkeypatch.setattr(serve, "running_server", lambda home: None)
    monkeypatch.setattr(serve, "launch_server", lambda home, host, port, url, timeout, own_session, nice: launched.append((host, port, url, nice)))
    assert serve.ensure_server(Settings.load(prefect_home=tmp_path / "home", server_nice=7), 4321) is None
    assert launched == [("127.0.0.1", 4321, "http://127.0.0.1:4321/api", 7)]
    assert os.environ.pop("PREFECT_API_URL") == "http://127.0.0.1:4321/api"


def test_prefect_clients_share_one_verified_tls_context_per_ca_file(tmp_path):
    import ssl

    import certifi
    import prefect.client.orchestration as orchestration
    from prefect.client.orchestration import get_client

    import prefect._internal.version_checking as version_checking

    prefect_env.share_tls_contexts()
    prefect_env.share_tls_contexts()  # twice: still one wrapper
    assert type(orchestration.ssl.__dict__.get("_module")) is type(ssl)
    assert version_checking.ssl is not orchestration.ssl and type(version_checking.ssl.__dict__.get("_module")) is type(ssl)
    with get_client(sync_client=True, httpx_settings={}) as a, get_client(sync_client=True) as b:
        assert a._client._transport._pool._ssl_context is b._client._transport._pool._ssl_context
    one = orchestration.ssl.create_default_context(cafile=certifi.where())
    assert one is orchestration.ssl.create_default_context(cafile=certifi.where())
    other = tmp_path / "ca.pem"
    other.write_bytes(open(certifi.where(), "rb").read())
    assert orchestration.ssl.create_default_context(cafile=str(other)) is not one  # another file: its own
    unverified = orchestration.ssl.create_default_context()  # what Prefect changes afterwards: never shared
    assert unverified is not orchestration.ssl.create_default_context() and unverified is not one


def test_the_api_version_checked_once_is_not_asked_again(server_home, monkeypatch):
    """The warm process checks the API's version once; processes forked from it find the check done."""
    from prefect.client.orchestration import SyncPrefectClient, get_client

    monkeypatch.setenv("PREFECT_API_URL", server_home[1]["api_url"])
    from prefect.settings import temporary_settings

    asked = []
    real = SyncPrefectClient.api_version
    monkeypatch.setattr(SyncPrefectClient, "api_version", lambda self: asked.append(1) or real(self))
    import asyncio
    import logging

    import prefect._internal.version_checking as version_checking

    fetched = []
    real_client = version_checking.httpx.AsyncClient
    monkeypatch.setattr(version_checking.httpx, "AsyncClient", lambda **kw: fetched.append(1) or real_client(**kw))
    url = os.environ["PREFECT_API_URL"].replace("127.0.0.1", "localhost")  # a URL this process never checked
    with temporary_settings(updates={"PREFECT_API_URL": url}):
        prefect_env.check_api_once()
        assert asked == [1] and fetched == [1]
        with get_client(sync_client=True) as client:
            client.raise_for_api_version_mismatch_once()
        asyncio.run(version_checking.check_server_version(url, logging.getLogger("test")))  # as the events client checks
        assert asked == [1] and fetched == [1]


def test_the_servers_default_result_storage_is_asked_once_a_run(server_home, monkeypatch):
    """Prefect asks the API for the server's default result storage each time it builds a result store (three times a
    flow run); inside ``server_storage_read_once`` the first answer serves the others, and outside it asks again."""
    import prefect.results as results
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import temporary_settings

    asked = []
    real = SyncPrefectClient.read_server_default_result_storage
    monkeypatch.setattr(SyncPrefectClient, "read_server_default_result_storage", lambda self: asked.append(1) or real(self))
    original = results._read_server_default_result_storage_block_id
    with temporary_settings(updates={"PREFECT_API_URL": server_home[1]["api_url"]}):
        with prefect_env.server_storage_read_once():
            found = [results._get_default_result_storage() for _ in range(3)]
        assert len(asked) == 1
        assert len({id(f.storage) for f in found}) == 1 and found[0].storage.basepath  # the local default, made once
        assert results._read_server_default_result_storage_block_id is original
        results._get_default_result_storage()
        results._get_default_result_storage()
        assert len(asked) == 3
