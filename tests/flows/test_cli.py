"""The CLI against the session's seed lake: read commands, parameters, output files, report, schedule."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_query_binds_parameters_and_writes_files(seed_run, tmp_path):
    settings, _, _ = seed_run
    lake = settings.lake
    out = run("query", "select actor_id, mentions from mentions_per_actor where actor_id = $id", "--param", "id=IRQ", "--lake", lake, "-f", "json")
    assert json.loads(out) == [{"actor_id": "IRQ", "mentions": json.loads(out)[0]["mentions"]}]
    hostile = run("query", "select count(*) as n from actors where name = $name", "-p", "name=x' or '1'='1", "--lake", lake, "-f", "csv")
    assert hostile.splitlines() == ["n", "0"]
    for suffix in ("csv", "json", "parquet"):
        target = tmp_path / f"top.{suffix}"
        run("query", "select * from mentions_per_actor order by mentions desc, actor_id limit 3", "--lake", lake, "--out", target)
        assert target.stat().st_size > 0
    import pandas as pd

    assert list(pd.read_parquet(tmp_path / "top.parquet")["actor_id"]) == ["IRQ", "USA", "ISIL"]


def test_common_questions(seed_run):
    lake = seed_run[0].lake
    assert "Iraq" in run("actors", "--lake", lake, "--top", "3")
    pairs = json.loads(run("cooccurrence", "--lake", lake, "--actor", "IRQ", "--min-articles", "1", "-f", "json"))
    assert pairs and all("IRQ" in (p["actor_a"], p["actor_b"]) for p in pairs)
    timeline = json.loads(run("timeline", "Iraq", "--lake", lake, "-f", "json"))
    assert len(timeline) >= 1 and sum(r["mentions"] for r in timeline) >= 12
    account = run("account", "--lake", lake, "--run", seed_run[1]["run_id"], "-f", "csv")  # the seed run, whatever ran since
    assert "rejected" in account and "empty file" in account


def test_a_named_query_runs_by_its_name(seed_run):
    lake = seed_run[0].lake
    top = json.loads(run("query", "top_actors", "-p", "top=3", "--lake", lake, "-f", "json"))
    assert [r["actor_id"] for r in top] == ["IRQ", "USA", "ISIL"]
    assert top == json.loads(run("actors", "--top", "3", "--lake", lake, "-f", "json"))
    result = runner.invoke(app, ["query", "top_actors", "-p", "kind=person", "--lake", str(lake)])
    assert result.exit_code == 1 and "sql/queries/top_actors.sql: no parameter 'kind' (it takes type, top)" in result.output


def test_errors_are_one_line_and_exit_1(seed_run):
    result = runner.invoke(app, ["query", "select * from no_such_view", "--lake", str(seed_run[0].lake)])
    assert result.exit_code == 1 and "no_such_view" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["timeline", "Atlantis", "--lake", str(seed_run[0].lake)])
    assert result.exit_code == 1 and "no mentions of 'Atlantis'" in result.output


def test_report_is_self_contained(seed_run, tmp_path):
    target = tmp_path / "report.html"
    run("report", "--lake", seed_run[0].lake, "--out", target)
    page = target.read_text()
    assert page.count("<svg") == 3 and "All mentions fall in one period" in page and "<script" not in page and "<link" not in page and "src=" not in page
    for heading in ("Top actors", "Mentions over time", "Who appears with whom", "file account", "Data quality"):
        assert heading in page


def test_read_commands_never_import_prefect(seed_run):
    code = ("import sys; from flows.cli import app; from typer.testing import CliRunner; "
            f"r = CliRunner().invoke(app, ['actors', '--lake', {str(seed_run[0].lake)!r}]); "
            "assert r.exit_code == 0, r.output; print('prefect' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_help_has_an_example_for_every_command():
    for name in ("ingest", "query", "actors", "cooccurrence", "timeline", "account", "report", "serve", "check", "refresh"):
        assert "Example: newslake" in run(name, "--help"), name


def test_serve_builds_an_hourly_schedule(settings):
    from flows.runner import scheduled_ingest
    from flows.serve import build_deployment

    deployment = build_deployment(["seeds/articles"], settings, "0 * * * *")
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 * * * *", "UTC", True)
    assert deployment.entrypoint.endswith("flows/runner.py:scheduled_ingest")
    params = scheduled_ingest.validate_parameters(deployment.parameters)
    assert params["settings"].lake == settings.lake and params["paths"][0].endswith("seeds/articles")


def test_bad_paths_and_settings_fail_fast_with_one_line(tmp_path, monkeypatch):
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--lake", str(tmp_path)])
    assert result.exit_code == 1 and "no such file or folder" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("NEWSLAKE_BATCH_SIZE", "abc")
    result = runner.invoke(app, ["actors", "--lake", str(tmp_path)])
    assert result.exit_code == 1 and "NEWSLAKE_BATCH_SIZE='abc' is not a whole number" in result.output


def test_ingest_hands_the_flow_paths_in_the_stored_form(tmp_path, monkeypatch):
    import contextlib
    import os

    import flows.cli
    from flows import lifecycle

    raw = os.fsencode(tmp_path) + b"/latin1_name_\xe9.txt"
    with open(raw, "wb") as fh:
        fh.write(b"Story")
    seen = []

    def flow(paths, settings, *options):
        seen.extend(paths)
        return {"run_id": "r1", "files_seen": 1, "statuses": {"ingested": 1}, "articles": 1, "sentences": 1, "mentions": 0, "failed": 0,
                "seconds": 0.1, "words_per_second": 10, "lake": str(tmp_path), "retired": 0, "set_aside": [], "marts_exported": True}

    monkeypatch.setattr(lifecycle, "guarded_run", contextlib.nullcontext)
    monkeypatch.setattr(flows.cli, "_run_with_progress", flow)
    result = runner.invoke(app, ["ingest", os.fsdecode(raw), "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 0, result.output
    assert seen == [f"{tmp_path}/latin1_name_\\xe9.txt"]
