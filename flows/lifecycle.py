"""A run's processes live and die with it: a watchdog that ends them when the run's process exits
(even by ``kill -9``), and SIGTERM / SIGINT handlers that stop a run at once with nothing committed.

Every process a guarded run starts inherits ``NEWSLAKE_RUN_TOKEN``; the watchdog (``main``: ``PID TOKEN``,
started as ``python -S -c WATCHDOG``; ``python -m flows.lifecycle PID TOKEN`` runs it too): when PID exits it
terminates the processes it saw descend from PID and every process still carrying the token (Dask workers,
a temporary Prefect server, their helpers).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from contextlib import contextmanager

import psutil

TOKEN = "NEWSLAKE_RUN_TOKEN"
POLL_SECONDS = 0.2
GRACE_SECONDS = 2.0
DONE_WAIT_SECONDS = 30.0
EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}
CANCELLED_EXIT_CODE = 1
CANCEL_POLL_SECONDS = 2.0


# the watchdog's command: Python without site (its .pth files), importing from the run's own path, and this
# module's imports kept to what ``watch`` needs: it starts with every run, on the cores the run is starting on
# (here 50 ms of CPU, where ``python -m flows.lifecycle`` took 83)
WATCHDOG = "import os, sys; sys.path[:0] = sys.argv[1].split(os.pathsep); from flows.lifecycle import main; main(sys.argv[2:])"


def _import_path() -> list[str]:
    """Where the watchdog finds this package and psutil: the folder holding ``flows``, then this process's path."""
    return [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *sys.path]


class _Guard:
    """This process's guard: whether it is active, commits in progress, a signal deferred until they end."""

    active = False
    committing = 0
    deferred: tuple[int, str] | None = None  # (exit code, why) of a stop asked for during a commit
    watchdog: int | None = None
    lock = threading.Lock()


def terminate(processes: list[psutil.Process], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM these processes, then SIGKILL whichever is still alive after ``grace`` seconds."""
    for p in processes:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)


def carrying(token: str, exclude: set[int]) -> list[psutil.Process]:
    """Processes whose environment holds this run token."""
    found = []
    for p in psutil.process_iter():
        if p.pid in exclude:
            continue
        try:
            if p.environ().get(TOKEN) == token:
                found.append(p)
        except psutil.Error:
            continue
    return found


def stop_run(code: int, message: str) -> None:
    """Kill the run's child processes (before they can complain about each other), print ``message``
    and exit at once with ``code``; the watchdog ends whatever a child started meanwhile."""
    try:
        for p in psutil.Process().children(recursive=True):
            if p.pid != _Guard.watchdog:
                p.kill()
    except psutil.Error:
        pass
    print(f"newslake: {message}", file=sys.stderr, flush=True)
    os._exit(code)


def request_stop(code: int, why: str) -> None:
    """Stop the run now with nothing committed, or, during a commit, as soon as the commit is done."""
    with _Guard.lock:
        if _Guard.committing:
            _Guard.deferred = (code, why)
            return
    stop_run(code, f"{why}; nothing was committed, the lake is as before the run")


def _on_signal(signum: int, frame) -> None:
    request_stop(EXIT_CODES.get(signum, 1), f"run stopped by {signal.Signals(signum).name}")


def reclaim_signals() -> None:
    """Put the guard's SIGTERM and SIGINT handlers back (Prefect installs its own while a flow runs)."""
    if _Guard.active and threading.current_thread() is threading.main_thread():
        for sig in EXIT_CODES:
            signal.signal(sig, _on_signal)


@contextmanager
def committing():
    """A commit in progress: SIGTERM and SIGINT wait until it has finished, then stop the run."""
    with _Guard.lock:
        _Guard.committing += 1
    try:
        yield
    finally:
        with _Guard.lock:
            _Guard.committing -= 1
            deferred, _Guard.deferred = (_Guard.deferred, None) if not _Guard.committing else (None, _Guard.deferred)
        if deferred:
            code, why = deferred
            stop_run(code, f"{why} during its commit; the lake holds the run, the DuckDB views follow at the next run "
                           "or `newslake refresh`")


def follow_cancellation(flow_run_id, interval: float = CANCEL_POLL_SECONDS) -> None:
    """In a guarded run, stop when Prefect says the flow run is cancelled (the UI, `prefect flow-run cancel`):
    a flow called directly, not by a deployment's runner, is otherwise never told."""
    if not _Guard.active or flow_run_id is None:
        return

    def poll() -> None:
        from prefect.client.orchestration import get_client
        from prefect.states import Cancelled

        with get_client(sync_client=True) as client:
            while _Guard.active:
                time.sleep(interval)
                try:
                    state = client.read_flow_run(flow_run_id).state
                except Exception:  # the API is briefly unreachable: ask again
                    continue
                if state is not None and state.type.value in ("CANCELLING", "CANCELLED"):
                    try:
                        client.set_flow_run_state(flow_run_id, Cancelled(message="cancelled: nothing was committed"), force=True)
                    except Exception:
                        pass
                    request_stop(CANCELLED_EXIT_CODE, "run cancelled in Prefect")
                    return

    threading.Thread(target=poll, name="newslake-cancellation", daemon=True).start()


@contextmanager
def guarded_run():
    """For the process running an ingest: a watchdog that ends every process of the run when this one
    exits however it exits, and SIGTERM / SIGINT handlers that stop the run within seconds."""
    import secrets
    import subprocess

    token = secrets.token_hex(8)
    os.environ[TOKEN] = token
    quiet = "ignore:resource_tracker:UserWarning"  # its note on semaphores of killed workers
    warnings_before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = f"{warnings_before},{quiet}" if warnings_before else quiet
    watchdog = subprocess.Popen([sys.executable, "-S", "-c", WATCHDOG, os.pathsep.join(_import_path()), str(os.getpid()), token],
                                stdin=subprocess.PIPE, start_new_session=True)
    previous = {sig: signal.getsignal(sig) for sig in EXIT_CODES}
    _Guard.active, _Guard.watchdog = True, watchdog.pid
    reclaim_signals()
    try:
        yield
    finally:
        _Guard.active = False
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.environ.pop(TOKEN, None)
        if warnings_before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = warnings_before
        watchdog.stdin.close()  # once this process exits, the watchdog ends what is left of the run


def _wait_exited(process: psutil.Process, timeout: float) -> None:
    """Wait until ``process`` has exited: gone, or a zombie (done, not yet reaped). ``Process.wait`` on a
    process that is not our child waits for it to be reaped, and a parent that reads the command's output to
    its end before reaping it (``subprocess.run(capture_output=True)``) waits for this watchdog, which holds
    that output open: both would wait out the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.Error:
            return
        time.sleep(POLL_SECONDS / 4)


def watch(pid: int, token: str) -> None:
    """Follow ``pid``'s descendants until it exits (or closes our stdin and then exits), then
    terminate those left and every process carrying ``token``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    me = os.getpid()
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        parent = None
    seen: dict[int, psutil.Process] = {}
    while parent is not None and parent.is_running():
        ready, _, _ = select.select([sys.stdin.fileno()], [], [], POLL_SECONDS)
        if ready and not os.read(sys.stdin.fileno(), 4096):
            _wait_exited(parent, DONE_WAIT_SECONDS)
            break
        try:
            seen.update((p.pid, p) for p in parent.children(recursive=True) if p.pid != me)
        except psutil.NoSuchProcess:
            break
    left = {p.pid: p for p in seen.values() if p.is_running()}
    left.update((p.pid, p) for p in carrying(token, exclude={me, pid}))
    terminate(list(left.values()))


def main(argv: list[str]) -> None:
    """The watchdog's entry: ``PID TOKEN``."""
    watch(int(argv[0]), argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
