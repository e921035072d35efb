"""Scaling benchmark: does a small run cost more on a big lake?

Usage: python benchmarks/synthetic_lake.py [N ...] [--repeat K] [--no-marts] [--flow [--offset I]] [--keep DIR]   (default N: 0 100000 1000000, K 3)

For each N, writes a synthetic lake of N articles through the real Lake API (no NLP: articles with
text, ~20 sentences and ~28 mentions each, actors with a Zipf-like spread, one files row per
article, MinHash signatures and their LSH band keys), one commit per chunk of 50,000 articles. Then,
in a fresh process, measures the lake side of a 5-file run: the four restricted lookups
(file_history, existing_articles, signature_candidates, source_lines), reading and rewriting
``actors`` as the commit task does, staging and committing 5 articles, and refreshing the DuckDB
views (the best of K runs, each adding 5 new articles; peak memory the largest). With ``--flow`` it also runs the real
``newslake ingest`` on 5 BBC files (or seeds/articles)
and reports the flow's own seconds. Prints one table row per N: seconds and peak RSS of each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.lake import Lake  # noqa: E402
from transforms.dedup import MINHASH, band_keys  # noqa: E402
from transforms.schemas import TABLES, to_table  # noqa: E402

CHUNK = 50_000
SOURCES = [f"source{i:02d}" for i in range(12)]
WORDS = [f"w{i}" for i in range(20_000)]
LABELS = np.array(["GPE", "PERSON", "ORG", "NORP", "LOC"])
METHODS = np.array(["dictionary", "alias", "model-only", "person-merge", "unlinked"])
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _corpus(rng: np.random.Generator) -> str:
    """About 4 MB of text whose word frequencies follow Zipf's law, sliced into article texts."""
    ranks = np.minimum(rng.zipf(1.2, size=700_000), len(WORDS)) - 1
    words = [WORDS[r] for r in ranks]
    for i in range(0, len(words), 18):
        words[i] = words[i].capitalize()
        if i:
            words[i - 1] += "."
    return " ".join(words)


def actor_ids(n_articles: int) -> list[str]:
    """Actor ids: 249 countries plus model-found people and organisations growing with the lake."""
    extra = max(200, n_articles // 20)
    return [f"C{i:03d}" for i in range(249)] + [f"person:p{i}" for i in range(extra // 2)] + [f"org:o{i}" for i in range(extra // 2)]


def chunk_tables(rng: np.random.Generator, corpus: str, start: int, count: int, actors: list[str], run_id: str) -> dict[str, pa.Table]:
    """The rows of ``count`` synthetic articles numbered from ``start``."""
    ids = [f"{rng.integers(0, 2**63):016x}" for _ in range(count)]
    lengths = np.clip(rng.lognormal(7.6, 0.5, size=count).astype(int), 300, 12_000)
    offsets = rng.integers(0, len(corpus) - 12_001, size=count)
    texts = [corpus[o : o + n] for o, n in zip(offsets, lengths)]
    now = T0 + timedelta(seconds=start)
    sources = rng.choice(SOURCES, size=count)
    n_sent = np.maximum(1, lengths // 110)
    n_ment = rng.poisson(28, size=count)
    articles = {
        "article_id": ids, "source_uri": [f"/corpus/{s}/{start + i}.txt" for i, s in enumerate(sources)], "source_name": sources,
        "title": [t[:60] for t in texts], "text": texts, "published_at": [now] * count, "language": ["en"] * count,
        "nlp_status": ["analysed"] * count, "duplicate_of": [None] * count, "n_sentences": n_sent.astype(np.int32),
        "n_mentions": n_ment.astype(np.int32), "n_words": (lengths // 6).astype(np.int32), "boilerplate_chars": np.zeros(count, np.int32),
        "encoding": ["utf-8"] * count, "ingested_at": [now] * count, "run_id": [run_id] * count,
    }
    s_aid, s_id, s_start, s_end, s_text = [], [], [], [], []
    for aid, text, k in zip(ids, texts, n_sent):
        step = len(text) // k
        for j in range(k):
            a, b = j * step, len(text) if j == k - 1 else (j + 1) * step
            s_aid.append(aid), s_id.append(j + 1), s_start.append(a), s_end.append(b), s_text.append(text[a:b])
    sentences = {"article_id": s_aid, "sentence_id": np.array(s_id, np.int32), "start_char": np.array(s_start, np.int32),
                 "end_char": np.array(s_end, np.int32), "text": s_text}
    total = int(n_ment.sum())
    m_aid = np.repeat(np.array(ids, dtype=object), n_ment)
    m_id = np.concatenate([np.arange(1, k + 1, dtype=np.int32) for k in n_ment]) if total else np.array([], np.int32)
    who = np.minimum(rng.zipf(1.3, size=total), len(actors)) - 1
    actor_arr = np.array(actors, dtype=object)[who]
    method = METHODS[rng.integers(0, len(METHODS), size=total)]
    mentions = {"article_id": m_aid, "sentence_id": np.ones(total, np.int32), "mention_id": m_id, "start_char": np.zeros(total, np.int32),
                "end_char": np.full(total, 4, np.int32), "text": [a.split(":")[-1] for a in actor_arr], "label": LABELS[who % len(LABELS)],
                "actor_id": [None if m == "unlinked" else a for a, m in zip(actor_arr, method)], "role": [None] * total, "link_method": method}
    minhash = rng.integers(0, 2**64 - 1, size=(count, 120), dtype=np.uint64, endpoint=True)
    signatures = pa.table({"article_id": ids, "minhash": pa.FixedSizeListArray.from_arrays(minhash.reshape(-1), 120).cast(pa.list_(pa.uint64()))})
    files = {"run_id": [run_id] * count, "path": articles["source_uri"], "record": [None] * count, "size": lengths.astype(np.int64),
             "sha256": [f"{rng.integers(0, 2**63):016x}" for _ in range(count)], "status": ["ingested"] * count, "reason": [None] * count,
             "article_id": ids, "encoding": ["utf-8"] * count, "seen_at": [now] * count, "etag": [None] * count}
    return {
        "articles": pa.table(articles).cast(TABLES["articles"]), "sentences": pa.table(sentences).cast(TABLES["sentences"]),
        "mentions": pa.table(mentions).cast(TABLES["mentions"]), "signatures": signatures.cast(TABLES["signatures"]),
        "files": pa.table(files).cast(TABLES["files"]),
    }


def run_row(run_id: str, files: int) -> dict:
    return {"run_id": run_id, "started_at": T0, "finished_at": T0, "files_seen": files, "records_seen": files, "articles_retired": 0,
            "articles_written": files, "sentences_written": 0, "mentions_written": 0, "model": "synthetic", "table_versions": None, "minhash_scheme": MINHASH}


def write_lake(root: Path, n_articles: int, seed: int = 7) -> float:
    """Write a synthetic lake of ``n_articles`` into ``root``; returns seconds taken."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    corpus = _corpus(rng)
    actors = actor_ids(n_articles)
    lake = Lake(root, compact_files=10_000)
    actor_rows = [{"actor_id": a, "name": a.split(":")[-1], "type": "country" if a.startswith("C") else a.split(":")[0],
                   "country_code": None, "parent": None, "affiliation": None, "source": "seed" if a.startswith("C") else "model",
                   "wikidata_qid": None, "valid_from": None, "valid_to": None} for a in actors]
    with lake.writing():
        for n, start in enumerate(range(0, n_articles, CHUNK)):
            run_id = f"synthetic{n:04d}"
            tables = chunk_tables(rng, corpus, start, min(CHUNK, n_articles - start), actors, run_id)
            staged = {name: [lake.stage(name, rows, run_id, "p0")] for name, rows in tables.items()}
            if n == 0:
                staged["actors"] = [lake.stage("actors", to_table(actor_rows, TABLES["actors"]), run_id, "all")]
                lines = [{"source_name": s, "line": f"Share this story {s}", "n_articles": 50} for s in SOURCES]
                staged["source_lines"] = [lake.stage("source_lines", to_table(lines, TABLES["source_lines"]), run_id, "all")]
            staged["runs"] = [lake.stage("runs", to_table([run_row(run_id, len(tables["articles"]))], TABLES["runs"]), run_id, "run")]
            lake.commit(run_id, staged, date(2026, 1, 1) + timedelta(days=n))
            print(f"  wrote {start + len(tables['articles']):,} / {n_articles:,} articles", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it starts afresh at exec)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def small_run(root: str, seed: int = 11, marts: bool = True) -> dict:
    """The lake side of a 5-file run, timed step by step (runs in a fresh process; see ``main``)."""
    from flows import warehouse
    from flows.settings import Settings

    rng = np.random.default_rng(seed)
    corpus = _corpus(rng)
    lake = Lake(Path(root))
    run_id = f"bench{seed}"
    steps = {}
    t0 = time.perf_counter()
    with lake.writing():
        steps["open"] = time.perf_counter() - t0
        known = [f"/corpus/{SOURCES[0]}/{i}.txt" for i in range(20)]
        new = chunk_tables(rng, corpus, 10**9 + 10 * seed, 5, actor_ids(100), run_id)
        t = time.perf_counter()
        history = lake.file_history(new["files"].column("path").to_pylist() + known)
        existing = lake.existing_articles(new["articles"].column("article_id").to_pylist())
        keys = [k for mh in new["signatures"].column("minhash").to_pylist() for k in band_keys(np.asarray(mh, np.uint64))]
        candidates = lake.signature_candidates(keys)
        lines = lake.source_lines(SOURCES[:2])
        steps["lookups"] = time.perf_counter() - t
        t = time.perf_counter()
        actors = lake.read("actors")
        staged = {name: [lake.stage(name, rows, run_id, "p0")] for name, rows in new.items()}
        staged["actors"] = [lake.stage("actors", actors, run_id, "all")]
        staged["runs"] = [lake.stage("runs", to_table([run_row(run_id, 5)], TABLES["runs"]), run_id, "run")]
        lake.commit(run_id, staged, date(2026, 6, 1))
        steps["commit"] = time.perf_counter() - t
        t = time.perf_counter()
        warehouse.refresh(lake, Settings().sql_dir, export_marts=False)
        steps["views"] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - t0
    peak = peak_rss_kb()
    if marts:
        t = time.perf_counter()
        warehouse.refresh(lake, Settings().sql_dir)
        steps["marts"] = time.perf_counter() - t - steps["views"]
    return {"steps": {k: round(v, 3) for k, v in steps.items()}, "found": [len(history), len(existing), len(candidates), len(lines)],
            "peak_rss_mb": round(peak / 1024)}


def five_files(offset: int = 0) -> list[str]:
    """Five BBC politics files (the ``offset``-th five, so a kept lake gets new ones), else seeds/articles."""
    corpora = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora")) / "bbc" / "politics"
    if corpora.exists():
        return [str(p) for p in sorted(corpora.glob("*.txt"))[5 * offset : 5 * offset + 5]]
    return [str(ROOT / "seeds" / "articles")]


def flow_run(root: Path, inputs: Path) -> dict:
    """The real ``newslake ingest`` of 5 files; the flow's own seconds (from ``runs``) and the command's peak RSS."""
    newslake = Path(sys.executable).parent / "newslake"
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
               "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, str(newslake), "ingest", str(inputs), "--lake", str(root)], check=True,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    import duckdb

    with duckdb.connect(str(root / "newslake.duckdb"), read_only=True) as con:
        seconds = con.execute("select seconds from latest_run").fetchone()[0]
    return {"flow_seconds": seconds, "wall_seconds": round(wall, 1), "peak_rss_mb": round(int(done.stdout.split()[-1]) / 1024)}


def main() -> None:
    args = sys.argv[1:]
    flow = "--flow" in args
    marts = "--no-marts" not in args
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    repeat = int(args.pop(args.index("--repeat") + 1)) if "--repeat" in args else 3
    offset = int(args.pop(args.index("--offset") + 1)) if "--offset" in args else 0
    sizes = [int(a) for a in args if a.isdigit()] or [0, 100_000, 1_000_000]
    rows = []
    for n in sizes:
        root = (keep / f"lake{n}") if keep else Path(tempfile.mkdtemp(prefix=f"synthetic{n}-"))
        try:
            if not (root / "lake" / "runs").exists():
                written = write_lake(root, n)
            else:
                written = 0.0
            files = {t: len(Lake(root).files(t)) for t in TABLES}
            runs = []
            for k in range(repeat):
                code = f"import json, benchmarks.synthetic_lake as b; print(json.dumps(b.small_run({str(root)!r}, {21 + 10 * offset + k}, {marts and k == 0})))"
                done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            best = {step: min(r["steps"][step] for r in runs if step in r["steps"]) for step in runs[0]["steps"]}
            row = {"articles": n, "write_seconds": round(written, 1), "files": files, "steps": best, "found": runs[0]["found"],
                   "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "all": [r["steps"] for r in runs]}
            if flow:
                inputs = Path(tempfile.mkdtemp(prefix="five-"))
                for p in five_files(offset):
                    (shutil.copytree if Path(p).is_dir() else shutil.copy)(p, inputs / Path(p).name)
                row["flow"] = flow_run(root, inputs)
                shutil.rmtree(inputs)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            if keep is None:
                shutil.rmtree(root, ignore_errors=True)
    base = rows[0]
    print(f"{'articles':>10} {'run s':>7} {'lookups s':>9} {'commit s':>8} {'views s':>8} {'peak MB':>7} {'vs first':>8} {'marts s':>8}"
          + (f" {'flow s':>7} {'wall s':>7} {'flow MB':>7}" if flow else ""))
    for r in rows:
        s = r["steps"]
        line = (f"{r['articles']:>10,} {s['total']:>7.2f} {s['lookups']:>9.3f} {s['commit']:>8.3f} {s['views']:>8.3f} "
                f"{r['peak_rss_mb']:>7} {s['total'] / base['steps']['total']:>7.2f}x {s.get('marts', float('nan')):>8.2f}")
        if flow:
            line += f" {r['flow']['flow_seconds']:>7.2f} {r['flow']['wall_seconds']:>7.1f} {r['flow']['peak_rss_mb']:>7}"
        print(line)


if __name__ == "__main__":
    main()
