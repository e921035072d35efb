"""Shared fixtures: the real spaCy pipeline, settings and one real ingest of seeds/ per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from flows.prefect_env import configure
from flows.settings import PROJECT_ROOT, Settings

configure(Settings().prefect_home)  # before any test module imports Prefect
os.environ.setdefault("NEWSLAKE_WARM", "0")  # commands the tests start run cold, even beside a warm process (tests/flows/test_warm.py)

SEEDS = PROJECT_ROOT / "seeds"
VOLATILE = {"run_id", "ingested_at", "seen_at", "ingest_date", "started_at", "finished_at"}
LAKE_TABLES = ("articles", "sentences", "mentions", "actors", "files", "signatures", "source_lines")
CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", PROJECT_ROOT.parent / "shared" / "corpora"))


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings.load(lake=tmp_path_factory.mktemp("lake"), batch_size=2)


@pytest.fixture(scope="session")
def annotator(settings):
    from flows.ingest import annotator as build

    return build(settings)


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory):
    """One real flow run over a copy of seeds/articles into a temporary lake: (settings, summary)."""
    from flows.ingest import ingest_flow

    articles = tmp_path_factory.mktemp("input") / "articles"
    shutil.copytree(SEEDS / "articles", articles)
    settings = Settings.load(lake=tmp_path_factory.mktemp("seedlake"), batch_size=2)
    summary = ingest_flow([str(articles)], settings)
    return settings, summary, articles


def corpus(*parts: str) -> Path:
    """A folder of ../shared/corpora, or skip the test when it is absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus {path} is absent (set NEWSLAKE_CORPORA to its folder)")
    return path


def lake_rows(settings: Settings, inputs) -> dict[str, list]:
    """Every table's rows without run ids and times, input paths relative to ``inputs``, sorted:
    what two equivalent runs must share."""
    from flows.lake import Lake

    lake = Lake(settings.lake)
    out = {}
    for table in LAKE_TABLES:
        rows = lake.read(table).to_pylist()
        out[table] = sorted(tuple((k, repr(v).replace(str(inputs), "<in>")) for k, v in sorted(r.items()) if k not in VOLATILE)
                            for r in rows)
    return out


