"""Prefect for newslake's commands: offline, quiet defaults (set before Prefect is imported), and which
API server a run reports to: PREFECT_API_URL when set, else the background server that
`newslake server start` left running, else a temporary server for the one command.

The temporary server costs seconds per command (importing and starting it); the background server is
started once and reused by every later command, so small runs take seconds and every run stays in
one database that the Prefect UI shows.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from flows.settings import Settings
from flows.warm import alive  # the standard library only, as the client needs it

STATE_FILE = "newslake-server.json"  # in PREFECT_HOME: the background server's pid and API URL

OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
    "PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS": "4",
}
# a background server's (``newslake server``) defaults, where the user has not set them: its task-run recorder writes the
# task runs' state events a batch at a time (at most a second late in the UI), not one database transaction each (its
# default): the server spent 0.57-0.65 s of CPU per warm dictionary ingest of BBC politics against 0.98-1.12, on the
# cores the run needs
SERVER_DEFAULTS = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
}
# only for the temporary server: these services are cancelled mid-flush at exit (see PREFECT.md)
EPHEMERAL_ONLY = {
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
}


def home(default: Path) -> Path:
    """Prefect's state folder: PREFECT_HOME when set, else ``default`` (the settings' prefect_home)."""
    return Path(os.environ.get("PREFECT_HOME") or default)


def configure(prefect_home: Path, console_level: str = "WARNING") -> None:
    """Keep Prefect's state in ``prefect_home``, silence telemetry, show only Prefect's log records of
    ``console_level`` and above on the console.

    Variables the user has set win. Run logs still reach a real server's UI when PREFECT_API_URL is set.
    """
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", console_level)
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not os.environ.get("PREFECT_API_URL") and (url := running_server(Path(os.environ["PREFECT_HOME"]))):
        os.environ["PREFECT_API_URL"] = url
    if not os.environ.get("PREFECT_API_URL"):
        for key, value in EPHEMERAL_ONLY.items():
            os.environ.setdefault(key, value)
    refresh_if_changed()


_BUILT_FROM: list[dict] = []  # in the warm process and its children: the environment Prefect's settings were built from


def _prefect_environment() -> dict[str, object]:
    """What Prefect's settings are built from: the PREFECT_ variables and the profiles file (by its time)."""
    found: dict[str, object] = {k: v for k, v in os.environ.items() if k.startswith("PREFECT_")}
    profiles = os.environ.get("PREFECT_PROFILES_PATH") or os.path.join(os.environ.get("PREFECT_HOME") or "~/.prefect", "profiles.toml")
    try:
        found[" profiles"] = (profiles, os.stat(os.path.expanduser(profiles)).st_mtime_ns)
    except OSError:
        found[" profiles"] = (profiles, None)
    return found


def refresh_if_changed() -> None:
    """In the warm process's children: rebuild Prefect's settings when what they were built from has changed."""
    if _BUILT_FROM and _BUILT_FROM[0] != _prefect_environment():
        refresh()


def settings_built() -> None:
    """Note that Prefect has built its settings from the environment as it is now (the warm process, after
    importing Prefect): ``configure`` then rebuilds them whenever it changes the environment they came from."""
    _BUILT_FROM[:] = [_prefect_environment()]


def refresh() -> None:
    """Rebuild Prefect's root settings and its logging from the environment (profiles file included) as it is
    now. Prefect builds both once, at import: a child of the warm process, which imported Prefect under the
    warm process's environment, takes up its client's this way."""
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    refresh_global_settings_context()
    setup_logging(incremental=False)
    _BUILT_FROM[:] = [_prefect_environment()]


@contextmanager
def api_server():
    """Prefect's API for one run: PREFECT_API_URL when set, else a temporary local server that this
    process starts and stops, its address passed to worker processes (which would otherwise each
    start a server of their own) through the environment."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield
    finally:
        _flush_to_server()
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _flush_to_server(timeout: float = 10) -> None:
    """Send the events and log records this process has queued for the API while its server still answers
    (queued for a stopped server, each event is retried for seconds at interpreter exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=timeout, at_exit=False)


@contextmanager
def without_heartbeats():
    """No flow-run heartbeats for a run started from the command line. Prefect's heartbeat thread sleeps
    in one-second steps and the flow waits for it at exit (half a second a run on average); the
    heartbeats only serve automations that detect crashed runs, and a CLI run's end is watched by
    its own process and watchdog. Scheduled runs (`newslake serve`) keep them."""
    from prefect.context import SettingsContext

    current = SettingsContext.get()
    with SettingsContext(profile=current.profile, settings=heartbeatless(current.settings)):
        yield


_HEARTBEATLESS: list = []  # (settings, their copy without heartbeats), the last pair: the warm process makes it for its children


def heartbeatless(settings):
    """These Prefect settings without flow-run heartbeats: a copy made once per settings object (as
    ``temporary_settings`` makes it, ~40 ms: a whole settings model validated again), kept with the object."""
    if not (_HEARTBEATLESS and _HEARTBEATLESS[0][0] is settings):
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

        _HEARTBEATLESS[:] = [(settings, settings.copy_with_update(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))]
    return _HEARTBEATLESS[0][1]


@contextmanager
def server_storage_read_once():
    """Inside: Prefect's question for the server's default result storage asked of the API once, its answer reused.
    Prefect asks it (an HTTP request) each time it builds a flow run's result store: three times a run, two of them
    after the run has started, where each waits on a server busy with the run's events (8-15 ms each here, more at
    the end of a large run). The answer cannot change in the meantime unless someone changes the server's setting
    during the run, which the next run would then see. Outside, Prefect asks as before; a Prefect without that
    function is left as it is."""
    import prefect.results as results

    ask = getattr(results, "_read_server_default_result_storage_block_id", None)
    if ask is None:
        yield
        return
    answers: list = []

    def asked_once():
        if not answers:
            answers.append(ask())
        return answers[0]

    results._read_server_default_result_storage_block_id = asked_once
    try:
        yield
    finally:
        results._read_server_default_result_storage_block_id = ask


@contextmanager
def settings_serialized_once():
    """The current Prefect settings, current again in a context that serializes them once per settings and
    profile object. prefect-dask serializes the settings for every task run it submits (40 ms of the
    flow's process each here, most of a submission), though a settings object never changes; settings
    entered inside (``temporary_settings``) are plain contexts of their own, serialized as usual."""
    from prefect.context import SettingsContext

    current = SettingsContext.get()
    with _serialized_once()(profile=current.profile, settings=current.settings):
        yield


@functools.cache
def _serialized_once():
    """The class of ``settings_serialized_once``'s context (made on first use: Prefect is imported late)."""
    from prefect.context import SettingsContext
    from pydantic import PrivateAttr

    class SettingsSerializedOnce(SettingsContext):
        _serialized: dict = PrivateAttr(default_factory=dict)  # (include_secrets, settings, profile ids) -> (kept objects, dict)

        def serialize(self, include_secrets: bool = True) -> dict:
            key = (include_secrets, id(self.settings), id(self.profile))
            if key not in self._serialized:  # a copy with other settings gets its own entry; objects are kept, so ids stay unique
                self._serialized[key] = ((self.settings, self.profile), super().serialize(include_secrets=include_secrets))
            return self._serialized[key][1]

    return SettingsSerializedOnce


def share_tls_contexts() -> None:
    """One SSL context per CA file for Prefect's API clients of this process. Prefect builds a new one,
    loading and parsing the whole CA bundle (20-50 ms), for every client it makes, and a run makes
    several (the flow run's, the events worker's, the report's artifacts...), and the events client's version
    check builds one more (40-120 ms of a run's first tenth of a second here); the verified context it
    builds from a CA file is never changed afterwards, so one serves them all. Contexts built otherwise
    (no CA file: Prefect's unverified one, which it then changes) are built anew as before."""
    import prefect._internal.version_checking as version_checking
    import prefect.client.orchestration as orchestration

    for module in (orchestration, version_checking):  # the clients, and the version check of the events client
        if not isinstance(module.ssl, _SharedTLS):
            module.ssl = _SharedTLS(module.ssl)


class _SharedTLS:
    """The ``ssl`` module as Prefect's client module sees it, with ``create_default_context`` kept per CA file."""

    def __init__(self, module):
        self._module = module
        self._made: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        return getattr(self._module, name)

    def create_default_context(self, *args, cafile=None, **kwargs):
        if args or kwargs or cafile is None:
            return self._module.create_default_context(*args, cafile=cafile, **kwargs)
        try:
            key = (cafile, os.stat(cafile).st_mtime_ns)  # an edited bundle is loaded again
        except OSError:
            return self._module.create_default_context(cafile=cafile)
        with self._lock:
            if key not in self._made:
                self._made[key] = self._module.create_default_context(cafile=cafile)
            return self._made[key]


def check_api_once() -> None:
    """Check the API's version now (the checks a flow run's client and its events client make at its start,
    HTTP requests), so that the processes forked from this one find them done for this API and client version
    (Prefect keeps them per process); a mismatch raises here as it would there."""
    import asyncio
    import logging

    from prefect._internal.version_checking import check_server_version
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:
        client.raise_for_api_version_mismatch_once()
    # the events client checks the URL as set (the HTTP client's has a trailing slash): done here too
    asyncio.run(check_server_version(PREFECT_API_URL.value(), logging.getLogger("newslake"), raise_on_error=True))


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its health check at ``api_url``."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def server_state(prefect_home: Path) -> dict | None:
    """The background server's record ({"pid", "api_url", "log"}), if one was started and not stopped."""
    try:
        return json.loads((prefect_home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def running_server(prefect_home: Path) -> str | None:
    """The API URL of the background server started for ``prefect_home``, if it is up and answering."""
    state = server_state(prefect_home)
    if state is None or not alive(state.get("pid")):
        return None
    return state["api_url"] if healthy(state["api_url"], timeout=1.0) else None


def start_server(prefect_home: Path, host: str = "127.0.0.1", port: int = 4200, timeout: float = 180,
                 nice: int | None = None) -> dict:
    """Start ``prefect server start`` in the background (its own session, so it outlives this command and
    a Ctrl-C here), ``nice`` steps below this process's CPU priority (None: NEWSLAKE_SERVER_NICE), wait
    until it answers, record it in PREFECT_HOME; returns the record. A server already running for this
    PREFECT_HOME is reused."""
    if running_server(prefect_home):
        return server_state(prefect_home)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    api_url = f"http://{shown_host}:{port}/api"
    if healthy(api_url, timeout=1.0):
        raise RuntimeError(f"another Prefect server already answers at {api_url}; "
                           "use it with PREFECT_API_URL, or start newslake's with --port")
    proc = launch_server(prefect_home, host, port, api_url, timeout, own_session=True, nice=nice)
    state = {"pid": proc.pid, "api_url": api_url, "log": str(prefect_home / "server.log")}
    (prefect_home / STATE_FILE).write_text(json.dumps(state))
    return state


def launch_server(prefect_home: Path, host: str, port: int, api_url: str, timeout: float,
                  own_session: bool, nice: int | None = None) -> subprocess.Popen:
    """Run ``prefect server start`` with its log in PREFECT_HOME/server.log, ``nice`` steps below this
    process's CPU priority (None: NEWSLAKE_SERVER_NICE), and wait until ``api_url`` answers; in its own
    session it outlives the command and a Ctrl-C there."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    log = prefect_home / "server.log"
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    for key in ("PREFECT_API_URL", "NEWSLAKE_RUN_TOKEN", *EPHEMERAL_ONLY):
        env.pop(key, None)  # a real server keeps its task-run history; it is not part of any run
    for key, value in SERVER_DEFAULTS.items():
        env.setdefault(key, value)
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=own_session)
    lower_priority(proc.pid, Settings.load().server_nice if nice is None else nice)
    deadline = time.monotonic() + timeout
    while not healthy(api_url, timeout=1.0):
        if proc.poll() is not None or time.monotonic() > deadline:
            if own_session:
                _stop_group(proc.pid)
            else:
                proc.terminate()
            raise RuntimeError(f"the Prefect server did not start on {host}:{port}; see {log}")
        time.sleep(0.5)
    return proc


def lower_priority(pid: int, steps: int) -> None:
    """Run process ``pid`` ``steps`` nice levels below this one (at most 19). The server's work is bookkeeping:
    the events of task runs, recorded in the background. On 2 cores, at the same priority it took a core's
    share from the run it records (BBC politics in dictionary mode: the flow took 1.0-1.1 s beside it, 0.90-0.92
    with it 10 levels lower). Called right after the process starts, before it makes any thread (each Linux
    thread has its own nice level, inherited by those it creates); where that is not allowed it keeps ours.

    A process in a session of its own (the background server) is also in a scheduling group of its own where
    Linux groups processes by session (``sched_autogroup``, on by default): nice levels only rank threads
    within their group, and the groups share the cores evenly, so the server's group is lowered too
    (``lower_group``)."""
    if steps <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + steps))
    except (OSError, AttributeError):  # no such call here (Windows), or not permitted
        pass
    lower_group(pid, steps)


def autogroup(pid: int | str = "self") -> tuple[str, int] | None:
    """The scheduling group of a process and its nice level, from /proc/PID/autogroup ('/autogroup-65 nice 0'),
    or None where Linux does not group by session (other systems, a kernel without it, or it turned off)."""
    try:
        if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() != "1":
            return None
        name, _, nice = Path(f"/proc/{pid}/autogroup").read_text().split()
        return name, int(nice)
    except (OSError, ValueError):
        return None


def lower_group(pid: int, steps: int) -> None:
    """Put the scheduling group of process ``pid`` ``steps`` nice levels below ours (at most 19) when it is not
    ours: beside a run forked from the warm process, the background server's group at level 0 took a core's
    share whenever both had work, whatever the server's own nice level (BBC politics in dictionary mode on 2
    cores: the helpers waited 50-100 ms for a core in each task, and the flow took 1.51-1.60 s; 1.06-1.15 s
    with its group at 19). Where that is not allowed (or there are no groups) nothing changes."""
    theirs, ours = autogroup(pid), autogroup()
    if theirs is None or ours is None or theirs[0] == ours[0]:
        return  # the same group: the nice level set on the process is what ranks it
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(min(19, ours[1] + steps)))
    except OSError:
        pass


def stop_server(prefect_home: Path) -> dict | None:
    """Stop the background server of ``prefect_home``; returns its record, or None when none was running."""
    state = server_state(prefect_home)
    (prefect_home / STATE_FILE).unlink(missing_ok=True)
    if state is None or not alive(state.get("pid")):
        return None
    _stop_group(state["pid"])
    return state


def _stop_group(pid: int, grace: float = 15) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:  # not our child: poll for it to go
                if not alive(pid):
                    return
            time.sleep(0.2)


class _WorkerPrefect(threading.local):
    """What one worker thread keeps across the task runs it executes: the run's Prefect settings context and
    an open API client built under them, and the serialized settings they were built from (the key)."""

    key: str | None = None
    pid: int = 0
    settings = None  # prefect.context.SettingsContext
    client = None  # prefect.client.orchestration.SyncPrefectClient, entered once and held open


_WORKER = _WorkerPrefect()


def run_task_reusing_client(run_task, /, *args, **kwargs):
    """Run a Prefect task run on a Dask worker (``run_task`` is what prefect-dask submits: it calls
    ``prefect.task_engine.run_task_sync`` with the flow's serialized ``context``) in a settings context and
    with an API client that this worker thread keeps from one task run to the next.

    Without it, every task run on a worker rebuilds Prefect's settings from their serialized form and
    builds two API clients (each loading the CA bundle into a new SSL context): about 0.12 CPU-s a task
    here. The settings context and the client are rebuilt whenever the serialized settings differ (another
    flow, another API URL), and in a forked child; TLS is Prefect's own (the client is made by
    ``get_client``). A context without settings (not Prefect's submission) runs as it came.
    """
    from prefect.client.orchestration import get_client
    from prefect.context import SettingsContext, SyncClientContext

    context = kwargs.get("context")
    serialized = context.get("settings_context") if isinstance(context, dict) else None
    if not serialized:
        return run_task(*args, **kwargs)
    key = json.dumps(serialized, sort_keys=True, default=str)
    state = _WORKER
    if state.key != key or state.pid != os.getpid():
        if state.client is not None and state.pid == os.getpid():
            state.client.__exit__(None, None, None)
        state.key = None
        settings = SettingsContext(**serialized)
        with settings:
            client = get_client(sync_client=True)
        client.__enter__()
        state.key, state.pid, state.settings, state.client = key, os.getpid(), settings, client
    rest = {k: v for k, v in context.items() if k != "settings_context"}  # entered here instead, built once
    with ExitStack() as stack:
        stack.enter_context(state.settings.model_copy())  # a context object is entered once at a time
        stack.enter_context(SyncClientContext.model_construct(client=state.client))
        return run_task(*args, **{**kwargs, "context": rest})
