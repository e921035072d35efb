"""Linking on real BBC politics articles through the real flow (skips when ../shared/corpora is absent)."""

from collections import defaultdict

import duckdb
import pytest

from flows.lake import Lake
from flows.settings import Settings
from tests.conftest import corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def politics(tmp_path_factory):
    from flows.ingest import ingest_flow

    folder = corpus("bbc", "politics")
    inputs = tmp_path_factory.mktemp("politics")
    for f in sorted(folder.glob("*.txt"))[:150]:
        (inputs / f.name).symlink_to(f)
    settings = Settings.load(lake=tmp_path_factory.mktemp("politics_lake"))
    ingest_flow([str(inputs)], settings)
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        return con.execute("select text, actor_id from mentions").fetchall()


def test_blair_in_every_form_is_one_actor(politics):
    forms = defaultdict(set)
    for text, actor in politics:
        if text in ("Blair", "Tony Blair", "Mr Blair"):
            forms[text].add(actor)
    assert set(forms) == {"Tony Blair", "Blair", "Mr Blair"}
    assert all(actors == {"person:tony-blair"} for actors in forms.values()), forms


def test_uk_britain_british_are_gbr(politics):
    actors = {actor for text, actor in politics if text in ("UK", "Britain", "British", "U.K.")}
    assert actors == {"GBR"}
