"""Throughput benchmark: ingest a corpus folder into a fresh temporary lake, twice, and report.

Usage: python benchmarks/throughput.py [PATH ...]   (default $NEWSLAKE_CORPORA/bbc/politics, else ../shared/corpora/bbc/politics)
Reports wall seconds of the whole command (Prefect start-up included), the flow's own seconds,
words per second, and peak memory; the second run measures the unchanged-files path.
"""

from __future__ import annotations

import os

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora")) / "bbc" / "politics"


def run(paths: list[str], lake: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "newslake"), "ingest", *paths, "--lake", lake], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    import duckdb

    with duckdb.connect(f"{lake}/newslake.duckdb", read_only=True) as con:
        row = con.execute("select seconds, files_seen, articles_written, mentions_written from runs limit 1").fetchone()
        words = con.execute("select coalesce(sum(n_words), 0) from articles where run_id = (select run_id from runs limit 1)").fetchone()[0]
    return wall, {"flow_seconds": row[0], "files": row[1], "articles": row[2], "mentions": row[3], "words": words}


def main() -> None:
    paths = sys.argv[1:] or [str(DEFAULT)]
    if not Path(paths[0]).exists():
        sys.exit(f"corpus {paths[0]} is absent")
    with tempfile.TemporaryDirectory() as lake:
        first_wall, first = run(paths, lake)
        second_wall, second = run(paths, lake)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process of either run
    report = {
        "paths": paths,
        "first": {"wall_seconds": round(first_wall, 1), **first,
                  "words_per_second_flow": round(first["words"] / first["flow_seconds"]) if first["flow_seconds"] else None},
        "second_unchanged": {"wall_seconds": round(second_wall, 1), **second,
                             "flow_seconds_vs_first": round(second["flow_seconds"] / first["flow_seconds"], 3) if first["flow_seconds"] else None},
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
