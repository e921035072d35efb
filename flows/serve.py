"""Scheduled ingests: a Prefect deployment of the scheduled ingest flow with a cron schedule, served by this process.

Prefect schedules need a real API server (the temporary one refuses them). ``ensure_server``
uses PREFECT_API_URL when it is set, else the background server of `newslake server start`, else
starts ``prefect server start`` on localhost itself for as long as it serves.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict
from pathlib import Path

from flows.prefect_env import healthy, home, launch_server, running_server
from flows.settings import Settings

DEPLOYMENT_NAME = "newslake-scheduled-ingest"


def ensure_server(settings: Settings, port: int, timeout: float = 180) -> subprocess.Popen | None:
    """The Prefect API to schedule against: PREFECT_API_URL if set, else a local server started now.

    Returns the server process when this call started one (the caller stops it), else None.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    if background := running_server(home(settings.prefect_home)):
        os.environ["PREFECT_API_URL"] = background
        return None
    api_url = f"http://127.0.0.1:{port}/api"
    if healthy(api_url):
        os.environ["PREFECT_API_URL"] = api_url
        return None
    proc = launch_server(home(settings.prefect_home), "127.0.0.1", port, api_url, timeout, own_session=False,
                         nice=settings.server_nice)
    os.environ["PREFECT_API_URL"] = api_url
    return proc


def deployment_parameters(paths: list[str], settings: Settings) -> dict:
    """Flow-run parameters for the schedule (JSON-friendly)."""
    return {"paths": [str(Path(p).expanduser().resolve()) for p in paths],
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}}


def build_deployment(paths: list[str], settings: Settings, cron: str, timezone: str = "UTC"):
    """The ingest flow as a deployment with a cron schedule (nothing is sent to a server yet); a
    scheduled run due while the previous one still runs is cancelled by Prefect, not queued."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from flows.runner import scheduled_ingest

    return scheduled_ingest.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(cron, timezone=timezone),
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        parameters=deployment_parameters(paths, settings),
        description="newslake: ingest news files into the lake on a schedule",
        tags=["newslake"],
    )
