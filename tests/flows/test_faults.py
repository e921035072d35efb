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
