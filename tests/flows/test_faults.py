"""Faults during a run: one bad article, ... never fail the run or lose the other files."""

import duckdb
import pytest

from flows.ingest import ingest_flow
from flows.settings import Settings
from transforms.linking import Linker

pytestmark = pytest.mark.slow

STORY = ("Officials in Baghdad said on Monday that the talks with Iran would resume next week, and that the "
         "government in Iraq wanted a clear timetable for the end of the mission before the summer.")


def _statuses(lake) -> dict[str, tuple[str, int]]:
    with duckdb.connect(str(lake / "newslake.duckdb"), read_only=True) as con:
        rows = con.execute("select f.path, a.nlp_status, a.n_mentions from files f join articles a using (article_id)").fetchall()
    return {path.rsplit("/", 1)[1]: (status, n) for path, status, n in rows}


def test_an_article_too_long_for_the_model_and_one_that_raises_leave_the_run_whole(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "long.txt").write_text(f"Talks to resume\n\n{STORY}\n\n{'x' * 1_000_030}\n")
    (inputs / "bad.txt").write_text(f"Linker trouble\n\n{STORY} This one will EXPLODE in the linker.\n")
    (inputs / "good.txt").write_text(f"Talks in Tehran\n\n{STORY.replace('Baghdad', 'Tehran')}\n")
    link = Linker.link

    def exploding(self, doc, *args):
        if "EXPLODE" in doc.text:
            raise RuntimeError("linker broke")
        return link(self, doc, *args)

    monkeypatch.setattr(Linker, "link", exploding)
    summary = ingest_flow([str(inputs)], Settings.load(lake=tmp_path / "lake", runner="local"))
    assert (summary["articles"], summary["failed"]) == (3, 1)
    assert _statuses(tmp_path / "lake") == {
        "long.txt": ("analysed", 3),
        "bad.txt": ("failed: RuntimeError: linker broke", 0),
        "good.txt": ("analysed", 4),
    }


def test_a_scheduled_run_on_a_busy_lake_is_skipped_and_says_so(tmp_path, caplog):
    from flows.lake import Lake
    from flows.runner import scheduled_ingest

    settings = Settings.load(lake=tmp_path / "lake")
    with Lake(settings.lake).writing():
        summary = scheduled_ingest([str(settings.seeds_dir / "articles")], settings)
    assert summary == {"skipped": f"another newslake run is writing to {settings.lake}"}
    assert f"skipped: another newslake run is writing to {settings.lake}" in caplog.text
    assert not (tmp_path / "lake" / "newslake.duckdb").exists()


def test_a_scheduled_run_on_a_cluster_runs_its_tasks_on_newslakes_dask_runner(tmp_path, monkeypatch):
    """Scheduled runs place their tasks as `newslake ingest` does: a local cluster started for the run,
    submitted to through the runner that reuses each worker's Prefect client (flows.dask_runner)."""
    from flows import runner
    from flows.dask_runner import ReusingDaskTaskRunner

    used = []
    task_runner = runner.task_runner
    monkeypatch.setattr(runner, "task_runner", lambda *a, **k: used.append(task_runner(*a, **k)) or used[-1])
    from flows.prefect_env import api_server

    settings = Settings.load(lake=tmp_path / "lake", runner="dask", workers=1)
    with api_server():  # as a served deployment has: an API its workers inherit (else each starts a server of its own)
        summary = runner.scheduled_ingest([str(settings.seeds_dir / "articles")], settings)
    assert (summary["statuses"], summary["articles"]) == ({"ingested": 3, "duplicate": 1, "rejected": 1}, 3)
    assert [type(r) for r in used] == [ReusingDaskTaskRunner]
    with duckdb.connect(str(tmp_path / "lake" / "newslake.duckdb"), read_only=True) as con:
        assert con.execute("select actor_id, mentions from mentions_per_actor order by mentions desc limit 2").fetchall() == [
            ("IRQ", 15), ("USA", 13)]


def test_scheduled_runs_never_stack(settings):
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    from flows.serve import build_deployment

    deployment = build_deployment(["seeds/articles"], settings, "* * * * *")
    assert (deployment.concurrency_limit, deployment.concurrency_options.collision_strategy) == (1, ConcurrencyLimitStrategy.CANCEL_NEW)


class _Tags(__import__("html.parser").parser.HTMLParser):
    """Every start tag of a page with its attributes, and its text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_names_reach_the_html_report_as_text(tmp_path):
    import shutil

    from flows.lake import Lake
    from flows.report import write_report

    seeds = tmp_path / "seeds"
    shutil.copytree(Settings().seeds_dir, seeds)
    with open(seeds / "actors.csv", "a") as fh:
        fh.write('XSS,"<script>alert(""actor"")</script>",organization,,Zorblax Group,,,,,\n'
                 'IMG,<img src=x onerror=alert(1)>,organization,,Quuxian Front,,,,,\n')
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(3):
        (inputs / f"a{n}.jsonl").write_text(__import__("json").dumps({
            "title": f"<script>alert({n})</script> Zorblax Group talks",
            "text": f"Leaders of the Zorblax Group and the Quuxian Front met on day {n}. {STORY}",
            "url": "javascript:alert(document.cookie)", "source": "<b onmouseover=alert(1)>Wire</b>"}) + "\n")
    settings = Settings.load(lake=tmp_path / "lake", seeds_dir=seeds, nlp="dictionary", runner="local")
    ingest_flow([str(inputs)], settings)
    page = write_report(Lake(settings.lake), settings.sql_dir, tmp_path / "report.html").read_text()
    parsed = _Tags()
    parsed.feed(page)
    assert not [t for t, _ in parsed.tags if t in ("script", "img", "iframe", "object", "embed")]
    assert not [(t, a) for t, attrs in parsed.tags for a, v in attrs.items()
                if a.startswith("on") or "javascript:" in (v or "").lower()]
    text = "".join(parsed.text)
    assert '<script>alert("actor")</script>' in text and "<img src=x onerror=alert(1)>" in text  # shown, as text


def test_prune_retires_the_articles_of_deleted_files_and_only_with_prune(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    texts = {n: f"Story {n}\n\n{STORY.replace('Monday', day)}\n" for n, day in (("a", "Monday"), ("b", "Tuesday"))}
    (inputs / "a.txt").write_text(texts["a"])
    (inputs / "b.txt").write_text(texts["b"])
    (inputs / "a_copy.txt").write_text(texts["a"])
    settings = Settings.load(lake=tmp_path / "lake", nlp="dictionary", runner="local")

    def articles():
        with duckdb.connect(str(tmp_path / "lake" / "newslake.duckdb"), read_only=True) as con:
            return sorted(r[0] for r in con.execute("select title from articles").fetchall())

    ingest_flow([str(inputs)], settings)
    assert articles() == ["Story a", "Story b"]
    (inputs / "a.txt").unlink()
    (inputs / "b.txt").unlink()
    kept = ingest_flow([str(inputs)], settings)
    assert (kept["statuses"], kept["retired"], articles()) == ({"unchanged": 1}, 0, ["Story a", "Story b"])
    pruned = ingest_flow([str(inputs)], settings, prune=True)
    assert (pruned["statuses"], pruned["retired"]) == ({"unchanged": 1, "deleted": 2}, 1)
    assert articles() == ["Story a"]  # a_copy.txt still carries story a
    with duckdb.connect(str(tmp_path / "lake" / "newslake.duckdb"), read_only=True) as con:
        status = dict(con.execute("select regexp_extract(path, '[^/]+$'), status from file_status").fetchall())
    assert status == {"a.txt": "deleted", "b.txt": "deleted", "a_copy.txt": "duplicate"}
    again = ingest_flow([str(inputs)], settings, prune=True)
    assert (again["statuses"], again["retired"]) == ({"unchanged": 1}, 0)
    (inputs / "b.txt").write_text(texts["b"])
    back = ingest_flow([str(inputs)], settings, prune=True)
    assert (back["statuses"], articles()) == ({"unchanged": 1, "ingested": 1}, ["Story a", "Story b"])


ENOSPC = OSError(__import__("errno").ENOSPC, "No space left on device")


def _cli(*args):
    from typer.testing import CliRunner

    from flows.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def _fail_on_call(n: int, real, error: BaseException):
    """``real`` that raises ``error`` on its n-th call (counting from 1) and after."""
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) >= n:
            raise error
        return real(*args, **kwargs)

    return wrapper


def _enospc_staging(monkeypatch):
    import flows.lake

    real = flows.lake.write_durable

    def write(rows, path, **kwargs):
        if "_staging" in str(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path.with_name(f".{path.name}.partial"), "wb") as fh:
                fh.write(b"PAR1 half a file")
            raise OSError(ENOSPC.errno, ENOSPC.strerror, str(path))
        return real(rows, path, **kwargs)

    monkeypatch.setattr(flows.lake, "write_durable", write)


def _enospc_commit(monkeypatch):
    from flows.lake import Lake

    monkeypatch.setattr(Lake, "commit_table", _fail_on_call(3, Lake.commit_table, ENOSPC))


def _enospc_views(monkeypatch):
    import flows.warehouse

    error = duckdb.IOException('IO Error: Could not write file "newslake.duckdb.building": No space left on device')
    monkeypatch.setattr(flows.warehouse, "create_views", _fail_on_call(1, flows.warehouse.create_views, error))


def _denied_lock(monkeypatch):
    import flows.lake

    real = flows.lake.os.open

    def open_(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(flows.lake.os, "open", open_)


@pytest.mark.parametrize("inject, expected", [
    (_enospc_staging, "error: No space left on device: {lake}/lake/_staging/{run}; the run was not committed and the lake reads as before it"),
    (_enospc_commit, "error: No space left on device; the run was not committed and the lake reads as before it"),
    (_enospc_views, 'error: IO Error: Could not write file "newslake.duckdb.building": No space left on device; run {run} was '
                    "committed, but the DuckDB views still show the run before it: rebuild them with `newslake refresh --lake {lake}`"),
    (_denied_lock, "error: cannot use the lake at {lake}: Permission denied: {lake}/.lock"),
], ids=["disk-full-writing-data", "disk-full-committing", "disk-full-rebuilding-views", "lake-folder-not-writable"])
def test_a_fault_while_writing_leaves_what_readers_see_and_the_next_run_succeeds(inject, expected, tmp_path, monkeypatch):
    import re
    import shutil

    from flows.lake import Lake
    from tests.conftest import lake_rows

    inputs, lake = tmp_path / "in", tmp_path / "lake"
    inputs.mkdir()
    (inputs / "a.txt").write_text(f"Talks to resume\n\n{STORY}\n")
    settings = Settings.load(lake=lake, nlp="dictionary", runner="local")
    flags = ["--lake", lake, "--nlp", "dictionary", "--runner", "local"]
    assert _cli("ingest", inputs, *flags).exit_code == 0
    (inputs / "b.txt").write_text(f"Talks in Tehran\n\n{STORY.replace('Baghdad', 'Tehran')}\n")

    def views():
        with duckdb.connect(str(lake / "newslake.duckdb"), read_only=True) as con:
            return con.execute("select count(*), max(run_id) from articles").fetchone(), con.execute("select * from mentions_per_actor").fetchall()

    rows, seen = lake_rows(settings, inputs), views()
    with monkeypatch.context() as patch:
        inject(patch)
        failed = _cli("ingest", inputs, *flags)
    after = Lake(lake).latest_run()
    (line,) = [line for line in failed.output.splitlines() if not line.startswith("ingest: ")]
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert re.fullmatch(re.escape(expected.format(lake=lake, run="RUN")).replace("RUN", r"\S+"), line), line
    assert views() == seen
    if inject is _enospc_views:  # the run is in the lake, its views are not: what the message says to do
        assert _cli("refresh", "--lake", lake).exit_code == 0 and views() != seen
    else:
        assert lake_rows(settings, inputs) == rows
        assert _cli("ingest", inputs, *flags).exit_code == 0
    clean = tmp_path / "clean" / "in"  # the same folder name: it is the articles' source name
    shutil.copytree(inputs, clean)
    (clean / "b.txt").unlink()
    assert _cli("ingest", clean, "--lake", tmp_path / "cleanlake", "--nlp", "dictionary", "--runner", "local").exit_code == 0
    shutil.copy(inputs / "b.txt", clean / "b.txt")
    assert _cli("ingest", clean, "--lake", tmp_path / "cleanlake", "--nlp", "dictionary", "--runner", "local").exit_code == 0
    assert lake_rows(settings, inputs) == lake_rows(Settings.load(lake=tmp_path / "cleanlake"), clean), after


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_damaged_lake_is_named_by_check_refused_by_ingest_and_restored(damage, tmp_path):
    import shutil

    from flows.lake import Lake
    from tests.conftest import lake_rows

    inputs, lake = tmp_path / "in", tmp_path / "lake"
    inputs.mkdir()
    flags = ["--lake", lake, "--nlp", "dictionary", "--runner", "local"]
    (inputs / "a.txt").write_text(f"Talks to resume\n\n{STORY}\n")
    assert _cli("ingest", inputs, *flags).exit_code == 0
    first = Lake(lake).latest_run()
    (inputs / "b.txt").write_text(f"Talks in Tehran\n\n{STORY.replace('Baghdad', 'Tehran')}\n")
    assert _cli("ingest", inputs, *flags).exit_code == 0
    second = Lake(lake).latest_run()
    (victim,) = [p for p in Lake(lake).files("mentions") if second in p]
    size = __import__("os").path.getsize(victim)
    if damage == "missing":
        __import__("os").unlink(victim)
    else:
        with open(victim, "r+b") as fh:
            fh.truncate(100)
    checked = _cli("check", "--lake", lake)
    assert checked.exit_code == 1
    problem = "missing" if damage == "missing" else f"100 bytes, the log recorded {size:,}"
    assert checked.output.splitlines() == [f"damaged: mentions {victim}: {problem}",
                                           f"error: 1 data file(s) of the lake are missing or damaged; go back to the "
                                           f"last intact run with: newslake restore {first} --lake {lake}"]
    refused = _cli("ingest", inputs, *flags)
    (line,) = [x for x in refused.output.splitlines() if not x.startswith("ingest: ")]
    assert refused.exit_code == 1 and line.startswith(f"error: the lake at {lake} is damaged: 1 data file(s) of its latest run")
    assert _cli("restore", first, "--lake", lake).exit_code == 0
    assert Lake(lake).latest_run() == first and _cli("check", "--lake", lake).exit_code == 0
    assert _cli("ingest", inputs, *flags).exit_code == 0
    clean = tmp_path / "clean" / "in"
    clean.mkdir(parents=True)
    shutil.copy(inputs / "a.txt", clean / "a.txt")
    assert _cli("ingest", clean, "--lake", tmp_path / "cleanlake", *flags[2:]).exit_code == 0
    shutil.copy(inputs / "b.txt", clean / "b.txt")
    assert _cli("ingest", clean, "--lake", tmp_path / "cleanlake", *flags[2:]).exit_code == 0
    assert lake_rows(Settings.load(lake=lake), inputs) == lake_rows(Settings.load(lake=tmp_path / "cleanlake"), clean)
