"""Throughput benchmark: ingest a corpus folder into fresh temporary lakes with one process, one Dask
worker and two Dask workers; then rerun the default configuration on unchanged files.

Usage: python benchmarks/throughput.py [PATH ...]   (default $NEWSLAKE_CORPORA/bbc/politics, else ../shared/corpora/bbc/politics)
Reports wall seconds of the whole command (Prefect start-up included), the flow's own seconds,
words per second, and the peak memory of the main process and of each Dask worker process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora")) / "bbc" / "politics"
CONFIGS = {
    "one process": {"NEWSLAKE_RUNNER": "local"},
    "dask, 1 worker": {"NEWSLAKE_RUNNER": "dask", "NEWSLAKE_WORKERS": "1"},
    "dask, 2 workers": {"NEWSLAKE_RUNNER": "dask", "NEWSLAKE_WORKERS": "2"},
}


def _role(p: psutil.Process) -> str | None:
    cmd = " ".join(p.cmdline())
    if "spawn_main" in cmd:
        return "worker"
    if "uvicorn" in cmd:
        return "prefect server"
    if "flows.lifecycle" in cmd or "resource_tracker" in cmd:
        return None
    return "other"


def run(paths: list[str], lake: str, env: dict[str, str]) -> dict:
    """One `newslake ingest`, sampling the memory of its processes every 0.1 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "newslake"), "ingest", *paths, "--lake", lake],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    main = psutil.Process(proc.pid)
    peaks: dict[int, tuple[str, int]] = {}
    while proc.poll() is None:
        try:
            procs = [(main, "main")] + [(c, _role(c)) for c in main.children(recursive=True)]
            for p, role in procs:
                if role:
                    peaks[p.pid] = (role, max(peaks.get(p.pid, (role, 0))[1], p.memory_info().rss))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"newslake ingest failed with {proc.returncode}")
    import duckdb

    with duckdb.connect(f"{lake}/newslake.duckdb", read_only=True) as con:
        run_id, seconds, files, articles, mentions = con.execute(
            "select run_id, seconds, files_seen, articles_written, mentions_written from runs order by started_at desc limit 1").fetchone()
        words = con.execute("select coalesce(sum(n_words), 0) from articles where run_id = $r", {"r": run_id}).fetchone()[0]
    mb = lambda role: sorted(round(rss / 2**20) for r, rss in peaks.values() if r == role)  # noqa: E731
    return {"wall_seconds": round(wall, 1), "flow_seconds": seconds, "files": files, "articles": articles, "mentions": mentions,
            "words": int(words), "words_per_second_flow": round(words / seconds) if seconds else None,
            "words_per_second_wall": round(words / wall), "peak_rss_mb": {"main": mb("main"), "workers": mb("worker")}}


def main() -> None:
    paths = sys.argv[1:] or [str(DEFAULT)]
    if not Path(paths[0]).exists():
        sys.exit(f"corpus {paths[0]} is absent")
    report: dict = {"paths": paths}
    for name, env in CONFIGS.items():
        with tempfile.TemporaryDirectory() as lake:
            report[name] = run(paths, lake, env)
            if name == "dask, 2 workers":
                report["unchanged rerun (default settings)"] = rerun = run(paths, lake, {})
                rerun["wall_vs_first"] = round(rerun["wall_seconds"] / report[name]["wall_seconds"], 3)
    one, two = report["dask, 1 worker"], report["dask, 2 workers"]
    report["speed-up, 2 workers vs 1 (flow words/s)"] = round(two["words_per_second_flow"] / one["words_per_second_flow"], 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
