"""The run's watchdog: a parent of the command that has not reaped it yet must not keep the watchdog waiting."""

import os
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


def test_the_watchdog_started_without_site_ends_what_a_dead_run_left():
    """The watchdog runs ``python -S`` with the run's import path: it must still find this package and psutil,
    follow the run and, once the run has died, end the processes carrying the run's token."""
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env={"NEWSLAKE_RUN_TOKEN": "t0k3n"})
    watchdog = subprocess.Popen([sys.executable, "-S", "-c", lifecycle.WATCHDOG, os.pathsep.join(lifecycle._import_path()),
                                 str(run.pid), "t0k3n"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert watchdog.poll() is None
        run.kill()
        run.wait()
        assert watchdog.wait(timeout=30) == 0, watchdog.stderr.read()
        assert left.wait(timeout=10) is not None  # terminated by the watchdog
    finally:
        for p in (run, left, watchdog):
            if p.poll() is None:
                p.kill()
