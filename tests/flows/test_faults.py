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

    def exploding(self, doc):
        if "EXPLODE" in doc.text:
            raise RuntimeError("linker broke")
        return link(self, doc)

    monkeypatch.setattr(Linker, "link", exploding)
    summary = ingest_flow([str(inputs)], Settings.load(lake=tmp_path / "lake", runner="local"))
    assert summary["articles"] == 3
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
