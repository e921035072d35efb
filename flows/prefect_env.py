"""Prefect defaults for an offline, quiet, server-less run; set before Prefect is imported."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
    "PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS": "4",
}
# only for the temporary server: these services are cancelled mid-flush at exit (see PREFECT.md)
EPHEMERAL_ONLY = {
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
}


def configure(prefect_home: Path) -> None:
    """Keep Prefect's state in ``prefect_home``, silence telemetry, show only warnings on the console.

    Variables the user has set win. Run logs still reach a real server's UI when PREFECT_API_URL is set.
    """
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not os.environ.get("PREFECT_API_URL"):
        for key, value in EPHEMERAL_ONLY.items():
            os.environ.setdefault(key, value)


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
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()
