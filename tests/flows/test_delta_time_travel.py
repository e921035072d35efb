"""Three runs into one lake: every read command answers as any run left the lake; `runs` lists them."""

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from flows import warehouse
from flows.cli import app
from flows.lake import Lake
from flows.settings import Settings
from tests.flows.delta_rows import IRQ, article_tables, commit_run

runner = CliRunner()


def cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("travel")
    lake = Lake(root)
    commit_run(lake, "r1", {**article_tables(["a1", "a2"], "r1"), "actors": [IRQ]})
    commit_run(lake, "r2", article_tables(["a3"], "r2"), day=date(2026, 1, 8))
    commit_run(lake, "r3", article_tables(["a4"], "r3"), retired={"a1"}, day=date(2026, 1, 9))
    warehouse.refresh(lake, Settings().sql_dir)
    return root


def articles(root, *extra):
    out = cli("query", "select article_id from articles order by 1", "--lake", root, "-f", "csv", *extra)
    return out.split()[1:]


def test_query_as_of_each_run(three_runs):
    assert articles(three_runs) == ["a2", "a3", "a4"]
    assert articles(three_runs, "--as-of", "r1") == ["a1", "a2"]
    assert articles(three_runs, "--as-of", "r2") == ["a1", "a2", "a3"]
    assert articles(three_runs, "--as-of", "r3") == ["a2", "a3", "a4"]


def test_other_read_commands_take_as_of(three_runs, tmp_path):
    top = json.loads(cli("actors", "--lake", three_runs, "--as-of", "r2", "-f", "json"))
    assert [(r["actor_id"], r["mentions"], r["articles"]) for r in top] == [("IRQ", 3, 3)]
    assert "IRQ" not in cli("cooccurrence", "--lake", three_runs, "--as-of", "r1", "-f", "csv")
    timeline = cli("timeline", "IRQ", "--lake", three_runs, "--as-of", "r1", "-f", "csv")
    assert timeline.splitlines()[1].split(",")[1:3] == ["2", "2"]
    account = cli("account", "--lake", three_runs, "--as-of", "r2", "-f", "csv")
    assert account.splitlines() == ["status,files,records,articles", "ingested,1,1,1"]
    assert "unique_stg_articles" in cli("check", "--lake", three_runs, "--as-of", "r1")
    cli("report", "--lake", three_runs, "--as-of", "r1", "--out", tmp_path / "r1.html")
    assert "<b>2</b>articles" in (tmp_path / "r1.html").read_text()


def test_runs_lists_every_run_with_its_counts(three_runs):
    rows = json.loads(cli("runs", "--lake", three_runs, "-f", "json"))
    assert [(r["run_id"], r["files_seen"], r["articles_written"]) for r in rows] == [("r3", 1, 1), ("r2", 1, 1), ("r1", 2, 2)]


def test_an_unknown_run_is_one_line_and_exit_1(three_runs):
    out = cli("query", "select 1", "--lake", three_runs, "--as-of", "nope", code=1)
    assert "no run 'nope'" in out and len(out.strip().splitlines()) == 1


def test_a_run_whose_files_were_vacuumed_says_so_in_one_line(tmp_path):
    lake = Lake(tmp_path, retention_seconds=0)
    commit_run(lake, "r1", {**article_tables(["a1"], "r1"), "actors": [IRQ]})
    commit_run(lake, "r2", article_tables(["a2"], "r2"))
    with lake.writing():
        lake.compact(force=True)
        lake.repin()
        lake.vacuum(lake.current_versions())
    warehouse.refresh(lake, Settings().sql_dir)
    assert articles(tmp_path, "--as-of", "r2") == ["a1", "a2"]
    out = cli("query", "select 1", "--lake", tmp_path, "--as-of", "r1", code=1)
    assert "run r1 can no longer be read" in out


def test_latest_run_is_the_run_the_views_read(three_runs):
    def latest(*extra):
        return cli("query", "select run_id from latest_run", "--lake", three_runs, "-f", "csv", *extra).split()
    assert [latest("--as-of", r) for r in ("r1", "r2", "r3")] == [["run_id", "r1"], ["run_id", "r2"], ["run_id", "r3"]]
    assert latest() == ["run_id", Lake(three_runs).latest_run()] == ["run_id", "r3"]
