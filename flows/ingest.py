"""The ingest flow: discover raw files, process them in batches, commit to the lake, refresh DuckDB."""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import warehouse
from flows.discover import discover_files, read_file
from flows.lake import Lake
from flows.settings import Settings
from transforms.actors import Actor, build_dictionary
from transforms.batch import article_rows, plan_batch
from transforms.nlp import Annotator
from transforms.schemas import TABLES, to_table

# called after each batch with (files done, files total); the CLI sets it to drive its progress bar
progress_hook: Callable[[int, int], None] | None = None


@dataclass
class BatchResult:
    """What a batch task hands back: counts and staged file paths, never the rows themselves."""

    staged: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    articles: int = 0
    sentences: int = 0
    mentions: int = 0
    words: int = 0
    actors: dict[str, Actor] = field(default_factory=dict)
    new_ids: set[str] = field(default_factory=set)


def _read_seed_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def seeds_fingerprint(seeds_dir: Path) -> str:
    """Hash of the curated seed tables, so an edited seed rebuilds the linker."""
    h = hashlib.sha256()
    for name in ("actors.csv", "agents.csv", "titles.csv"):
        h.update((seeds_dir / name).read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=2)
def _annotator(model: str, seeds_dir: str, fingerprint: str) -> Annotator:
    seeds = Path(seeds_dir)
    dictionary = build_dictionary(_read_seed_csv(seeds / "actors.csv"))
    agents = {w.strip(): r["role"] for r in _read_seed_csv(seeds / "agents.csv") for w in r["words"].split(";") if w.strip()}
    titles = {r["title"]: r["role"] for r in _read_seed_csv(seeds / "titles.csv")}
    return Annotator(model, dictionary, agents, titles)


def annotator(settings: Settings) -> Annotator:
    """The process-wide pipeline for these settings (loaded once)."""
    return _annotator(settings.model, str(settings.seeds_dir), seeds_fingerprint(settings.seeds_dir))


def curated_actors(settings: Settings) -> list[dict]:
    """Rows of every dictionary actor (countries and seeds)."""
    return build_dictionary(_read_seed_csv(settings.seeds_dir / "actors.csv")).table_rows()


@task(name="discover-files", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def discover(paths: list[str]) -> list[str]:
    """Every input file under the given files, folders and globs, sorted."""
    return discover_files(paths)


@task(name="load-lake-state", cache_policy=NO_CACHE)
def lake_state(lake: Lake) -> tuple[dict[str, str], set[str]]:
    """Fingerprints of files already accounted for (path -> sha256) and the article ids in the lake."""
    files = lake.read("files", ["path", "sha256", "status"]).to_pylist()
    known_files = {r["path"]: r["sha256"] for r in files if r["status"] != "rejected" and r["sha256"]}
    ids = set(lake.read("articles", ["article_id"]).column("article_id").to_pylist())
    return known_files, ids


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(
    paths: list[str], part: str, settings: Settings, run_id: str, known_files: dict[str, str], known_ids: set[str]
) -> BatchResult:
    """Read, clean, analyse and stage one batch of files; returns counts and staged paths."""
    now = datetime.now(timezone.utc)
    lake = Lake(settings.lake)
    seen = set(known_ids)
    plan = plan_batch([read_file(p, settings.max_file_bytes) for p in paths], known_files, seen, settings.max_file_bytes, run_id, now)
    result = BatchResult(new_ids=seen - known_ids)
    articles, sentences, mentions = [], [], []
    nlp = annotator(settings)
    for prepared, analysis in zip(plan.to_analyse, nlp.analyse(p.article.text for p in plan.to_analyse)):
        a, s, m = article_rows(prepared, analysis, Path(prepared.file_row["path"]).parent.name, run_id, now)
        articles.append(a)
        sentences += s
        mentions += m
        result.words += a["n_words"]
        result.actors.update(analysis.actors)
    for row in plan.file_rows:
        result.statuses[row["status"]] = result.statuses.get(row["status"], 0) + 1
    for name, rows in (("articles", articles), ("sentences", sentences), ("mentions", mentions), ("files", plan.file_rows)):
        rel = lake.stage(name, to_table(rows, TABLES[name]), run_id, part)
        result.staged[name] = [rel] if rel else []
    result.articles, result.sentences, result.mentions = len(articles), len(sentences), len(mentions)
    return result


@task(name="commit-run", cache_policy=NO_CACHE)
def commit(lake: Lake, settings: Settings, run_id: str, results: list[BatchResult], started: datetime, model: str) -> None:
    """Publish the run: actors (dictionary + people/organisations seen so far), the run row, the batches."""
    actors = {r["actor_id"]: r for r in lake.read("actors").to_pylist() if r["source"] == "model"}
    for result in results:
        for actor in result.actors.values():
            old = actors.get(actor.actor_id)
            if old is None or (actor.affiliation and not old["affiliation"]):
                actors[actor.actor_id] = actor.row()
    actors.update({r["actor_id"]: r for r in curated_actors(settings)})
    staged: dict[str, list[str]] = {name: [] for name in TABLES}
    for result in results:
        for name, rels in result.staged.items():
            staged[name] += rels
    staged["actors"] = [lake.stage("actors", to_table(sorted(actors.values(), key=lambda r: r["actor_id"]), TABLES["actors"]), run_id, "all")]
    run_row = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(timezone.utc),
        "files_seen": sum(sum(r.statuses.values()) for r in results),
        "articles_written": sum(r.articles for r in results),
        "sentences_written": sum(r.sentences for r in results),
        "mentions_written": sum(r.mentions for r in results),
        "model": model,
    }
    staged["runs"] = [lake.stage("runs", to_table([run_row], TABLES["runs"]), run_id, "run")]
    lake.commit(run_id, staged, started.date())


@task(name="refresh-duckdb-views", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def refresh_views(lake: Lake, sql_dir: Path) -> list[str]:
    """Rebuild the DuckDB file's views over the committed lake."""
    return warehouse.refresh(lake, sql_dir)


def new_run_id(started: datetime) -> str:
    """Sortable run id: UTC start time plus a short random suffix."""
    import secrets

    return started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@flow(name="newslake-ingest", log_prints=False)
def ingest_flow(paths: list[str], settings: Settings | None = None) -> dict:
    """Ingest raw news files into the lake and refresh the DuckDB views; returns the run summary."""
    settings = settings or Settings.load()
    logger = get_run_logger()
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc)
    run_id = new_run_id(started)
    lake = Lake(settings.lake)
    with lake.writing():
        files = discover(paths)
        logger.info("run %s: %d files under %s", run_id, len(files), ", ".join(paths))
        known_files, known_ids = lake_state(lake)
        model = annotator(settings).model
        results = []
        for n, start in enumerate(range(0, len(files), settings.batch_size)):
            batch = files[start : start + settings.batch_size]
            result = process_batch(batch, f"b{n:05d}", settings, run_id, known_files, known_ids)
            known_ids |= result.new_ids
            results.append(result)
            logger.info("batch %d: %d files, %d articles, %d mentions", n + 1, len(batch), result.articles, result.mentions)
            if progress_hook:
                progress_hook(start + len(batch), len(files))
        commit(lake, settings, run_id, results, started, model)
        refresh_views(lake, settings.sql_dir)
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    seconds = time.perf_counter() - t0
    words = sum(r.words for r in results)
    return {
        "run_id": run_id,
        "lake": str(settings.lake),
        "files_seen": len(files),
        "statuses": statuses,
        "articles": sum(r.articles for r in results),
        "sentences": sum(r.sentences for r in results),
        "mentions": sum(r.mentions for r in results),
        "words": words,
        "seconds": round(seconds, 2),
        "words_per_second": round(words / seconds) if seconds else 0,
    }
