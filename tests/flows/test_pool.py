"""Helpers forked from a run's process (flows.pool): work offloaded to them comes back as if done here,
a dead helper costs no work, helpers never outlive the run, and a run on helpers writes the rows of a
run on one thread."""

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace

import psutil
import pytest

from flows.settings import Settings
from tests.conftest import SEEDS, lake_rows


def whose(x: int) -> tuple[int, int]:
    return os.getpid(), x * 2


def test_offloaded_work_runs_in_a_forked_helper_and_here_without_a_pool(tmp_path):
    from flows import pool

    settings = Settings.load(lake=tmp_path, workers=2)
    assert pool.offload(whose, 4) == (os.getpid(), 8)  # no pool: here
    with pool.forked_pool(settings):
        helpers = set(pool._POOL.executor._processes)  # the pids of the forked helpers
        results = [pool.offload(whose, n) for n in range(6)]
        assert [r[1] for r in results] == [0, 2, 4, 6, 8, 10]
        assert {pid for pid, _ in results} <= helpers and os.getpid() not in {pid for pid, _ in results}
    assert pool.offload(whose, 5) == (os.getpid(), 10)  # the block is over: here again
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in helpers if psutil.pid_exists(pid)], timeout=5)
    assert alive == []


def arrow_allocator() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


def test_helpers_allocate_arrow_memory_with_the_c_library_and_the_run_keeps_its_own(tmp_path):
    from flows import pool

    mine = arrow_allocator()
    with pool.forked_pool(Settings.load(lake=tmp_path, workers=2)):
        assert {pool.offload(arrow_allocator) for _ in range(4)} == {"system"}
    assert arrow_allocator() == mine


def test_closing_the_pool_ends_the_helpers_by_the_end_of_the_block(tmp_path):
    """``close_pool`` (after the last analysis) does not wait for them; the block's end does."""
    from flows import pool

    with pool.forked_pool(Settings.load(lake=tmp_path, workers=2)):
        helpers = [psutil.Process(pid) for pid in pool._POOL.executor._processes]
        assert pool.close_pool() and not pool.close_pool()  # closed once; a second call finds nothing
        assert pool.offload(whose, 2) == (os.getpid(), 4)  # work after the close is done here
    assert not any(h.is_running() and h.status() != psutil.STATUS_ZOMBIE for h in helpers)


def test_a_dictionary_runs_helpers_are_kept_to_the_end_of_the_run_and_a_models_closed_after_analysis(tmp_path):
    """``close_own_workers(helpers=False)`` (a dictionary-mode run after its last analysis) leaves the helpers working
    and ending with the block; with ``helpers`` they are closed, and offloaded work is done here."""
    from flows import pool, runner

    assert not pool.owned() and not runner.close_own_workers(helpers=False)  # no pool, no cluster: nothing to close
    with pool.forked_pool(Settings.load(lake=tmp_path, workers=2)):
        helpers = set(pool._POOL.executor._processes)
        assert pool.owned()
        assert not runner.close_own_workers(helpers=False)
        assert pool.offload(whose, 3)[0] in helpers  # still a helper's work
        assert runner.close_own_workers() and not pool.owned()
        assert pool.offload(whose, 3) == (os.getpid(), 6)
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in helpers if psutil.pid_exists(pid)], timeout=5)
    assert alive == []


def test_a_dead_helper_costs_no_work_and_the_rest_of_the_run_works_here(tmp_path):
    from flows import pool

    with pool.forked_pool(Settings.load(lake=tmp_path, workers=2)):
        with pytest.raises(DoneHere):  # the helper died in the middle of it: the work is done here
            pool.offload(dies_in_a_helper)
        assert pool.offload(whose, 3) == (os.getpid(), 6)  # the pool is broken: every later task works here


class DoneHere(Exception):
    pass


def dies_in_a_helper() -> None:
    """In a helper, its death; in the run's process, an exception the test sees."""
    if os.getpid() != PARENT:
        os._exit(3)
    raise DoneHere


PARENT = os.getpid()


def test_placement_forks_helpers_for_runs_too_small_for_a_cluster(tmp_path):
    from flows.runner import uses_cluster, uses_pool

    auto = Settings.load(lake=tmp_path, runner="auto", workers=2, pool_min_bytes=100, cluster_min_bytes=10_000)
    assert not uses_pool(auto, 99) and uses_pool(auto, 100) and not uses_cluster(auto, 9_999)
    assert not uses_pool(replace(auto, workers=1), 5_000)
    assert not uses_pool(replace(auto, runner="local"), 5_000)
    assert not uses_pool(replace(auto, nlp="dictionary"), 1_999) and uses_pool(replace(auto, nlp="dictionary"), 2_000)


def test_a_run_on_helpers_has_two_task_threads_per_helper_and_one_without(tmp_path):
    """Two threads a helper: the next task run of a helper is begun, its batch queued, while the helper works."""
    from flows.runner import POOL, PROCESS, runner_for, task_threads

    assert [task_threads(n) for n in (1, 2, 3)] == [1, 4, 6]
    settings = Settings.load(lake=tmp_path, workers=2)
    with runner_for(settings, POOL) as threads:
        assert threads._max_workers == 4
    with runner_for(replace(settings, workers=1), PROCESS) as threads:
        assert threads._max_workers == 1


def test_helpers_end_with_a_killed_run(tmp_path):
    """The run's process killed by SIGKILL (no handler runs): the kernel ends its helpers."""
    script = ("import sys, time, os; from flows import pool; from flows.settings import Settings\n"
              f"with pool.forked_pool(Settings.load(lake={str(tmp_path)!r}, workers=2)):\n"
              "    print(' '.join(str(p) for p in pool._POOL.executor._processes), flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    helpers = [psutil.Process(int(pid)) for pid in proc.stdout.readline().split()]
    assert len(helpers) == 2 and all(h.is_running() for h in helpers)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    _, alive = psutil.wait_procs(helpers, timeout=10)
    assert alive == []


@pytest.mark.slow
def test_a_run_on_helpers_writes_the_rows_of_a_run_on_one_thread(tmp_path, monkeypatch):
    from flows import ingest, runner

    articles = tmp_path / "input" / "articles"
    shutil.copytree(SEEDS / "articles", articles)
    one = Settings.load(lake=tmp_path / "one", batch_size=1, runner="local")
    runner.run([str(articles)], one)
    pids = tmp_path / "pids"
    monkeypatch.setattr(ingest, "_analyse", recording_analyse)
    monkeypatch.setenv("POOL_TEST_PIDS", str(pids))
    helpers = Settings.load(lake=tmp_path / "helpers", batch_size=1, runner="auto", workers=2, pool_min_bytes=1,
                            cluster_min_bytes=10**12)
    assert runner.placement([str(articles)], helpers)[1] == runner.POOL
    summary = runner.run([str(articles)], helpers)
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    assert lake_rows(helpers, articles) == lake_rows(one, articles)
    analysed_in = set(pids.read_text().split())
    assert analysed_in and str(os.getpid()) not in analysed_in  # every analysis in a helper


def test_a_dictionary_run_on_helpers_keeps_them_to_its_end_and_they_end_with_it(tmp_path, monkeypatch):
    from flows import ingest, pool, runner

    articles = tmp_path / "input" / "articles"
    shutil.copytree(SEEDS / "articles", articles)
    seen = []

    def closing(helpers: bool = True) -> bool:
        closed = runner.close_own_workers(helpers)
        seen.append((helpers, closed, pool.owned(), list(pool._POOL.executor._processes) if pool.owned() else []))
        return closed

    monkeypatch.setattr(ingest, "close_own_workers", closing)
    settings = Settings.load(lake=tmp_path / "lake", batch_size=1, runner="auto", workers=2, pool_min_bytes=1,
                            cluster_min_bytes=10**12, nlp="dictionary")
    assert runner.placement([str(articles)], settings)[1] == runner.POOL
    assert runner.run([str(articles)], settings)["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    [(helpers, closed, owned, pids)] = seen
    assert (helpers, closed, owned) == (False, False, True) and len(pids) == 2  # still there after the last analysis
    assert not pool.owned()
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)], timeout=5)
    assert alive == []  # and gone with the run


def recording_analyse(*args, **kwargs):
    """``flows.ingest._analyse`` that notes the pid doing it (module level: offload pickles it by name)."""
    with open(os.environ["POOL_TEST_PIDS"], "a") as fh:
        fh.write(f"{os.getpid()}\n")
    return ANALYSE(*args, **kwargs)


from flows.ingest import _analyse as ANALYSE  # noqa: E402  (the real one, before a test patches it)
