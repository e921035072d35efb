"""Memory timeline of one `newslake ingest`: every process of its tree sampled over time, tagged with the flow's stage.

Usage: python benchmarks/timeline.py OUT.csv --lake LAKE [--every 0.5] -- CMD ...   (record while CMD runs)
       python benchmarks/timeline.py OUT.csv --summary                               (summarise a recorded CSV)
       (``benchmarks/dumps.py --timeline DIR`` records one per ingest it measures)

Each sample writes one CSV row per process: seconds since the start, pid, parent pid, role (``run``: the
command's own process; ``worker``: a Dask worker process, forked or spawned by it; ``other``: anything else it
started), PSS and RSS in MB, and the stage, told by what the run leaves in the lake folder: ``starting`` until
the first read batch is staged, ``reading files`` while batches are staged, ``resolve`` while the duplicate
decision's DuckDB file exists, ``analysing articles`` once its keep list is written, ``commit`` once the run
stages its file rows for the commit (``compact`` while a compacted file is being written), ``refresh`` once
the run's working folder is gone. The stage only moves forward. ``summarise`` gives, per stage, the largest
PSS of the tree, of the run's process and of each worker, and the tree's peak with its parts.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

FIELDS = ["t", "pid", "ppid", "role", "pss_mb", "rss_mb", "stage"]
ORDER = ("starting", "reading files", "resolve", "analysing articles", "commit", "refresh")


class Stage:
    """The run's stage, from the working files it leaves in the lake folder (see the module's docstring)."""

    def __init__(self, lake: Path):
        self.lake = lake
        self.reached = 0
        self.seen_work = False

    def now(self) -> str:
        work = [w for w in (self.lake / "_work").glob("*") if w.is_dir()]
        self.seen_work |= bool(work)
        resolved = [w / "resolved" for w in work]
        if self.seen_work and not work:
            self._reach("refresh")
        elif any((self.lake / "lake" / "_staging").glob("*/files")):
            self._reach("commit")
        elif any((r / "keep.parquet").exists() for r in resolved):
            self._reach("analysing articles")
        elif any((r / "resolve.duckdb").exists() for r in resolved):
            self._reach("resolve")
        elif any(any((w / "accounts").glob("p*.parquet")) for w in work):
            self._reach("reading files")
        stage = ORDER[self.reached]
        if stage == "commit" and (any(self.lake.glob("lake/*/.compacted-*.tmp")) or any(self.lake.glob("lake/*/*/.compacted-*.tmp"))):
            return "compact"
        return stage

    def _reach(self, name: str) -> None:
        self.reached = max(self.reached, ORDER.index(name))


class Sampler:
    """Samples, every ``every`` seconds in a thread, each process under ``parent`` (recursively; without the
    pids in ``exclude`` and their children) into ``out``; the direct child is the run. Use as a context manager."""

    def __init__(self, out: Path, lake: Path, parent: int | None = None, exclude: set[int] = frozenset(), every: float = 0.5):
        self.out, self.stage, self.every = out, Stage(Path(lake).resolve()), every
        self.parent, self.exclude = psutil.Process(parent or os.getpid()), set(exclude)
        self.rows: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        return summarise(self.rows)

    def _tree(self) -> list[tuple[psutil.Process, str]]:
        out = []
        for child in self.parent.children():
            if child.pid in self.exclude:
                continue
            out.append((child, "run"))
            for p in child.children(recursive=True):
                out.append((p, _role(p, child)))
        return out

    def _run(self) -> None:
        with open(self.out, "w", newline="") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            while not self._stop.is_set():
                t = round(time.perf_counter() - self._t0, 2)
                try:
                    tree = self._tree()
                    stage = self.stage.now() if tree else None
                except (psutil.Error, OSError):
                    tree = []
                for p, role in tree:
                    try:
                        info = p.memory_full_info()
                        row = {"t": t, "pid": p.pid, "ppid": p.ppid(), "role": role, "pss_mb": round(info.pss / 2**20, 1),
                               "rss_mb": round(info.rss / 2**20, 1), "stage": stage}
                    except psutil.Error:
                        continue
                    writer.writerow(row)
                    self.rows.append(row)
                fh.flush()
                self._stop.wait(self.every)


def _role(p: psutil.Process, run: psutil.Process) -> str:
    try:
        cmd, ppid = " ".join(p.cmdline()), p.ppid()
    except psutil.Error:
        return "other"
    # forked Dask workers keep the run's command line; spawned ones run multiprocessing's spawn or forkserver
    return "worker" if "multiprocessing.spawn" in cmd or "multiprocessing.forkserver" in cmd or (
        ppid == run.pid and cmd == " ".join(run.cmdline())) else "other"


def summarise(rows: list[dict]) -> dict:
    """Per stage: seconds from and to, the largest PSS of the tree, of the run's process and of each worker;
    overall: the tree's peak, when, in which stage, and each process's PSS then."""
    by_t: dict[float, list[dict]] = defaultdict(list)
    for r in rows:
        by_t[float(r["t"])].append(r)
    stages: dict[str, dict] = {}
    peak = (0.0, 0.0, [])
    for t, procs in sorted(by_t.items()):
        total = sum(float(r["pss_mb"]) for r in procs)
        s = stages.setdefault(procs[0]["stage"], {"from_s": t, "to_s": t, "tree_mb": 0, "run_mb": 0, "workers_mb": {}})
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


def describe(summary: dict) -> str:
    lines = [f"peak {summary['peak_mb']:,} MB PSS at {summary['peak_t']:.0f} s ({summary['peak_stage']}): " + ", ".join(summary["peak_parts"])]
    for name, s in summary["stages"].items():
        workers = ", ".join(f"{v:,}" for v in s["workers_mb"].values()) or "-"
        lines.append(f"  {name:20} {s['from_s']:>7.0f}-{s['to_s']:<7.0f} s  tree {s['tree_mb']:>6,}  run {s['run_mb']:>6,}  workers {workers}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--lake", type=Path)
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--summary", action="store_true", help="only summarise an existing CSV")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, cmd = ap.parse_args(argv[:cut]), argv[cut + 1:]
    if args.summary:
        with open(args.out, newline="") as fh:
            print(describe(summarise(list(csv.DictReader(fh)))))
        return
    if not cmd or args.lake is None:
        sys.exit("give --lake LAKE and the command after --")
    with Sampler(args.out, args.lake, every=args.every) as sampler:
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if code.returncode:
        sys.exit(f"{' '.join(cmd[:3])} ... failed with {code.returncode}:\n{code.stderr[-3000:]}")
    print(describe(sampler.summary()))


if __name__ == "__main__":
    main()
