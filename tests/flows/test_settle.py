"""Files known unchanged by size and status-change time are accounted without being read (flows.discover.settled),
and a no-op run creates no mapped task runs."""

import os
import shutil
from collections import Counter
from datetime import datetime, timezone

import pytest

from flows.discover import SETTLED_MARGIN_NS, settled
from flows.settings import Settings
from tests.conftest import SEEDS, lake_rows
from transforms.batch import KnownFile


def _known(path, size: int | None = None, read_after_change_ns: int = SETTLED_MARGIN_NS + 1000) -> KnownFile:
    """What the lake would know of ``path`` had a run that started ``read_after_change_ns`` after its last change read it."""
    info = os.stat(path)
    seen = datetime.fromtimestamp((info.st_ctime_ns + read_after_change_ns) / 1e9, tz=timezone.utc)
    return KnownFile("0" * 64, size=info.st_size if size is None else size, seen_at=seen)


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Paris - The minister spoke.\n")
    return path


def test_a_file_unchanged_since_the_run_that_read_it_is_settled(text):
    assert settled(str(text), _known(text))


@pytest.mark.parametrize(("why", "known"), [
    ("no account", lambda p: None),
    ("another size", lambda p: _known(p, size=3)),
    ("changed within the margin before the run", lambda p: _known(p, read_after_change_ns=SETTLED_MARGIN_NS - 1000)),
    ("changed after the run started", lambda p: _known(p, read_after_change_ns=-10**9)),
    ("a lake without sizes", lambda p: KnownFile("0" * 64, seen_at=datetime.now(timezone.utc))),
])
def test_anything_else_is_read(text, why, known):
    assert not settled(str(text), known(text)), why


def test_a_rewrite_of_the_same_size_with_its_old_mtime_is_read(text):
    """Tools can set the mtime back (cp -p, rsync -t, touch -d); not the ctime, which the rewrite moves on."""
    known = _known(text)
    before = os.stat(text)
    text.write_text("Paris - The minister slept.\n")
    os.utime(text, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(text).st_size == before.st_size and os.stat(text).st_mtime_ns == before.st_mtime_ns
    assert not settled(str(text), known)


def test_links_dumps_and_objects_are_not_settled(text, tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(text)
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"text": "x"}\n')
    assert not settled(str(link), _known(link))
    assert not settled(str(dump), _known(dump))
    assert not settled("s3://bucket/a.txt", KnownFile("0" * 64, size=3, seen_at=datetime.now(timezone.utc)))


def _recording_task_runs(monkeypatch) -> list[str]:
    """The names of the ingest flow's task runs from now on, as their functions run (recorded here, not read
    back from the API, whose temporary server keeps no task runs: prefect_env.EPHEMERAL_ONLY)."""
    import functools

    from prefect import Task

    from flows import ingest

    names: list[str] = []

    def recorded(name, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            names.append(name)
            return fn(*args, **kwargs)
        return run

    for value in vars(ingest).values():
        if isinstance(value, Task):
            monkeypatch.setattr(value, "fn", recorded(value.name, value.fn))
    return names


def _taken(names: list[str]) -> list[str]:
    out = sorted(names)
    names.clear()
    return out


def test_a_no_op_run_reads_nothing_and_maps_no_task(tmp_path, monkeypatch):
    """The second run settles every file without a read task; its account equals that of a run that rehashes."""
    from flows import discover
    from flows.ingest import ingest_flow

    articles = tmp_path / "articles"
    shutil.copytree(SEEDS / "articles", articles)
    monkeypatch.setattr(discover, "SETTLED_MARGIN_NS", 0)  # the files were written just before the first run
    settings = Settings.load(lake=tmp_path / "lake", batch_size=2, runner="local")
    runs = _recording_task_runs(monkeypatch)
    first = ingest_flow([str(articles)], settings)
    taken = _taken(runs)
    assert "prepare" in taken and "settle-unchanged" not in taken  # nothing known yet: no task to settle nothing
    assert "discover-files" in taken and "look-up-files" not in taken  # nor to look up the paths of a lake without files
    second = ingest_flow([str(articles)], settings)
    assert second["statuses"] == {"unchanged": sum(first["statuses"].values())}
    assert _taken(runs) == ["commit-run", "discover-files", "look-up-files",  # no new text, no changed file: nothing for
                            "refresh-duckdb-views", "resolve", "settle-unchanged"]  # boilerplate, retiring
    third = ingest_flow([str(articles)], Settings.load(lake=tmp_path / "lake", batch_size=2, runner="local", rehash=True))
    assert third["statuses"] == second["statuses"]
    assert "prepare" in runs and "settle-unchanged" not in _taken(runs)
    # the settled account and the rehashed one are the same rows (run ids and times aside)
    unchanged = Counter(r for r in lake_rows(settings, articles)["files"] if ("status", "'unchanged'") in r)
    assert len(unchanged) == second["files_seen"] and set(unchanged.values()) == {2}
