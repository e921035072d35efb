"""Where an ingest's mapped tasks run: this process for small runs, else a Dask cluster."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import threading
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import replace
from functools import lru_cache

from prefect import flow

from flows import pool, storage
from flows.discover import discover_files, local_path, settled
from flows.lake import Lake
from flows.settings import Settings
from transforms.paths import escape_path


DICTIONARY_POOL_FACTOR = 20  # dictionary mode analyses a byte about twenty times faster than the model


def pending_bytes(paths: list[str], settings: Settings, enough: int | None = None) -> int:
    """Bytes of the input files the lake has not seen with the same content (new or changed; of a
    file that grew, the bytes past the size the lake knows), hashed a chunk at a time; files settled by
    their size and status-change time (``discover.settled``) are not read.

    With ``enough``, counting stops once the total reaches it, and a file that grew by that much is not
    hashed (whether it changed in place or was appended to, its new bytes are at least its growth): a
    decision between one process and a cluster does not read a large dump twice."""
    files, _ = discover_files(paths, settings.exclude)
    known = Lake(settings.lake, settings.retention_seconds).known_files(files, articles=False)
    total = 0
    listed = {}  # objects as the listing describes them: unchanged ones are not downloaded to be hashed
    for p in paths:
        if storage.is_remote(p):
            try:
                listed |= {escape_path(url): info for url, info in storage.list_infos(local_path(p))[0].items()}
            except (FileNotFoundError, storage.StorageError):
                continue
    for path in files:
        if enough is not None and total >= enough:
            break
        if not settings.rehash and settled(path, known.get(path)):
            continue
        if storage.is_remote(path):
            info = listed.get(path)
            total += 0 if info is None or storage.unchanged(info, known.get(path)) else info.size
            continue
        old = known[path].size if path in known else None
        try:
            with storage.open_input(path) as fh:  # discovery gives stored paths (transforms.paths)
                size = fh.seek(0, 2)
                if enough is not None and total + size - (old or 0) >= enough:
                    return total + size - (old or 0)
                fh.seek(0)
                same = path in known and hashlib.file_digest(fh, "sha256").hexdigest() == known[path].sha256
        except OSError:
            continue
        if not same:
            total += size - old if old and size > old else size
    return total


def uses_cluster(settings: Settings, pending: int) -> bool:
    """Whether a run with ``pending`` new bytes goes to Dask workers under these settings: a cluster given,
    or ``auto`` with more than one worker and at least ``cluster_min_bytes`` (8 MB) of new input. Below
    that, helpers forked from the run's process (``uses_pool``) do the same work without a cluster's
    start-up and per-task traffic: BBC politics (1.3 MB) in model mode took 1.1-2.2 s less of a 7-9 s
    run, all of BBC (5 MB) 29.7 s instead of 34.1 with a lower peak (745 MB against 835)."""
    if settings.dask_address or settings.runner == "dask":
        return True
    return settings.runner == "auto" and settings.workers > 1 and pending >= cluster_threshold(settings)


def uses_pool(settings: Settings, pending: int) -> bool:
    """Whether a run that stays in its own process (not ``uses_cluster``) gains from helpers forked from
    it (``flows.pool``): with ``auto``, more than one worker, fork available, and at least
    ``pool_min_bytes`` new bytes (twenty times more in dictionary mode: forking costs the same, the work
    a byte brings is a twentieth)."""
    return (settings.runner == "auto" and settings.workers > 1 and pool.available()
            and pending >= settings.pool_min_bytes * _mode_factor(settings))


def cluster_threshold(settings: Settings) -> int:
    """New bytes from which a run uses a cluster (``uses_cluster``)."""
    return settings.cluster_min_bytes


def _mode_factor(settings: Settings) -> int:
    return DICTIONARY_POOL_FACTOR if settings.nlp == "dictionary" else 1


THREADS_PER_HELPER = 2


def task_threads(workers: int) -> int:
    """Threads of a run's thread runner: one when the tasks do their own work (``workers`` 1: no helpers), else two
    per helper (``flows.pool``): a helper's next task run has begun, and queued its batch to the pool, while the
    helper works on the current one, which it then goes on to without waiting for Prefect to end one task run and
    begin the next (15-30 ms of a run's process each, a helper idle meanwhile). BBC politics in dictionary mode,
    alternating warm runs (12 pairs each): flows 6% shorter with three threads than two, 9% with four than three."""
    return 1 if workers <= 1 else THREADS_PER_HELPER * workers


def task_runner(settings: Settings, cluster: bool, own=None):
    """A Dask runner (on ``own``, a local cluster the run started, else the settings' cluster), or threads
    of this process (``task_threads``: ``settings.workers`` is 1 unless helpers were forked, ``flows.pool``)."""
    if not cluster:
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=task_threads(settings.workers))
    if own is not None:
        return dask_runner(own.scheduler_address, own)
    return dask_runner(settings.dask_address)


def dask_runner(address: str, own_cluster=None):
    """prefect-dask's task runner on the cluster at ``address`` (``own_cluster``: the local cluster there, when
    the run started it), whose task runs keep their worker thread's Prefect settings and API client from one
    task to the next (see ``flows.dask_runner``)."""
    from flows.dask_runner import ReusingDaskTaskRunner

    return ReusingDaskTaskRunner(address=address, own_cluster=own_cluster)


def _cluster_kwargs(settings: Settings) -> dict:
    return {"n_workers": settings.workers, "threads_per_worker": 1, "processes": True,
            "dashboard_address": ":0", "silence_logs": logging.WARNING}


def warm_up_plugin(settings: Settings):
    """A Dask worker plugin: the worker loads the NLP pipeline in a background thread as soon as it
    starts, while the run's first tasks read the files."""
    from distributed.diagnostics.plugin import WorkerPlugin

    from flows.ingest import warm_up

    class WarmUp(WorkerPlugin):
        name = "newslake-warm-up"

        def setup(self, worker) -> None:
            threading.Thread(target=warm_up, args=(settings,), name=self.name, daemon=True).start()

    return WarmUp()


def _fork_workers() -> None:
    """Fork workers where the platform can: a worker starts with this process's imports already done
    (and their memory shared until written) instead of importing Prefect, pandas and spaCy afresh."""
    import multiprocessing

    import dask

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    dask.config.set({"distributed.worker.multiprocessing-method": method})


DASK_LOG_LENGTH = 16  # Dask's developer logs, per log (its default: 1,000 entries)


def bound_dask_logs() -> None:
    """Keep Dask's developer logs short in this process and in the workers it starts. Each of them (the
    messages a scheduler or client last sent, a worker's stimuli, ...) keeps its last 1,000 entries by
    default, and the message that sends a task holds the task itself: a Prefect task run with its flow,
    settings and parameters, a few hundred KB each. So the run's process (scheduler and client) and each
    worker kept every task run of the first thousand, growing with the run's size (measured: 36 MB over
    300 trivial task runs in the run's process, 4 MB with this bound)."""
    import dask

    dask.config.set({"distributed.admin.low-level-log-length": DASK_LOG_LENGTH})


def close_own_workers(helpers: bool = True) -> bool:
    """Close the worker processes of the local Dask cluster this run started, once the run has no more tasks
    for them: each holds its NLP pipeline, caches and allocator pools (some 300 MB) that the rest of the run,
    the commit in this process, does not need. A cluster the run did not start (``dask_address``) keeps its
    workers. The helpers of a run in its own process (``flows.pool``) are ended likewise, unless ``helpers`` is
    false: then they end with the run (``forked_pool``). Returns whether workers were closed."""
    from prefect.context import FlowRunContext

    if pool.owned():  # a run in its own process: its helpers, no cluster
        return helpers and pool.close_pool()

    context = FlowRunContext.get()
    runner = context.task_runner if context else None
    cluster = getattr(runner, "own_cluster", None)
    if cluster is None or not cluster.workers:
        return False
    cluster.sync(_close_workers, cluster)
    return True


def release_future(future) -> None:
    """Let the Dask scheduler forget a finished task run's result now (its future may sit in a reference
    cycle until the next collection); a future of another runner has nothing to release."""
    release = getattr(getattr(future, "wrapped_future", None), "release", None)
    if release is not None:
        release()


async def _close_workers(cluster) -> None:
    """Close every worker of a local cluster through its nanny, giving each one second before it is ended
    (Dask's own graceful close sometimes waited four seconds for a worker that had nothing left to do)."""
    await asyncio.gather(*(nanny.close(timeout=1) for nanny in list(cluster.workers.values())), return_exceptions=True)


@contextmanager
def local_cluster(settings: Settings):
    """A local Dask cluster for one run. When the run is over its workers (unless the run closed them
    already, ``close_own_workers``) get one second to stop before they are ended: the run has committed by then."""
    from distributed import LocalCluster

    _fork_workers()
    cluster = LocalCluster(**_cluster_kwargs(settings), plugins=[warm_up_plugin(settings)])
    try:
        yield cluster
    finally:
        try:
            cluster.sync(_close_workers, cluster)
        finally:
            cluster.close()


CLUSTER, POOL, PROCESS = "cluster", "pool", "process"  # where a run's mapped tasks do their work


def placement(paths: list[str], settings: Settings) -> tuple[Settings, str]:
    """Where an ingest of ``paths`` runs its tasks: the run's settings, and ``CLUSTER`` (Dask: the settings
    or the new input call for one), ``POOL`` (this process, with helpers forked from it, ``flows.pool``)
    or ``PROCESS`` (one thread of this process).

    When the tasks stay in this process alone and there is new input, the NLP pipeline starts loading in
    a background thread now, while Prefect starts the flow run and the first tasks read the files
    (mostly waits on the API and the disk). Helpers load their own (before any thread starts, see
    ``flows.pool``)."""
    from flows.ingest import warm_up

    forced = settings.runner == "dask" or settings.dask_address
    # read only where it decides something, and only as far as it decides it
    pending = 0 if forced else pending_bytes(paths, settings, cluster_threshold(settings))
    if uses_cluster(settings, pending):
        return settings, CLUSTER
    if uses_pool(settings, pending):
        return settings, POOL
    settings = replace(settings, workers=1)  # one thread runs the tasks: batch for one
    if pending:
        threading.Thread(target=warm_up, args=(settings,), name="newslake-warm-up", daemon=True).start()
    return settings, PROCESS


@contextmanager
def helpers_for(settings: Settings, where: str):
    """The helper processes of a ``POOL`` run (nothing otherwise): enter it before any thread of the run starts."""
    with pool.forked_pool(settings) if where == POOL else nullcontext():
        yield


@contextmanager
def runner_for(settings: Settings, where: str):
    """The task runner of one run: on a cluster, the settings' cluster or a local one started now and
    stopped at the end (inside ``api_server``, so its workers inherit the API's address); else threads
    of this process."""
    cluster = where == CLUSTER
    if cluster:
        bound_dask_logs()  # before the cluster's scheduler and workers, or the runner's client, make their logs
    with ExitStack() as stack:
        own = stack.enter_context(local_cluster(settings)) if cluster and not settings.dask_address else None
        yield task_runner(settings, cluster, own)


def ingest_with(runner):
    """The ingest flow with this task runner. A flow with other options is a new flow, which computes its
    parameters' schema (pydantic: 40 ms of every command here); Prefect runs a duplicate of the flow's runner,
    so the flow made for a thread runner with as many threads serves every run."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.ingest import ingest_flow

    workers = getattr(runner, "_max_workers", None)
    if type(runner) is ThreadPoolTaskRunner and isinstance(workers, int):
        return _threaded_ingest(workers)
    return ingest_flow.with_options(task_runner=runner)


@lru_cache(maxsize=8)
def _threaded_ingest(workers: int):
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.ingest import ingest_flow

    return ingest_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))


@flow(name="newslake-scheduled-ingest", log_prints=False)
def scheduled_ingest(paths: list[str], settings: Settings) -> dict:
    """The flow a schedule runs: chooses where tasks run as `newslake ingest` does, then runs the
    ingest flow as a subflow with that task runner; returns its summary. When another run (say a
    `newslake ingest` by hand) is writing to the lake, this run is skipped and says so in its log."""
    from prefect import get_run_logger

    if Lake(settings.lake).busy():
        get_run_logger().warning("skipped: another newslake run is writing to %s", settings.lake)
        return {"skipped": f"another newslake run is writing to {settings.lake}"}
    settings, where = placement(paths, settings)
    with helpers_for(settings, where), runner_for(settings, where) as runner:
        return ingest_with(runner)(paths, settings)


def run(paths: list[str], settings: Settings, progress=None, prune: bool = False) -> dict:
    """Run the ingest flow with the task runner its input calls for (``placement``); returns the run summary."""
    import pyarrow

    from flows.prefect_env import api_server, server_storage_read_once, settings_serialized_once, share_tls_contexts, without_heartbeats

    settings, where = placement(paths, settings)
    share_tls_contexts()

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())  # freed Arrow buffers go back (jemalloc's pool keeps them)
    gc.collect()
    gc.freeze()  # what exists now is never touched by the collector: forked workers keep sharing its pages
    try:
        with (helpers_for(settings, where), api_server(), without_heartbeats(), settings_serialized_once(),
              server_storage_read_once(), runner_for(settings, where) as runner):
            return ingest_with(runner)(paths, settings, progress, prune)
    finally:
        gc.unfreeze()  # collectable again at exit, so extension types are not reported as leaked
