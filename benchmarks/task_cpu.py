"""CPU seconds of the helper task bodies of an ingest (``_profile``, ``_prepare``, ``_analyse`` of flows/ingest.py),
called as the flow calls them, with their scratch and staging writes, without Prefect.

Usage: python benchmarks/task_cpu.py FOLDER [--nlp dictionary] [--rounds 3]

Each round runs in a process forked from this one once the NLP pipeline is loaded and every object frozen
for the garbage collector, as a run's helpers are forked: the words and the first calls of every library
are new to it. The batches are the flow's for two workers (the default settings); the duplicate decision
between prepare and analyse runs in the round's process but is not counted. Prints each stage's CPU
seconds per round. Compare a branch with another by running this script from each worktree (PYTHONPATH
set to it), alternating, as ``record_cpu.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from flows import ingest
from flows.discover import discover_files
from flows.lake import Lake
from flows.resolve import resolve_staged
from flows.scratch import RunScratch
from flows.settings import Settings
from transforms.batch import ReadOptions, weighed_chunks
from transforms.boilerplate import drop_lines


def one_round(folder: str, settings: Settings) -> dict[str, float]:
    """The three stages over FOLDER into a fresh lake, timed (call in a forked process)."""
    options = ReadOptions(settings.json_fields(), settings.max_file_bytes, settings.max_gzip_ratio, settings.max_line_bytes)
    files, _ = discover_files([folder], settings.exclude, special=True)
    batches = weighed_chunks(files, settings.batch_size, 2 * settings.workers, ingest.MIN_BATCH, settings.dump_batch)
    parts = [f"p{n:05d}" for n in range(len(batches))]
    lake = Lake(settings.lake, settings.retention_seconds, settings.compact_files)
    now = datetime.now(timezone.utc)
    run_id = ingest.new_run_id(now)
    scratch = RunScratch(settings.lake, run_id)
    seconds = {}
    with lake.writing():
        gc.freeze()
        start = time.process_time()
        profiles = [ingest._profile(b, {}, options) for b in batches]
        seconds["profile"] = time.process_time() - start
        lines = drop_lines(ingest.boilerplate_lines.fn(lake, profiles, settings))
        gc.freeze()
        start = time.process_time()
        for n, batch in enumerate(batches):
            ingest._prepare(batch, n + 1, {}, lines, options, parts[n], scratch)
        seconds["prepare"] = time.process_time() - start
        resolution = resolve_staged(lake, scratch, parts, settings.near_duplicate_threshold, run_id, now)
        work = ingest.chunks(range(resolution.kept), settings, ingest.analyse_tasks_per_worker(settings))
        gc.freeze()  # what the decision left, as a helper never holds it
        start = time.process_time()
        for n, rows in enumerate(work):
            ingest._analyse(rows, f"a{n:05d}", lake, settings, scratch, run_id, now)
        seconds["analyse"] = time.process_time() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--nlp", default="dictionary")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="newslake-task-cpu-"))
    settings = Settings.load(nlp=args.nlp, lake=root / "lake")
    ingest.annotator(settings)
    gc.collect()
    gc.freeze()
    seconds: dict[str, list[float]] = {"profile": [], "prepare": [], "analyse": []}
    try:
        for _ in range(args.rounds):
            shutil.rmtree(settings.lake, ignore_errors=True)
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the round's process: it reports its seconds and ends, whatever happens
                code = 1
                try:
                    os.close(read)
                    os.write(write, json.dumps(one_round(args.folder, settings)).encode())
                    code = 0
                finally:
                    os._exit(code)
            os.close(write)
            with os.fdopen(read) as fh:
                got = json.loads(fh.read())
            os.waitpid(pid, 0)
            for stage, value in got.items():
                seconds[stage].append(value)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for stage, values in seconds.items():
        print(f"{stage:8s} " + " ".join(f"{v:.3f}" for v in values) + " CPU-s")
    print("total    " + " ".join(f"{sum(v):.3f}" for v in zip(*seconds.values())) + " CPU-s")


if __name__ == "__main__":
    main()
