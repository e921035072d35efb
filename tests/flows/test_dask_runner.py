"""Task runs on Dask workers reuse their worker thread's Prefect settings and API client (flows.dask_runner)."""

import threading
import time

import pytest

pytestmark = pytest.mark.slow


def _contexts_kept(_item) -> tuple[int, int, int]:
    """What a task run sees on its worker: (process id, distinct API clients, distinct settings objects) of
    every task run this worker thread has run so far (kept alive, so that ids are never reused)."""
    import os

    from prefect.client.orchestration import get_client
    from prefect.context import SettingsContext

    seen = threading.current_thread().__dict__.setdefault("newslake_test_seen", [])
    seen.append((get_client(sync_client=True), SettingsContext.get().settings))
    return os.getpid(), len({id(c) for c, _ in seen}), len({id(s) for _, s in seen})


@pytest.fixture(scope="module")
def forked_worker():
    """A local cluster of one forked worker process with one thread, as `newslake ingest` starts, reporting
    to a Prefect server of its own. Task runs reach the API's database through the task-run recorder,
    which the temporary servers of the other tests run without (prefect_env.EPHEMERAL_ONLY) and which
    this test reads back: so a server on a port of its own, with the recorder on (through Prefect's
    settings, which the server takes over the environment)."""
    import os
    import socket

    from distributed import LocalCluster
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED, temporary_settings

    from flows.runner import _fork_workers

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with temporary_settings({PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED: True}):
        server = SubprocessASGIServer(port=port)
        server.start(timeout=120)
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url  # for the worker process
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            _fork_workers()
            with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
                yield cluster.scheduler_address
    finally:
        server.stop()
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def _run(runner, n: int = 4) -> tuple[list[tuple[int, int, int]], list[str]]:
    """Map the probe over ``n`` items in a flow on ``runner``; its results and its task runs' state names in the API."""
    import os

    from prefect import flow, task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.runtime import flow_run

    probe = task(_contexts_kept, name="probe")

    @flow(task_runner=runner)
    def probes() -> tuple[list, str]:
        return [f.result() for f in probe.map(range(n))], flow_run.id

    results, run_id = probes()
    for _ in range(300):  # the recorder writes task runs from their events, a moment after they finish
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        if len(runs) == n and all(r.state and r.state.is_final() for r in runs):
            break
        time.sleep(0.1)
    assert all(pid != os.getpid() for pid, _, _ in results)
    return results, sorted(r.state.name for r in runs)


def test_task_runs_on_a_forked_worker_share_one_client_and_settings(forked_worker):
    from flows.runner import dask_runner

    results, states = _run(dask_runner(forked_worker))
    assert len({pid for pid, _, _ in results}) == 1
    first = results[0][1:]
    assert [(clients, settings) for _, clients, settings in results] == [first] * 4  # nothing new after the first task run
    assert states == ["Completed"] * 4  # still real task runs, each reported to the API


def test_prefect_dask_alone_builds_a_client_per_task_run(forked_worker):
    """The saving is real: the stock runner on the same worker builds new clients and settings every task run."""
    from prefect_dask import DaskTaskRunner

    results, states = _run(DaskTaskRunner(address=forked_worker))
    clients, settings = results[0][1], results[0][2]
    assert [(c, s) for _, c, s in results] == [(clients + n, settings + n) for n in range(4)]  # one more of each per task run
    assert states == ["Completed"] * 4


def test_the_client_is_rebuilt_when_the_run_settings_differ():
    """Serialized settings are the key: other settings (another flow's, another server's) get their own client."""
    from prefect.client.orchestration import get_client
    from prefect.context import SettingsContext

    from flows.prefect_env import run_task_reusing_client

    def engine(**kwargs):
        return get_client(sync_client=True), SettingsContext.get().settings.api.request_timeout, kwargs["context"]

    serialized = SettingsContext.get().serialize(include_secrets=True)
    other = {**serialized, "settings": {**serialized["settings"], "api": {**serialized["settings"]["api"], "request_timeout": 61.5}}}
    first = run_task_reusing_client(engine, context={"settings_context": serialized, "tags_context": {}})
    again = run_task_reusing_client(engine, context={"settings_context": serialized, "tags_context": {}})
    moved = run_task_reusing_client(engine, context={"settings_context": other, "tags_context": {}})
    assert first[0] is again[0] and moved[0] is not first[0]
    assert (first[1], moved[1]) == (serialized["settings"]["api"]["request_timeout"], 61.5)
    assert first[2] == {"tags_context": {}}  # the settings are entered around the engine, not rebuilt by it
    assert run_task_reusing_client(engine, context={})[2] == {}  # no settings: passed through as it came


def test_settings_are_serialized_once_and_settings_entered_inside_as_usual():
    from prefect.context import SettingsContext
    from prefect.settings import PREFECT_API_REQUEST_TIMEOUT, temporary_settings

    from flows.prefect_env import settings_serialized_once

    plain = SettingsContext.get().serialize()
    with settings_serialized_once():
        once = SettingsContext.get().serialize()
        assert once == plain and SettingsContext.get().serialize() is once
        assert SettingsContext.get().serialize(include_secrets=False) is not once
        with temporary_settings({PREFECT_API_REQUEST_TIMEOUT: 61.5}):
            assert SettingsContext.get().serialize()["settings"]["api"]["request_timeout"] == 61.5
        changed = SettingsContext.get().settings.copy_with_update(updates={PREFECT_API_REQUEST_TIMEOUT: 62.5})
        copy = SettingsContext.get().model_copy(update={"settings": changed})
        assert copy.serialize()["settings"]["api"]["request_timeout"] == 62.5  # a copy with other settings is not served the cache
        assert SettingsContext.get().serialize() is once
    assert SettingsContext.get().serialize() is not once
