"""CPU seconds of the per-record stages of an ingest, called directly in one process (no Prefect, no lake).

Usage: python benchmarks/record_cpu.py FOLDER [--nlp dictionary] [--reps 3] [--pattern '*.txt']

Reads every file of FOLDER as the ``profile-sources``, ``prepare`` and ``analyse`` tasks do
(``read_file``, ``profile_files``, ``prepare_files`` with the lines the profile finds repeated,
``Annotator.analyse`` of the prepared texts) ``--reps`` times and prints each stage's CPU seconds per
repetition. The first repetition's ``analyse`` is what a run's forked process pays (spaCy meets every word
for the first time); the later ones are the same process with the words known. Compare a branch with
another by running this script from each worktree (PYTHONPATH set to it), alternating.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from flows.discover import read_file
from flows.ingest import annotator
from flows.settings import Settings
from transforms.batch import ReadOptions, prepare_files, profile_files
from transforms.boilerplate import drop_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--nlp", default="dictionary")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pattern", default="*.txt")
    args = parser.parse_args()
    paths = sorted(str(p) for p in Path(args.folder).rglob(args.pattern))
    settings = Settings.load(nlp=args.nlp)
    options = ReadOptions(settings.json_fields(), settings.max_file_bytes, settings.max_gzip_ratio, settings.max_line_bytes)
    pipeline = annotator(settings)
    seconds: dict[str, list[float]] = {"profile": [], "prepare": [], "analyse": []}
    for _ in range(args.reps):
        start = time.process_time()
        profile = profile_files((read_file(p, options.max_bytes) for p in paths), {}, options)
        seconds["profile"].append(time.process_time() - start)
        lines = drop_lines(profile.merged_with([], settings.boilerplate_min_articles, settings.boilerplate_min_share))
        start = time.process_time()
        batch = prepare_files((read_file(p, options.max_bytes) for p in paths), {}, lines, options, "p0")
        seconds["prepare"].append(time.process_time() - start)
        start = time.process_time()
        analyses = list(pipeline.analyse(a["text"] for a in batch.articles))
        seconds["analyse"].append(time.process_time() - start)
    print(f"{len(paths)} files, {len(batch.articles)} articles, {sum(len(a.mentions) for a in analyses)} mentions ({args.nlp})")
    for stage, values in seconds.items():
        print(f"{stage:8s} " + " ".join(f"{v:.3f}" for v in values) + " CPU-s")


if __name__ == "__main__":
    main()
