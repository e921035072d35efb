"""prefect-dask's task runner, with task runs that reuse their Dask worker thread's Prefect settings and API
client (``prefect_env.run_task_reusing_client``) instead of building both afresh for every task run.

Imported only by runs that use a cluster: it imports distributed and prefect-dask.
"""

from __future__ import annotations

import functools

from distributed import Client
from prefect_dask import DaskTaskRunner
from prefect_dask.client import PrefectDaskClient

from flows.prefect_env import run_task_reusing_client


class _ReusingSubmission(Client):
    """Below prefect-dask's client in the method order: the function it submits for a Prefect task (which
    calls the task engine with the flow's serialized ``context`` and the ``task_run_id``) is run through
    ``run_task_reusing_client`` on the worker. Anything else is submitted as it is."""

    def submit(self, func, *args, **kwargs):
        if "context" in kwargs and "task_run_id" in kwargs:
            func = functools.partial(run_task_reusing_client, func)
        return super().submit(func, *args, **kwargs)


class ReusingPrefectDaskClient(PrefectDaskClient, _ReusingSubmission):
    """prefect-dask's client; its ``submit`` hands the task-engine call to ``_ReusingSubmission.submit``."""


class ReusingDaskTaskRunner(DaskTaskRunner):
    """A ``DaskTaskRunner`` on an existing scheduler (``address``) that submits through ``ReusingPrefectDaskClient``.
    ``own_cluster``: the local cluster behind that address when the run started it (its workers are the run's to close)."""

    def __init__(self, address: str, own_cluster=None, **kwargs) -> None:
        super().__init__(address=address, **kwargs)
        self.own_cluster = own_cluster

    def __getstate__(self) -> dict:
        return {**self.__dict__, "own_cluster": None}  # pickled with the flow into every task run's context; the cluster stays here

    def duplicate(self) -> ReusingDaskTaskRunner:
        return type(self)(self.address, own_cluster=self.own_cluster, client_kwargs=self.client_kwargs,
                          performance_report_path=self.performance_report_path)

    @property
    def client(self) -> PrefectDaskClient:
        if self._client is None:
            self._connect_to = self.address
            self._client = self._exit_stack.enter_context(ReusingPrefectDaskClient(self.address, **self.client_kwargs))
        return self._client
