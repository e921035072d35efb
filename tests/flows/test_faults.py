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
