"""Throughput benchmark: newslake against the script a user would write by hand.

Usage: python benchmarks/throughput.py [--rounds N] [--corpus DIR] [--bbc DIR]
       (defaults: 3 rounds, $NEWSLAKE_CORPORA/bbc/politics and $NEWSLAKE_CORPORA/bbc, else ../shared/corpora)

1. On the corpus (BBC politics), in alternating rounds, each into a fresh folder: the peer script
   (../shared/bench/naive_baseline.py: stock spaCy over the files, pandas to Parquet, one DuckDB GROUP
   BY), `newslake ingest` in model mode, `newslake ingest --nlp dictionary`, then a no-op rerun of the
   model-mode lake. Medians of each, and the peer/newslake wall ratio of every round.
2. On all of BBC and on a quarter of it (model mode, default settings): peak memory and its growth,
   and the no-op rerun's share of the first run's wall time.
3. The seed article (seeds/articles) into a fresh lake, alternating cold and warm.

Every newslake figure is measured twice, alternating: cold (NEWSLAKE_WARM=0: the command runs in its own
process) and warm (the command runs in a child forked from the warm process that `newslake server start`
leaves running; see flows/warm.py).

Every command starts once the Prefect server and the warm process are idle (the server records a run's
events for a while after it). Every figure is of the whole process tree: wall seconds from start to exit, CPU seconds (user+system of
the command and every process it started and waited for), peak resident memory of the tree (the sum
of its processes' proportional set sizes, PSS, sampled every 50 ms: pages shared by forked workers
count once; the JSON also has the peak sum of RSS, which counts them once per process). newslake reports to a background Prefect server (started
here when none runs, as `newslake server start` does for a user); that server's CPU during each run is
added to newslake's CPU seconds, its memory is shown on its own line (it is shared by all runs). A warm
command's work happens in the warm process's child, not in the command's process tree: its CPU seconds
add the warm process's own CPU and that of its waited-for children (the child and the child's waited-for
descendants, as the kernel accounts them when the child is reaped) during the command, and its memory
adds the PSS of the warm process and of all its descendants at each sample (the warm process's pages are
the child's too: PSS counts them once).
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
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora"))
PEER = ROOT.parent / "shared" / "bench" / "naive_baseline.py"
BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv").exists() else Path(sys.executable).parent
QUIET = {"PYTHONWARNINGS": "ignore"}
# the `newslake` console script's code (flows.warm:main), as this checkout has it
NEWSLAKE = [str(BIN / "python"), "-m", "flows.warm"]
MODES = {"cold": {"NEWSLAKE_WARM": "0"}, "warm": {"NEWSLAKE_WARM": "1"}}
FLOW = "newslake-ingest"  # the flow whose runs' seconds are the "inside" figures


class Measured(dict):
    """wall_s, cpu_s, peak_mb of one command (plus what the caller adds)."""


def measure(cmd: list[str], env: dict[str, str] | None = None, server: psutil.Process | None = None,
            warm: psutil.Process | None = None, settle: tuple[psutil.Process, ...] = ()) -> Measured:
    """Run ``cmd`` to completion, once the server, the warm process and ``settle`` are idle; its wall and CPU
    seconds and the peak memory of its process tree (and of the warm process with its children, when given: a
    warm command runs there)."""
    _idle([p for p in (server, warm, *settle) if p is not None])
    server_cpu, warm_cpu = _cpu(server), _cpu_with_reaped(warm)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **QUIET, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    root = psutil.Process(proc.pid)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    sampler = _start_sampler(root.pid, warm.pid if warm is not None else None)
    proc.wait()
    wall = time.perf_counter() - t0
    reader.join()
    peak, peak_rss = _stop_sampler(sampler)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:3])} ... failed with {proc.returncode}:\n{''.join(output)[-2000:]}")
    cpu = _children_cpu_delta() + (_cpu(server) - server_cpu) + (_cpu_with_reaped(warm) - warm_cpu)
    return Measured(wall_s=round(wall, 2), cpu_s=round(cpu, 1), peak_mb=round(peak / 2**20),
                    peak_rss_sum_mb=round(peak_rss / 2**20), output="".join(output))


SAMPLER_NICE = 19
IDLE_CPU = 0.01  # CPU seconds in IDLE_WINDOW below which a process counts as idle
IDLE_WINDOW = 0.25


def _idle(processes: list[psutil.Process], timeout: float = 15) -> float:
    """Wait (at most ``timeout`` seconds) until these processes spend less than IDLE_CPU seconds of CPU in
    IDLE_WINDOW: the Prefect server records a run's events for a while after the run, and the next command
    measured would share the machine with that work (and count the server's CPU as its own). Returns the wait."""
    start = time.perf_counter()
    while processes and time.perf_counter() - start < timeout:
        before = sum(map(_cpu, processes))
        time.sleep(IDLE_WINDOW)
        if sum(map(_cpu, processes)) - before < IDLE_CPU:
            break
    return time.perf_counter() - start


def _start_sampler(root: int, warm: int | None) -> subprocess.Popen:
    """A process that samples the memory of the command's tree (and the warm process's) until told to stop
    (``_stop_sampler``). It runs at the lowest priority, in a session of its own whose scheduling group is
    lowered too: each sample has the kernel walk every process's page tables (about 2 ms a process here, some
    20% of a core for a warm run's five processes), and on two cores the command it measures would otherwise
    lose that time to it. A thread of this process at nice 19 was not enough: where Linux schedules each
    session as a group (sched_autogroup), a warm command runs in the warm process's group, which shared the
    cores evenly with this process's group, sampler included (BBC politics in dictionary mode: its flow took
    longer warm than cold). When the machine is busy, samples come later rather than slow the command."""
    from flows.prefect_env import lower_priority

    sampler = subprocess.Popen([sys.executable, __file__, "--sample", str(root), str(warm or 0)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    lower_priority(sampler.pid, SAMPLER_NICE)
    return sampler


def _stop_sampler(sampler: subprocess.Popen) -> tuple[int, int]:
    """The peak summed PSS and RSS the sampler saw (bytes), once it has stopped."""
    out, _ = sampler.communicate("", timeout=60)
    pss, rss = map(int, out.split())
    return pss, rss


def _sample(root: int, warm: int) -> None:
    """The sampler's loop (``--sample ROOT WARM``): every 50 ms until its standard input ends, the summed PSS and
    RSS of the processes under ``root`` (and under ``warm`` unless 0), as their maxima; prints both."""
    import select

    peaks = [0, 0]
    while not select.select([sys.stdin], [], [], 0.05)[0]:
        try:
            trees = [psutil.Process(pid) for pid in (root, warm) if pid]
            processes = [p for tree in trees for p in (tree, *tree.children(recursive=True))]
            sampled = [_memory(p) for p in processes]
            peaks[0] = max(peaks[0], sum(pss for pss, _ in sampled))
            peaks[1] = max(peaks[1], sum(rss for _, rss in sampled))
        except psutil.Error:
            pass
    print(*peaks)


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


def _cpu_with_reaped(p: psutil.Process | None) -> float:
    """CPU seconds of a process, of its children that it has waited for (with theirs) and of those alive now."""
    if p is None:
        return 0.0
    try:
        t = p.cpu_times()
        return _cpu(p) + t.children_user + t.children_system
    except psutil.Error:
        return 0.0


def corpus_words(paths: list[Path]) -> int:
    """Words of the input as the peer counts them: whitespace-separated words of every ``.txt`` file under
    these folders (or of these files), decoded as UTF-8 with replacement. Every words/s figure divides this
    count: newslake and the peer are timed on the same words (newslake's own ``articles.n_words`` leave out
    the titles and the articles it found to be duplicates, some 3% of BBC politics)."""
    files = [f for p in paths for f in (sorted(p.rglob("*.txt")) if p.is_dir() else [p])]
    return sum(len(f.read_bytes().decode("utf-8", errors="replace").split()) for f in files)


def peer(corpus: Path, out: str, settle: tuple[psutil.Process, ...] = ()) -> Measured:
    m = measure([str(BIN / "python"), str(PEER), str(corpus), out], settle=settle)
    found = re.search(r"words=(\d+).*seconds=([\d.]+) wps=(\d+)", m["output"])
    m.update(words=int(found[1]), words_per_s_inside=int(found[3]))
    return m


def newslake(paths: list[str], lake: str, server: psutil.Process | None, *flags: str, mode: str = "warm",
             warm: psutil.Process | None = None, words: int | None = None) -> Measured:
    """`newslake ingest` cold or warm (``mode``); a warm command that ran cold (the warm process does not match)
    stops the benchmark. Words per second inside the flow count ``words`` (``corpus_words`` of the input), else
    the words of the articles the run wrote."""
    began = datetime.now(timezone.utc)
    m = measure([*NEWSLAKE, "ingest", *paths, "--lake", lake, *flags], env={**MODES[mode], "NEWSLAKE_WARM_VERBOSE": "1"},
                server=server, warm=warm if mode == "warm" else None)
    if mode == "warm" and "newslake: warm:" not in m["output"]:
        sys.exit(f"a warm command ran cold: {m['output'][:500]}")
    import duckdb

    with duckdb.connect(f"{lake}/newslake.duckdb", read_only=True) as con:
        run_id, to_commit, model = con.execute(
            "select run_id, seconds, model from latest_run").fetchone()
        written = con.execute("select coalesce(sum(n_words), 0) from articles where run_id = $r", {"r": run_id}).fetchone()[0]
    seconds = flow_run_seconds(began)
    counted = int(written) and (words or int(written))  # a run that wrote nothing (a no-op rerun) counts none
    m.update(flow_s=seconds, to_commit_s=to_commit, model=model, words=counted, article_words=int(written),
             words_per_s_inside=round(counted / seconds) if seconds and counted else 0,
             words_per_s_to_commit=round(counted / to_commit) if to_commit and counted else 0)
    return m


def flow_run_seconds(since: datetime, api: str | None = None) -> float:
    """The seconds the command's ``newslake-ingest`` flow run spent running, as the Prefect server recorded it
    (``total_run_time``): the whole flow, from its first task to its last (the commit, the DuckDB views, the
    marts' export and the run report included), which is what "inside the flow" measures. (The ``runs`` row's
    ``seconds`` end when the run's row is made, before the commit: every figure before 2026-11-30 used those.)
    The latest flow run of that name that started after ``since``; it must have completed."""
    import httpx

    api = api or os.environ["PREFECT_API_URL"]
    found = httpx.post(f"{api.rstrip('/')}/flow_runs/filter", timeout=30,
                       json={"sort": "START_TIME_DESC", "limit": 1, "flows": {"name": {"any_": [FLOW]}},
                             "flow_runs": {"start_time": {"after_": since.isoformat()}}})
    found.raise_for_status()
    runs = found.json()
    if not runs or runs[0]["state_type"] != "COMPLETED":
        sys.exit(f"no completed {FLOW} flow run started after {since.isoformat()} on {api}: {runs[:1]}")
    return round(float(runs[0]["total_run_time"]), 3)


def background_server(port: int) -> tuple[psutil.Process, psutil.Process, bool]:
    """The background Prefect server's process, the warm process, and whether this benchmark started them."""
    sys.path.insert(0, str(ROOT))
    from flows import prefect_env, warm
    from flows.settings import Settings

    home = prefect_env.home(Settings.load().prefect_home)
    started = prefect_env.running_server(home) is None
    state = prefect_env.start_server(home, port=port)
    os.environ.update(QUIET)  # the warm process starts as the commands do
    record = warm.start(home)
    os.environ["PREFECT_API_URL"] = state["api_url"]
    return psutil.Process(state["pid"]), psutil.Process(record["pid"]), started


def median(runs: list[Measured], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    if sys.argv[1:2] == ["--sample"]:  # the sampler process of ``_start_sampler``
        _sample(int(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=CORPORA / "bbc" / "politics")
    ap.add_argument("--bbc", type=Path, default=CORPORA / "bbc")
    ap.add_argument("--port", type=int, default=4200, help="Port of the background Prefect server started when none runs.")
    args = ap.parse_args()
    if not args.corpus.exists() or not PEER.exists():
        sys.exit(f"corpus {args.corpus} or peer script {PEER} is absent")
    words = corpus_words([args.corpus])
    server, warm, started = background_server(args.port)
    _children_cpu_delta()
    rows: dict[str, list[Measured]] = {"peer": [], **{f"{kind} {mode}": [] for kind in ("model", "dictionary", "rerun", "seed")
                                                       for mode in MODES}}
    try:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                rows["peer"].append(peer(args.corpus, f"{tmp}/peer", settle=(server, warm)))
                if rows["peer"][-1]["words"] != words:
                    sys.exit(f"the peer counted {rows['peer'][-1]['words']:,} words of {args.corpus}, this benchmark {words:,}")
                for mode in MODES:
                    rows[f"model {mode}"].append(newslake([str(args.corpus)], f"{tmp}/model-{mode}", server, mode=mode, warm=warm,
                                                          words=words))
                    rows[f"dictionary {mode}"].append(newslake([str(args.corpus)], f"{tmp}/dictionary-{mode}", server, "--nlp", "dictionary",
                                                               mode=mode, warm=warm, words=words))
                for mode in MODES:
                    rows[f"rerun {mode}"].append(newslake([str(args.corpus)], f"{tmp}/model-cold", server, mode=mode, warm=warm))
                for mode in MODES:
                    rows[f"seed {mode}"].append(newslake([str(ROOT / "seeds" / "articles")], f"{tmp}/seed-{mode}", server, mode=mode, warm=warm))
        scale = scaling(args.bbc, server, warm) if args.bbc.exists() else None
        server_mb = round(server.memory_info().rss / 2**20)
        warm_mb = round(_memory(warm)[0] / 2**20)
    finally:
        if started:
            from flows import prefect_env, warm as warm_process
            from flows.settings import Settings

            home = prefect_env.home(Settings.load().prefect_home)
            warm_process.stop(home)
            prefect_env.stop_server(home)
    print_table(args, rows, scale, server_mb, warm_mb)


def scaling(bbc: Path, server: psutil.Process, warm: psutil.Process) -> dict:
    """Model mode on a quarter of BBC and on all of it (fresh lakes, warm), then three no-op reruns of all of
    it, cold and warm alternating."""
    files = sorted(str(p) for p in bbc.rglob("*.txt") if p.name != "README.TXT")
    quarter = files[: len(files) // 4]
    with tempfile.TemporaryDirectory() as tmp:
        part = newslake(quarter, f"{tmp}/quarter", server, warm=warm, words=corpus_words([Path(f) for f in quarter]))
        whole = newslake([str(bbc)], f"{tmp}/all", server, warm=warm, words=corpus_words([Path(f) for f in files]))
        reruns = {mode: [] for mode in MODES}
        for _ in range(3):
            for mode in MODES:
                reruns[mode].append(newslake([str(bbc)], f"{tmp}/all", server, mode=mode, warm=warm))
    return {"quarter": part, "all": whole, "files": (len(quarter), len(files)),
            **{f"rerun {mode}": sorted(runs, key=lambda m: m["wall_s"])[1] for mode, runs in reruns.items()}}  # medians of three


def print_table(args, rows: dict[str, list[Measured]], scale: dict | None, server_mb: int, warm_mb: int) -> None:
    peer_rows, words = rows["peer"], rows["peer"][0]["words"]
    print(f"\n{args.corpus} ({words:,} words), {args.rounds} alternating rounds, medians; "
          f"newslake reports to a background Prefect server ({server_mb:,} MB resident, shared by all runs); "
          f"warm: the command runs in a child of the warm process ({warm_mb:,} MB PSS idle, counted in the warm rows' peak)\n")
    header = f"{'':36}{'wall s':>8}{'CPU s':>8}{'words/s':>10}{'words/s in':>12}{'peak MB':>9}{'peer/this':>11}"
    print("peak MB: summed PSS of the command's processes (warm: and of the warm process and its children); "
          "peer/this: the peer's wall time over this one's\n")
    print(header + "\n" + "-" * len(header))
    labels = {"peer": "peer script (stock spaCy)"}
    for kind, label in (("model", "model mode"), ("dictionary", "dictionary mode"), ("rerun", "no-op rerun"), ("seed", "the seed article")):
        for mode in MODES:
            labels[f"{kind} {mode}"] = f"newslake, {label}, {mode}"
    for name, label in labels.items():
        runs = rows[name]
        ratios = [p["wall_s"] / r["wall_s"] for p, r in zip(peer_rows, runs)]
        wall = median(runs, "wall_s")
        counted = name.split()[0] in ("peer", "model", "dictionary")
        inside = median(runs, "words_per_s_inside") if counted else 0
        print(f"{label:36}{wall:>8.1f}{median(runs, 'cpu_s'):>8.1f}{words / wall if counted else 0:>10,.0f}"
              f"{inside:>12,.0f}{median(runs, 'peak_mb'):>9,.0f}"
              f"{'' if not counted or name == 'peer' else f'{statistics.median(ratios):.2f}x':>11}")
    print("\nwords/s in: inside the run (peer: from model load to exit; newslake: its whole Prefect flow run as the server "
          "recorded it, the commit, the DuckDB views, the marts and the run report included); every words/s figure counts the "
          "input's words as the peer does (whitespace-separated words of every file)")
    peer_inside = median(peer_rows, "words_per_s_inside")
    for name in (f"{kind} {mode}" for kind in ("model", "dictionary") for mode in MODES):
        pairs = ", ".join(f"{p['wall_s'] / r['wall_s']:.2f}" for p, r in zip(peer_rows, rows[name]))
        flows = ", ".join(f"{r['flow_s']:.2f}" for r in rows[name])
        print(f"  {name}: wall ratio per round {pairs}; words/s inside vs peer {median(rows[name], 'words_per_s_inside') / peer_inside:.1f}x "
              f"(flow runs {flows} s; to the run's row, before its commit, as measured until 2026-11-30: "
              f"{median(rows[name], 'words_per_s_to_commit') / peer_inside:.1f}x)")
    for mode in MODES:
        print(f"  no-op rerun, {mode}: {median(rows[f'rerun {mode}'], 'wall_s') / median(rows[f'model {mode}'], 'wall_s'):.1%} "
              f"of the first run's wall time ({mode})")
    if scale:
        q, a = scale["quarter"], scale["all"]
        nq, na = scale["files"]
        print(f"\nAll of BBC ({na:,} files), model mode, warm: first run {a['wall_s']:.1f} s wall, {a['cpu_s']:.1f} CPU s, "
              f"{a['words_per_s_inside']:,} words/s in the flow, peak {a['peak_mb']:,} MB")
        for mode in MODES:
            r = scale[f"rerun {mode}"]
            print(f"  no-op rerun, {mode} (median of 3): {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} CPU s, flow {r['flow_s']:.2f} s "
                  f"= {r['wall_s'] / a['wall_s']:.1%} of the first run")
        print(f"  a quarter of it ({nq:,} files): peak {q['peak_mb']:,} MB; all vs quarter: {a['peak_mb'] / q['peak_mb']:.2f}x "
              f"memory for {na / nq:.1f}x the files")
    print("\n" + json.dumps({k: [{x: y for x, y in m.items() if x != "output"} for m in v] for k, v in rows.items()}
                            | ({"scaling": {k: v if k == "files" else {x: y for x, y in v.items() if x != "output"}
                                            for k, v in scale.items()}} if scale else {}), default=str))


if __name__ == "__main__":
    main()
