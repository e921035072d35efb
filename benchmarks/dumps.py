"""Streaming benchmark: `newslake ingest` of generated JSON-lines dumps of growing size, records/s and peak memory.

Usage: python benchmarks/dumps.py [--sizes 20M,1G] [--nlp dictionary|model] [--dir /tmp] [--bbc DIR] [--keep] [--timeline DIR]

For each size: ``benchmarks/make_dump.py`` writes a dump of that many bytes into ``--dir`` (reused when
already there with that size), `newslake ingest DUMP --nlp ...` runs into a fresh lake beside it, then
the dump is appended with 1% more records and ingested again (the appended-dump path). Figures are of
the whole process tree, measured as ``benchmarks/throughput.py`` does (wall and CPU seconds, peak of
the summed PSS of every process the command started, sampled every 50 ms); records/s is the records
the run accounted (``runs.records_seen``) over its wall time. The last line compares each size's peak
memory with the smallest size's. Dumps and lakes are removed at the end unless ``--keep``. With ``--timeline
DIR``, each ingest's processes are also sampled every half second by ``benchmarks/timeline.py`` (which process
holds how much in which stage) into ``DIR/<size>-first.csv`` and ``DIR/<size>-append.csv``, summarised below
each size's line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_dump import CORPORA, ROOT, articles, record, size_arg, write_dump  # noqa: E402
from throughput import _children_cpu_delta, measure  # noqa: E402
from timeline import Sampler, describe  # noqa: E402

CLI = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); from flows.cli import app; app()", str(ROOT)]


def ingest(dump: Path, lake: Path, nlp: str, server, timeline: Path | None = None) -> dict:
    cmd = [*CLI, "ingest", str(dump), "--lake", str(lake), "--nlp", nlp]
    if timeline is None:
        m = measure(cmd, server=server)
    else:
        with Sampler(timeline, lake, exclude={server.pid}) as sampler:
            m = measure(cmd, server=server)
        m["timeline"] = sampler.summary()
    with duckdb.connect(str(lake / "newslake.duckdb"), read_only=True) as con:
        records, articles_written, seconds = con.execute(
            "select records_seen, articles_written, seconds from latest_run").fetchone()
        statuses = dict(con.execute("select status, count(*) from files where run_id = (select run_id from latest_run) group by 1").fetchall())
    m.update(records=records, articles=articles_written, flow_s=seconds, statuses=statuses,
             records_per_s=round(records / m["wall_s"], 1))
    m.pop("output")
    return m


def prefect_server() -> tuple[psutil.Process, bool]:
    """The background Prefect server's process, and whether this benchmark started it. No warm process: each
    ingest is measured cold (``NEWSLAKE_WARM=0``), every process it starts inside the command's own tree."""
    sys.path.insert(0, str(ROOT))
    from flows import prefect_env
    from flows.settings import Settings

    home = prefect_env.home(Settings.load().prefect_home)
    started = prefect_env.running_server(home) is None
    state = prefect_env.start_server(home)
    os.environ["PREFECT_API_URL"] = state["api_url"]
    os.environ["NEWSLAKE_WARM"] = "0"
    return psutil.Process(state["pid"]), started


def append(dump: Path, share: float, bbc: Path) -> int:
    """Append ``share`` more records (continuing the generator's numbering); returns how many."""
    corpus = articles(bbc)
    with open(dump, "rb") as fh:
        existing = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    n = max(1, round(existing * share))
    with open(dump, "ab") as fh:
        for k in range(existing, existing + n):
            fh.write(record(k, corpus))
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20M,1G")
    ap.add_argument("--nlp", default="dictionary", choices=("dictionary", "model"))
    ap.add_argument("--dir", type=Path, default=Path("/tmp"))
    ap.add_argument("--bbc", type=Path, default=CORPORA / "bbc")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeline", type=Path, help="record each ingest's per-process memory timeline into this folder")
    args = ap.parse_args()
    if not args.bbc.exists():
        sys.exit(f"corpus {args.bbc} is absent (set NEWSLAKE_CORPORA)")
    server, started = prefect_server()
    _children_cpu_delta()
    results = {}
    try:
        for label in args.sizes.split(","):
            size = size_arg(label)
            dump, lake = args.dir / f"newslake-dump-{label}.jsonl", args.dir / f"newslake-dump-{label}-lake"
            if not dump.exists() or dump.stat().st_size < size:
                write_dump(dump, size, args.bbc)
            shutil.rmtree(lake, ignore_errors=True)
            if args.timeline:
                args.timeline.mkdir(parents=True, exist_ok=True)
            first = ingest(dump, lake, args.nlp, server, args.timeline / f"{label}-first.csv" if args.timeline else None)
            added = append(dump, 0.01, args.bbc)
            again = ingest(dump, lake, args.nlp, server, args.timeline / f"{label}-append.csv" if args.timeline else None)
            results[label] = {"bytes": dump.stat().st_size, "first": first, "appended": added, "after_append": again}
            print(f"{label}: {first['records']:,} records in {first['wall_s']:,.1f} s wall ({first['records_per_s']:,.1f} records/s, "
                  f"{first['cpu_s']:,.0f} CPU s), peak {first['peak_mb']:,} MB; appended {added:,}: "
                  f"{again['statuses']} in {again['wall_s']:,.1f} s, peak {again['peak_mb']:,} MB", flush=True)
            for run, m in (("first", first), ("appended", again)):
                if "timeline" in m:
                    print(f"{label} {run}, every process sampled every 0.5 s: {describe(m['timeline'])}", flush=True)
            if not args.keep:
                dump.unlink()
                shutil.rmtree(lake, ignore_errors=True)
    finally:
        if started:
            from flows import prefect_env
            from flows.settings import Settings

            prefect_env.stop_server(prefect_env.home(Settings.load().prefect_home))
    labels = list(results)
    if len(labels) > 1:
        base = results[labels[0]]["first"]["peak_mb"]
        print("peak memory vs " + labels[0] + ": " + ", ".join(f"{k} {v['first']['peak_mb'] / base:.2f}x" for k, v in results.items()))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
