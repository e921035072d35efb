"""Throughput benchmark: newslake against the script a user would write by hand.

Usage: python benchmarks/throughput.py [--rounds N] [--corpus DIR] [--bbc DIR]
       (defaults: 3 rounds, $NEWSLAKE_CORPORA/bbc/politics and $NEWSLAKE_CORPORA/bbc, else ../shared/corpora)

1. On the corpus (BBC politics), in alternating rounds, each into a fresh folder: the peer script
   (../shared/bench/naive_baseline.py: stock spaCy over the files, pandas to Parquet, one DuckDB GROUP
   BY), `newslake ingest` in model mode, `newslake ingest --nlp dictionary`, then a no-op rerun of the
   model-mode lake. Medians of each, and the peer/newslake wall ratio of every round.
2. On all of BBC and on a quarter of it (model mode, default settings): peak memory and its growth,
   and the no-op rerun's share of the first run's wall time.

Every figure is of the whole process tree: wall seconds from start to exit, CPU seconds (user+system of
the command and every process it started and waited for), peak resident memory of the tree (the sum
of its processes' proportional set sizes, PSS, sampled every 50 ms: pages shared by forked workers
count once; the JSON also has the peak sum of RSS, which counts them once per process). newslake reports to a background Prefect server (started
here when none runs, as `newslake server start` does for a user); that server's CPU during each run is
added to newslake's CPU seconds, its memory is shown on its own line (it is shared by all runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora"))
PEER = ROOT.parent / "shared" / "bench" / "naive_baseline.py"
BIN = ROOT / ".venv" / "bin"
QUIET = {"PYTHONWARNINGS": "ignore"}


class Measured(dict):
    """wall_s, cpu_s, peak_mb of one command (plus what the caller adds)."""


def measure(cmd: list[str], env: dict[str, str] | None = None, server: psutil.Process | None = None) -> Measured:
    """Run ``cmd`` to completion; its wall and CPU seconds and the peak memory of its process tree."""
    server_cpu = _cpu(server)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **QUIET, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root, peak, peak_rss = psutil.Process(proc.pid), 0, 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            tree = [_memory(p) for p in (root, *root.children(recursive=True))]
            peak = max(peak, sum(pss for pss, _ in tree))
            peak_rss = max(peak_rss, sum(rss for _, rss in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    reader.join()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:3])} ... failed with {proc.returncode}:\n{''.join(output)[-2000:]}")
    cpu = _children_cpu_delta()
    return Measured(wall_s=round(wall, 2), cpu_s=round(cpu + (_cpu(server) - server_cpu), 1), peak_mb=round(peak / 2**20),
                    peak_rss_sum_mb=round(peak_rss / 2**20), output="".join(output))


def _memory(p: psutil.Process) -> tuple[int, int]:
    """(PSS, RSS) of one process: PSS shares each page among the processes mapping it, so summed over
    a tree it counts a forked worker's inherited pages once, which a sum of RSS counts per process."""
    try:
        info = p.memory_full_info()
        return info.pss, info.rss
    except psutil.Error:
        return 0, 0


_LAST_CHILD_CPU = [0.0]


def _children_cpu_delta() -> float:
    """CPU seconds of waited-for child processes (and their waited-for descendants) since the last call."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _LAST_CHILD_CPU[0] = total - _LAST_CHILD_CPU[0], total
    return delta


def _cpu(p: psutil.Process | None) -> float:
    if p is None:
        return 0.0
    try:
        t = p.cpu_times()
        return t.user + t.system + sum(c.cpu_times().user + c.cpu_times().system for c in p.children(recursive=True))
    except psutil.Error:
        return 0.0


def peer(corpus: Path, out: str) -> Measured:
    m = measure([str(BIN / "python"), str(PEER), str(corpus), out])
    found = re.search(r"words=(\d+).*seconds=([\d.]+) wps=(\d+)", m["output"])
    m.update(words=int(found[1]), words_per_s_inside=int(found[3]))
    return m


def newslake(paths: list[str], lake: str, server: psutil.Process | None, *flags: str) -> Measured:
    m = measure([str(BIN / "newslake"), "ingest", *paths, "--lake", lake, *flags], server=server)
    import duckdb

    with duckdb.connect(f"{lake}/newslake.duckdb", read_only=True) as con:
        run_id, seconds, model = con.execute(
            "select run_id, seconds, model from latest_run").fetchone()
        words = con.execute("select coalesce(sum(n_words), 0) from articles where run_id = $r", {"r": run_id}).fetchone()[0]
    m.update(flow_s=seconds, model=model, words=int(words), words_per_s_inside=round(words / seconds) if seconds and words else 0)
    return m


def background_server() -> tuple[psutil.Process, bool]:
    """The background Prefect server's process, and whether this benchmark started it."""
    sys.path.insert(0, str(ROOT))
    from flows import prefect_env
    from flows.settings import Settings

    home = prefect_env.home(Settings.load().prefect_home)
    started = prefect_env.running_server(home) is None
    state = prefect_env.start_server(home)
    os.environ["PREFECT_API_URL"] = state["api_url"]
    return psutil.Process(state["pid"]), started


def median(runs: list[Measured], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=CORPORA / "bbc" / "politics")
    ap.add_argument("--bbc", type=Path, default=CORPORA / "bbc")
    args = ap.parse_args()
    if not args.corpus.exists() or not PEER.exists():
        sys.exit(f"corpus {args.corpus} or peer script {PEER} is absent")
    server, started = background_server()
    _children_cpu_delta()
    rows: dict[str, list[Measured]] = {"peer": [], "model": [], "dictionary": [], "rerun": []}
    try:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                rows["peer"].append(peer(args.corpus, f"{tmp}/peer"))
                rows["model"].append(newslake([str(args.corpus)], f"{tmp}/model", server))
                rows["dictionary"].append(newslake([str(args.corpus)], f"{tmp}/dictionary", server, "--nlp", "dictionary"))
                rows["rerun"].append(newslake([str(args.corpus)], f"{tmp}/model", server))
        scale = scaling(args.bbc, server) if args.bbc.exists() else None
        server_mb = round(server.memory_info().rss / 2**20)
    finally:
        if started:
            from flows import prefect_env
            from flows.settings import Settings

            prefect_env.stop_server(prefect_env.home(Settings.load().prefect_home))
    print_table(args, rows, scale, server_mb)


def scaling(bbc: Path, server: psutil.Process) -> dict:
    """Model mode on a quarter of BBC and on all of it (fresh lakes), then three no-op reruns of all of it."""
    files = sorted(str(p) for p in bbc.rglob("*.txt") if p.name != "README.TXT")
    quarter = files[: len(files) // 4]
    with tempfile.TemporaryDirectory() as tmp:
        part = newslake(quarter, f"{tmp}/quarter", server)
        whole = newslake([str(bbc)], f"{tmp}/all", server)
        reruns = [newslake([str(bbc)], f"{tmp}/all", server) for _ in range(3)]
        rerun = sorted(reruns, key=lambda m: m["wall_s"])[1]  # the median of three
    return {"quarter": part, "all": whole, "rerun": rerun, "files": (len(quarter), len(files))}


def print_table(args, rows: dict[str, list[Measured]], scale: dict | None, server_mb: int) -> None:
    peer_rows, words = rows["peer"], rows["peer"][0]["words"]
    print(f"\n{args.corpus} ({words:,} words), {args.rounds} alternating rounds, medians; "
          f"newslake reports to a background Prefect server ({server_mb:,} MB resident, shared by all runs)\n")
    header = f"{'':28}{'wall s':>8}{'CPU s':>8}{'words/s':>10}{'words/s in':>12}{'peak MB':>9}{'peer/this':>11}"
    print("peak MB: summed PSS of the command's processes; peer/this: the peer's wall time over this one's\n")
    print(header + "\n" + "-" * len(header))
    for name, label in (("peer", "peer script (stock spaCy)"), ("model", "newslake, model mode"),
                        ("dictionary", "newslake, dictionary mode"), ("rerun", "newslake, no-op rerun")):
        runs = rows[name]
        ratios = [p["wall_s"] / r["wall_s"] for p, r in zip(peer_rows, runs)]
        wall = median(runs, "wall_s")
        inside = median(runs, "words_per_s_inside") if name != "rerun" else 0
        print(f"{label:28}{wall:>8.1f}{median(runs, 'cpu_s'):>8.1f}{words / wall if name != 'rerun' else 0:>10,.0f}"
              f"{inside:>12,.0f}{median(runs, 'peak_mb'):>9,.0f}"
              f"{'' if name == 'peer' else f'{statistics.median(ratios):.2f}x':>11}")
    print("\nwords/s in: inside the run (peer: from model load to exit; newslake: the Prefect flow's own seconds)")
    peer_inside = median(peer_rows, "words_per_s_inside")
    for name in ("model", "dictionary"):
        pairs = ", ".join(f"{p['wall_s'] / r['wall_s']:.2f}" for p, r in zip(peer_rows, rows[name]))
        print(f"  {name}: wall ratio per round {pairs}; words/s inside vs peer {median(rows[name], 'words_per_s_inside') / peer_inside:.1f}x")
    print(f"  no-op rerun: {median(rows['rerun'], 'wall_s') / median(rows['model'], 'wall_s'):.1%} of the first run's wall time")
    if scale:
        q, a, r = scale["quarter"], scale["all"], scale["rerun"]
        nq, na = scale["files"]
        print(f"\nAll of BBC ({na:,} files), model mode: first run {a['wall_s']:.1f} s wall, {a['cpu_s']:.1f} CPU s, "
              f"{a['words_per_s_inside']:,} words/s in the flow, peak {a['peak_mb']:,} MB")
        print(f"  no-op rerun (median of 3) {r['wall_s']:.1f} s = {r['wall_s'] / a['wall_s']:.1%} of the first run")
        print(f"  a quarter of it ({nq:,} files): peak {q['peak_mb']:,} MB; all vs quarter: {a['peak_mb'] / q['peak_mb']:.2f}x "
              f"memory for {na / nq:.1f}x the files")
    print("\n" + json.dumps({k: [{x: y for x, y in m.items() if x != "output"} for m in v] for k, v in rows.items()}
                            | ({"scaling": {k: v if k == "files" else {x: y for x, y in v.items() if x != "output"}
                                            for k, v in scale.items()}} if scale else {}), default=str))


if __name__ == "__main__":
    main()
