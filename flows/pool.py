"""Both cores for a run that stays in its own process: helper processes forked from it, which do the
per-record work of its mapped tasks while the task runs themselves (states, retries, the UI) stay in
the run's process.

A run too small for a Dask cluster (whose start-up and per-task traffic cost more than its second core
gives back) still has a batch or two per core of files to read and articles to analyse. ``forked_pool``
forks ``workers`` helpers from the run's process before it starts any thread of its own (so no lock
of another thread is copied held), with the imports done and, in a process forked from the warm
process (``flows.warm``), the NLP pipeline already loaded; a helper that lacks it loads it in the
background as it starts. The run's tasks then run on ``workers`` threads, and each hands its work to a
helper through ``offload`` and waits for the result (the GIL is free meanwhile).

Helpers are the run's processes: they end with it (``close_pool`` after the last analysis, the
watchdog of ``flows.lifecycle`` if the run is killed, and the kernel when the run's process dies,
``PR_SET_PDEATHSIG``), leave stopping the run to it (SIGINT and SIGTERM are the run's to handle),
and never talk to Prefect. A helper that dies (``BrokenProcessPool``) costs no work: the task that was
waiting does its work itself, and so does every later task of the run.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from flows.settings import Settings

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


@dataclass
class _Pool:
    executor: ProcessPoolExecutor
    owner: int  # the pid of the run's process: a helper (or anything else forked) never offloads to it
    usable: bool = True


_POOL: _Pool | None = None
_LOCK = threading.Lock()


def available() -> bool:
    """Whether ``fork`` exists here (Linux, macOS): the helpers need the run's imports and memory."""
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def forked_pool(settings: Settings) -> Iterator[None]:
    """``settings.workers`` helper processes forked now, used by ``offload`` until the block ends or
    ``close_pool``. Enter it before the run starts threads (an API server, a task runner)."""
    global _POOL
    executor = ProcessPoolExecutor(settings.workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_helper_start, initargs=(settings,))
    executor.submit(os.getpid).result()  # forks every helper now, from this thread (fork starts them all at once)
    with _LOCK:
        _POOL = _Pool(executor, os.getpid())
    manager = executor._executor_manager_thread  # it joins the helpers once the pool is shut down
    try:
        yield
    finally:
        close_pool()
        if manager is not None:
            manager.join()  # the helpers are gone when the block ends, however it ends


def owned() -> bool:
    """Whether this process has a pool of helpers of its own."""
    pool = _POOL
    return pool is not None and pool.owner == os.getpid()


def close_pool() -> bool:
    """End the helpers of this process's pool (the run has no more work for them: each holds its NLP
    pipeline and allocator pools); later ``offload`` calls run here. Returns whether there were any.
    It does not wait for them to exit (10-20 ms of a run's wall time): the end of ``forked_pool`` does."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is None or pool.owner != os.getpid():
        return False
    pool.executor.shutdown(wait=False, cancel_futures=True)
    return True


def offload(fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` in a helper of the run's pool, or here when there is none (one thread,
    a Dask worker, a helper itself) or it broke. ``fn`` and its arguments go by pickle: a module-level
    function, plain data."""
    pool = _POOL
    if pool is None or not pool.usable or pool.owner != os.getpid():
        return fn(*args, **kwargs)
    try:
        future = pool.executor.submit(fn, *args, **kwargs)
    except (BrokenProcessPool, RuntimeError):  # broken, or shut down meanwhile
        return fn(*args, **kwargs)
    try:
        return future.result()
    except BrokenProcessPool:  # the helper died (killed, out of memory): this task's work is done here
        pool.usable = False
        return fn(*args, **kwargs)


def _helper_start(settings: Settings) -> None:
    """A helper's first act: leave SIGINT and SIGTERM to the run (which ends its helpers itself), die with
    the run's process, and load the NLP pipeline in the background unless the fork brought it along."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the watchdog still ends helpers of a killed run
        pass
    import pyarrow as pa

    # Arrow's own allocator (mimalloc) costs a freshly forked process 5-30 ms at its first Parquet read; the C
    # library's, already set up by the fork, 3-4 ms. ``release_memory`` hands its freed memory back after each task.
    pa.set_memory_pool(pa.system_memory_pool())
    from flows.ingest import warm_up

    threading.Thread(target=warm_up, args=(settings,), name="newslake-warm-up", daemon=True).start()
