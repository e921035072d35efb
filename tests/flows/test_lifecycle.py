"""The run's watchdog: a parent of the command that has not reaped it yet must not keep the watchdog waiting."""

import subprocess
import sys

import psutil

from flows import lifecycle


def test_the_watchdog_counts_a_finished_unreaped_process_as_exited(monkeypatch):
    """``subprocess.run(capture_output=True)`` reaps the command only after its output ends, which the watchdog
    holds open: waiting for the command to be reaped (``Process.wait`` on a non-child) would wait out the timeout."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    process = psutil.Process(child.pid)
    while process.status() != psutil.STATUS_ZOMBIE:  # exited, not reaped: we never wait for it here
        pass
    monkeypatch.setattr(lifecycle.time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError("waited for a finished process")))
    lifecycle._wait_exited(process, timeout=600)
    assert process.status() == psutil.STATUS_ZOMBIE
    child.wait()
    lifecycle._wait_exited(process, timeout=600)  # gone: returns at once too


def test_the_watchdog_waits_for_a_running_process_until_the_timeout(monkeypatch):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        naps = []
        monkeypatch.setattr(lifecycle.time, "sleep", naps.append)
        clock = iter(range(100))
        monkeypatch.setattr(lifecycle.time, "monotonic", lambda: next(clock))
        lifecycle._wait_exited(psutil.Process(child.pid), timeout=5)
        assert len(naps) == 4 and child.poll() is None
    finally:
        child.kill()
        child.wait()
