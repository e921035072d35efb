"""A run's own Dask cluster keeps its developer logs short: the message that sends a task run holds the
task run itself (flow, settings, parameters), so 1,000-entry logs kept every task run of a large run."""

import gc

import pytest
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.ingest import _results
from flows.prefect_env import api_server
from flows.runner import CLUSTER, DASK_LOG_LENGTH, runner_for
from flows.settings import Settings

pytestmark = pytest.mark.slow

RUNS = 3 * DASK_LOG_LENGTH


@task(cache_policy=NO_CACHE)
def weigh(items: list[str], n: int, settings: Settings) -> int:
    return n + len(items)


def test_a_runs_cluster_logs_do_not_keep_its_task_runs(tmp_path):
    import dask._task_spec

    settings = Settings.load(lake=tmp_path / "lake", runner="dask", workers=1)

    @flow
    def mapped(settings: Settings) -> list[int]:
        items = [[f"/in/{i}.txt"] * 50 for i in range(RUNS)]
        return _results(lambda s: weigh.map(items[s], list(range(RUNS))[s], unmapped(settings)), [1] * RUNS, 8)

    with api_server(), runner_for(settings, CLUSTER) as runner:  # the workers report to this test's server, not one each
        assert mapped.with_options(task_runner=runner)(settings) == [n + 50 for n in range(RUNS)]
        cluster = runner.own_cluster
        scheduler = cluster.scheduler
        sent = [len(stream.recent_message_log) for stream in scheduler.stream_comms.values()]
        assert sent and max(sent) <= DASK_LOG_LENGTH and len(scheduler.transition_log) <= DASK_LOG_LENGTH
        stimuli = cluster.sync(lambda: _worker_logs(cluster))
        assert stimuli and max(stimuli) <= DASK_LOG_LENGTH
        gc.collect()
        held = sum(type(o) is dask._task_spec.Task for o in gc.get_objects())
        assert held < RUNS / 2  # before the bound: every one of the run's task runs


async def _worker_logs(cluster) -> list[int]:
    from distributed import Client

    async with Client(cluster.scheduler_address, asynchronous=True) as client:
        found = await client.run(lambda dask_worker: len(dask_worker.state.stimulus_log))
    return list(found.values())
