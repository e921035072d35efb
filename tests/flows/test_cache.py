"""The gazetteer cache: built once, loaded after, rebuilt when damaged, skipped when it cannot be written."""

from flows import cache
from transforms.places import Gazetteer, Place


def tiny() -> Gazetteer:
    g = Gazetteer()
    g.add(g.names, "Springfield", Place("city:us-springfield", "Springfield", "city", "USA", "IL", 100))
    return g


def test_built_once_then_loaded(tmp_path, monkeypatch):
    builds = []
    monkeypatch.setattr(cache, "build_gazetteer", lambda: builds.append(1) or tiny())
    first = cache.gazetteer(tmp_path)
    second = cache.gazetteer(tmp_path)
    assert len(builds) == 1 and first == second == tiny()
    assert [p.name for p in tmp_path.iterdir()] == [f"gazetteer-{cache.gazetteer_key()}.pickle"]


def test_a_damaged_cache_is_rebuilt_and_an_unwritable_one_skipped(tmp_path, monkeypatch):
    builds = []
    monkeypatch.setattr(cache, "build_gazetteer", lambda: builds.append(1) or tiny())
    (tmp_path / f"gazetteer-{cache.gazetteer_key()}.pickle").write_bytes(b"not a pickle")
    assert cache.gazetteer(tmp_path) == tiny() and len(builds) == 1
    assert cache.gazetteer(tmp_path) == tiny() and len(builds) == 1  # rewritten whole
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    assert cache.gazetteer(blocked / "sub") == tiny() and len(builds) == 2
