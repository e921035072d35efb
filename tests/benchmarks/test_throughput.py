"""benchmarks/throughput.py: what ``measure`` reports of a command, and that its sampler yields to it."""

import sys
import threading

import pytest

from benchmarks import throughput


def test_measure_reports_the_peak_the_output_and_the_wall_time_of_the_command():
    code = "import time; b = b'x' * (160 * 2**20); time.sleep(0.4); print('done', len(b))"
    m = throughput.measure([sys.executable, "-c", code])
    assert m["output"].strip() == f"done {160 * 2**20}"
    assert 160 <= m["peak_mb"] < 400
    assert m["peak_rss_sum_mb"] >= m["peak_mb"]
    assert 0.4 <= m["wall_s"] < 5
    assert m["cpu_s"] >= 0


def test_the_sampler_runs_at_the_lowest_priority_in_a_group_of_its_own_and_the_command_at_ours(monkeypatch):
    from flows import prefect_env

    seen = {}
    start = throughput._start_sampler

    def spying(root, warm):
        sampler = start(root, warm)
        seen.update(nice=throughput.os.getpriority(throughput.os.PRIO_PROCESS, sampler.pid), group=prefect_env.autogroup(sampler.pid),
                    session=throughput.os.getsid(sampler.pid))
        return sampler

    monkeypatch.setattr(throughput, "_start_sampler", spying)
    mine = throughput.os.getpriority(throughput.os.PRIO_PROCESS, 0)
    m = throughput.measure([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"])
    assert int(m["output"]) == mine
    assert seen["nice"] == throughput.SAMPLER_NICE and seen["session"] != throughput.os.getsid(0)
    if (ours := prefect_env.autogroup()) is not None:  # Linux schedules sessions as groups: the sampler's is lowered
        assert seen["group"][0] != ours[0] and seen["group"][1] == min(19, ours[1] + throughput.SAMPLER_NICE)
    assert throughput.os.getpriority(throughput.os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_a_failing_command_stops_the_benchmark_with_its_output():
    with pytest.raises(SystemExit, match="boom"):
        throughput.measure([sys.executable, "-c", "raise SystemExit('boom')"])


def test_a_command_waits_for_the_processes_it_shares_the_machine_with_to_be_idle():
    import subprocess
    import time

    import psutil

    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 1.2\nwhile time.time() < end: pass"])
    try:
        time.sleep(0.1)
        waited = throughput._idle([psutil.Process(busy.pid)])
        assert 0.9 <= waited < 5 and busy.wait(5) == 0  # it waited for the loop to end
    finally:
        busy.kill()
    assert throughput._idle([psutil.Process()]) < 0.6  # idle at once (this process sleeps while it looks)
    assert throughput._idle([]) == pytest.approx(0, abs=0.01)


def test_corpus_words_counts_as_the_peer_does(tmp_path):
    """Whitespace-separated words of every .txt file under a folder (recursively), undecodable bytes
    replaced; other files are not the peer's input."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Iraq and Iran\n\nmet  in Baghdad.\n", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_bytes(b"caf\xe9 \xff\xfe  two\tthree")
    (tmp_path / "notes.md").write_text("not counted at all", encoding="utf-8")
    (tmp_path / "README.TXT").write_text("nor this", encoding="utf-8")
    assert throughput.corpus_words([tmp_path]) == 6 + 4
    assert throughput.corpus_words([tmp_path / "a.txt"]) == 6


def test_flow_run_seconds_are_the_whole_flow_run_the_server_recorded(seed_run, tmp_path):
    """The benchmark's "inside" seconds: the flow run as Prefect recorded it, its commit, views and report included
    (longer than the runs row's seconds, which end before the commit), and only a run started after ``since``."""
    import time
    from dataclasses import replace
    from datetime import datetime, timezone

    import duckdb
    from prefect.client.orchestration import get_client

    from flows.ingest import ingest_flow

    settings, _, articles = seed_run
    since = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    ingest_flow([str(articles)], replace(settings, lake=tmp_path / "lake"))
    wall = time.perf_counter() - t0
    with get_client(sync_client=True) as client:
        api = str(client.api_url)
    seconds = throughput.flow_run_seconds(since, api)
    with duckdb.connect(str(tmp_path / "lake" / "newslake.duckdb"), read_only=True) as con:
        to_row = con.execute("select seconds from latest_run").fetchone()[0]
    assert to_row < seconds <= wall
    with pytest.raises(SystemExit, match="no completed newslake-ingest flow run"):
        throughput.flow_run_seconds(datetime.now(timezone.utc), api)
