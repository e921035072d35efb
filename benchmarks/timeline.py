"""Memory timeline of one `newslake ingest`: every process of its tree sampled over time, tagged with the flow's stage.

Usage: python benchmarks/timeline.py OUT.csv --lake LAKE [--every 0.5] -- CMD ...
       (CMD is the ingest command; the lake is watched to tell the stages the progress lines do not show)

Each sample writes one CSV row per process: seconds since the start, pid, parent pid, role (``run``: the
command's own process; ``worker``: a Dask worker process; ``other``: anything else it started), PSS and RSS
in MB, and the stage. The stage is the latest progress line on stderr (``reading files``, ``analysing
articles``), overridden by what the run leaves in the lake folder: ``resolve`` while the duplicate decision's
DuckDB file exists, ``commit`` once the run stages its file rows for the commit, ``compact`` while a compacted
file is being written, ``refresh`` once the run's working folder is gone. ``summarise`` prints, per stage and
role, the largest PSS, and the tree's peak with its parts.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

PROGRESS = re.compile(r"^ingest: (.+?) [\d,]+/[\d,]+ ")
FIELDS = ["t", "pid", "ppid", "role", "pss_mb", "rss_mb", "stage"]


ORDER = ("starting", "reading files", "resolve", "analysing articles", "commit", "refresh")


class Stage:
    """The run's stage, from its progress lines and the lake folder's working files; it only moves forward
    (``compact`` is a passing state inside ``commit``)."""

    def __init__(self, lake: Path):
        self.lake = lake
        self.reached = 0
        self.seen_work = False

    def _reach(self, name: str) -> None:
        if name in ORDER:
            self.reached = max(self.reached, ORDER.index(name))

    def feed(self, line: str) -> None:
        if found := PROGRESS.match(line):
            self._reach(found[1])

    def now(self) -> str:
        work = list((self.lake / "_work").glob("*/"))
        self.seen_work |= bool(work)
        if self.seen_work and not work:
            self._reach("refresh")
        elif any((self.lake / "lake" / "_staging").glob("*/files")):
            self._reach("commit")
        elif any((w / "resolved" / "resolve.duckdb").exists() for w in work):
            self._reach("resolve")
        if ORDER[self.reached] == "commit" and any(self.lake.glob("lake/*/.compacted-*.tmp")) or any(
                self.lake.glob("lake/*/*/.compacted-*.tmp")):
            return "compact"
        return ORDER[self.reached]


def _role(p: psutil.Process, root: psutil.Process) -> str:
    if p.pid == root.pid:
        return "run"
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "other"
    # forked Dask workers keep the run's command line; spawned ones run multiprocessing's spawn or forkserver
    return "worker" if "multiprocessing" in cmd or p.ppid() == root.pid and cmd == " ".join(root.cmdline()) else "other"


def record(cmd: list[str], out: Path, lake: Path, every: float = 0.5) -> dict:
    """Run ``cmd`` and write its per-process timeline to ``out``; returns the summary (see ``summarise``)."""
    stage = Stage(lake)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    tail: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            stage.feed(line)
            tail[:] = (tail + [line])[-40:]

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0 = time.perf_counter()
    rows = []
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        while proc.poll() is None:
            t = round(time.perf_counter() - t0, 2)
            now = stage.now()
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                    row = {"t": t, "pid": p.pid, "ppid": p.ppid(), "role": _role(p, root), "pss_mb": round(info.pss / 2**20, 1),
                           "rss_mb": round(info.rss / 2**20, 1), "stage": now}
                except psutil.Error:
                    continue
                writer.writerow(row)
                rows.append(row)
            fh.flush()
            time.sleep(every)
    reader.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:3])} ... failed with {proc.returncode}:\n{''.join(tail)}")
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    """Per stage: the largest PSS of the run's process and of each worker, and the tree's peak; overall: the
    tree's peak, when, in which stage, and each process's share of it."""
    by_t: dict[float, list[dict]] = defaultdict(list)
    for r in rows:
        by_t[float(r["t"])].append(r)
    stages: dict[str, dict] = {}
    peak = (0.0, 0.0, [])
    for t, procs in sorted(by_t.items()):
        total = sum(float(r["pss_mb"]) for r in procs)
        s = stages.setdefault(procs[0]["stage"], {"from_s": t, "to_s": t, "tree_mb": 0.0, "run_mb": 0.0, "workers_mb": {}})
        s["to_s"] = t
        s["tree_mb"] = max(s["tree_mb"], round(total))
        for r in procs:
            if r["role"] == "run":
                s["run_mb"] = max(s["run_mb"], round(float(r["pss_mb"])))
            elif r["role"] == "worker":
                s["workers_mb"][r["pid"]] = max(s["workers_mb"].get(r["pid"], 0), round(float(r["pss_mb"])))
        if total > peak[0]:
            peak = (total, t, procs)
    total, t, procs = peak
    return {"peak_mb": round(total), "peak_t": t, "peak_stage": procs[0]["stage"] if procs else None,
            "peak_parts": [f"{r['role']} {r['pid']}: {float(r['pss_mb']):.0f}" for r in procs], "stages": stages}


def print_summary(summary: dict) -> None:
    print(f"peak {summary['peak_mb']:,} MB PSS at {summary['peak_t']:.0f} s ({summary['peak_stage']}): " + ", ".join(summary["peak_parts"]))
    for name, s in summary["stages"].items():
        workers = ", ".join(f"{v:,}" for v in s["workers_mb"].values()) or "-"
        print(f"  {name:20} {s['from_s']:>7.0f}-{s['to_s']:<7.0f} s  tree {s['tree_mb']:>6,.0f}  run {s['run_mb']:>6,.0f}  workers {workers}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--summary", action="store_true", help="only summarise an existing CSV")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, cmd = ap.parse_args(argv[:cut]), argv[cut + 1:]
    if args.summary:
        with open(args.out, newline="") as fh:
            print_summary(summarise(list(csv.DictReader(fh))))
        return
    print_summary(record(cmd, args.out, args.lake.resolve(), args.every))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
