"""The ingest flow: discover raw files, process them in batches, commit to the lake, refresh DuckDB."""

from __future__ import annotations

import csv
import hashlib
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePath

import numpy as np
from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import warehouse
from flows.discover import discover_files, read_file
from flows.lake import Lake
from flows.settings import Settings
from transforms.actors import Actor, actor_rows, build_dictionary
from transforms.batch import KnownFile, PlanContext, article_rows, current_files, plan_batch, source_of
from transforms.boilerplate import SourceProfile
from transforms.dedup import NearDuplicateIndex
from transforms.formats import Record, input_kind, parse
from transforms.nlp import Annotator
from transforms.schemas import FILE_STATUSES, TABLES, to_table
from transforms.text import RejectedInput, sha256

# below this many texts per worker, extra spaCy processes cost more than they save
MIN_TEXTS_PER_WORKER = 16
# called after each batch with (files done, files total, articles written so far); the CLI sets it
progress_hook: Callable[[int, int, int], None] | None = None


@dataclass
class BatchResult:
    """What a batch task hands back: counts and staged file paths, never the rows themselves."""

    staged: dict[str, list[str]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    articles: int = 0
    sentences: int = 0
    mentions: int = 0
    words: int = 0
    actors: dict[str, Actor] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)
    replaced: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


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


@dataclass
class LakeState:
    """What the lake already holds that a run must know: files, articles, signatures, boilerplate lines."""

    known_files: dict[str, KnownFile]
    article_ids: set[str]
    near_index: NearDuplicateIndex
    source_lines: list[dict]


@task(name="discover-files", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def discover(paths: list[str], exclude: str) -> tuple[list[str], list[str]]:
    """Every input file under the given files, folders and globs, sorted; and those set aside by name."""
    return discover_files(paths, exclude)


@task(name="load-lake-state", cache_policy=NO_CACHE)
def load_lake_state(lake: Lake, threshold: float) -> LakeState:
    """Fingerprints of files already processed, article ids, MinHash index and known boilerplate lines."""
    known_files = current_files(lake.read("files", ["path", "run_id", "sha256", "status", "article_id"]).to_pylist())
    index = NearDuplicateIndex(threshold)
    signatures = lake.read("signatures")
    for aid, mh in zip(signatures.column("article_id").to_pylist(), signatures.column("minhash").to_numpy(zero_copy_only=False)):
        index.add(aid, np.asarray(mh, dtype=np.uint64))
    ids = set(lake.read("articles", ["article_id"]).column("article_id").to_pylist())
    return LakeState(known_files, ids, index, lake.read("source_lines").to_pylist())


@task(name="profile-sources", cache_policy=NO_CACHE)
def profile_sources(paths: list[str], state: LakeState, settings: Settings) -> list[dict]:
    """Lines repeated across a source's plain-text articles: this run's new files plus what the lake knew."""
    profile = SourceProfile()
    for path in paths:
        if input_kind(PurePath(path).name) == "html":
            continue  # the HTML extractor removes page furniture itself
        raw = read_file(path, settings.max_file_bytes)
        known = state.known_files.get(path)
        if raw.data is None or (known and known.sha256 == sha256(raw.data)):
            continue
        try:
            records = parse(PurePath(path).name, raw.data, settings.json_fields(), settings.max_file_bytes)
        except RejectedInput:
            continue
        for rec in records:
            if isinstance(rec, Record):
                profile.add(source_of(path, rec), rec.text)
    return profile.merged_with(state.source_lines, settings.boilerplate_min_articles, settings.boilerplate_min_share)


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(paths: list[str], part: str, settings: Settings, ctx: PlanContext) -> BatchResult:
    """Read, clean, deduplicate, analyse and stage one batch of files; returns counts and staged paths."""
    lake = Lake(settings.lake, settings.retention_seconds)
    plan = plan_batch([read_file(p, settings.max_file_bytes) for p in paths], ctx)
    result = BatchResult(statuses=Counter(r["status"] for r in plan.file_rows), replaced=plan.replaced, changed=plan.changed)
    result.referenced = {r["article_id"] for r in plan.file_rows if r["article_id"]}
    english = [p for p in plan.prepared if p.english]
    workers = settings.n_process if len(english) >= MIN_TEXTS_PER_WORKER * settings.n_process else 1
    analyses = dict(zip((p.article_id for p in english), annotator(settings).analyse((p.article.text for p in english), n_process=workers)))
    articles, sentences, mentions, signatures = [], [], [], []
    for prepared in plan.prepared:
        analysis = analyses.get(prepared.article_id)
        a, s, m = article_rows(prepared, analysis, ctx.run_id, ctx.now)
        articles.append(a)
        sentences += s
        mentions += m
        signatures.append({"article_id": prepared.article_id, "minhash": prepared.signature})
        result.words += a["n_words"]
        if analysis:
            result.actors.update(analysis.actors)
    tables = {"articles": articles, "sentences": sentences, "mentions": mentions, "signatures": signatures, "files": plan.file_rows}
    for name, rows in tables.items():
        rel = lake.stage(name, to_table(rows, TABLES[name]), ctx.run_id, part)
        result.staged[name] = [rel] if rel else []
    result.articles, result.sentences, result.mentions = len(articles), len(sentences), len(mentions)
    return result


@task(name="commit-run", cache_policy=NO_CACHE)
def commit(lake: Lake, settings: Settings, ctx: PlanContext, state: LakeState, results: list[BatchResult],
           source_lines: list[dict], files_seen: int, started: datetime, model: str) -> int:
    """Publish the run in one manifest swap; returns how many replaced articles were retired."""
    found = [a for result in results for a in result.actors.values()]
    actors = actor_rows(lake.read("actors").to_pylist(), found, annotator(settings).linker.dictionary.table_rows())
    staged: dict[str, list[str]] = {name: [] for name in TABLES}
    for result in results:
        for name, rels in result.staged.items():
            staged[name] += rels
    staged["actors"] = [lake.stage("actors", to_table(actors, TABLES["actors"]), ctx.run_id, "all")]
    staged["source_lines"] = [rel for rel in [lake.stage("source_lines", to_table(source_lines, TABLES["source_lines"]), ctx.run_id, "all")] if rel]
    retired = retired_articles(state, results)
    run_row = {
        "run_id": ctx.run_id,
        "started_at": started,
        "finished_at": datetime.now(timezone.utc),
        "files_seen": files_seen,
        "records_seen": sum(sum(r.statuses.values()) for r in results),
        "articles_retired": len(retired),
        "articles_written": sum(r.articles for r in results),
        "sentences_written": sum(r.sentences for r in results),
        "mentions_written": sum(r.mentions for r in results),
        "model": model,
        "table_versions": None,
    }
    staged["runs"] = [lake.stage("runs", to_table([run_row], TABLES["runs"]), ctx.run_id, "run")]
    lake.commit(ctx.run_id, staged, started.date(), retired)
    return len(retired)


def retired_articles(state: LakeState, results: list[BatchResult]) -> set[str]:
    """Articles that changed files carried before and that no file carries any more."""
    replaced = set().union(*(r.replaced for r in results))
    if not replaced:
        return set()
    changed = set().union(*(r.changed for r in results))
    still = set().union(*(r.referenced for r in results))
    for path, known in state.known_files.items():
        if path not in changed:
            still |= known.article_ids
    return replaced - still


@task(name="refresh-duckdb-views", cache_policy=NO_CACHE)
def refresh_views(lake: Lake, sql_dir: Path) -> list[str]:
    """Rebuild the DuckDB file's views over the committed lake and export the marts as Parquet."""
    return warehouse.refresh(lake, sql_dir)


@task(name="publish-run-report", cache_policy=NO_CACHE)
def publish_report(lake: Lake, summary: dict) -> None:
    """Prefect artifacts: the run's file account and a markdown summary with the top actors."""
    counts = [{"status": s, "files": summary["statuses"].get(s, 0)} for s in FILE_STATUSES]
    create_table_artifact(key="newslake-run-counts", table=counts, description=f"File account of run {summary['run_id']}")
    with warehouse.connect(lake) as con:
        top = con.execute("select actor_id, actor_name, mentions, articles from mentions_per_actor limit 10").fetchall()
    lines = [f"# newslake run {summary['run_id']}", "",
             f"{summary['files_seen']:,} files seen; {summary['articles']:,} articles, {summary['sentences']:,} sentences, "
             f"{summary['mentions']:,} mentions written in {summary['seconds']:.1f} s.", "",
             "| actor | name | mentions | articles |", "|---|---|---:|---:|"]
    lines += [f"| {a} | {n} | {m:,} | {c:,} |" for a, n, m, c in top]
    create_markdown_artifact(key="newslake-run-summary", markdown="\n".join(lines), description="Top actors after the run")


def new_run_id(started: datetime) -> str:
    """Sortable run id: UTC start time plus a short random suffix."""
    return started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _run_name() -> str:
    """Flow-run name in the UI: 'ingest politics' or 'ingest bbc (+2 paths)'."""
    paths = flow_run.parameters.get("paths") or ["?"]
    more = f" (+{len(paths) - 1} paths)" if len(paths) > 1 else ""
    return f"ingest {PurePath(str(paths[0])).name or paths[0]}{more}"


@flow(name="newslake-ingest", flow_run_name=_run_name, log_prints=False)
def ingest_flow(paths: list[str], settings: Settings | None = None) -> dict:
    """Ingest raw news files into the lake and refresh the DuckDB views; returns the run summary."""
    settings = settings or Settings.load()
    logger = get_run_logger()
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc)
    lake = Lake(settings.lake, settings.retention_seconds, settings.compact_files)
    with lake.writing():
        files, set_aside = discover(paths, settings.exclude)
        state = load_lake_state(lake, settings.near_duplicate_threshold)
        ctx = PlanContext(new_run_id(started), started, state.known_files, set(state.article_ids), state.near_index,
                          fields=settings.json_fields(), max_bytes=settings.max_file_bytes)
        logger.info("run %s: %d files under %s (%d set aside by name)", ctx.run_id, len(files), ", ".join(paths), len(set_aside))
        source_lines = profile_sources(files, quote(state), settings)
        for row in source_lines:
            ctx.drop_lines.setdefault(row["source_name"], set()).add(row["line"])
        ctx.drop_lines = {k: frozenset(v) for k, v in ctx.drop_lines.items()}
        model = annotator(settings).model
        results = []
        for n, start in enumerate(range(0, len(files), settings.batch_size)):
            batch = files[start : start + settings.batch_size]
            result = process_batch(batch, f"b{n:05d}", settings, quote(ctx))
            results.append(result)
            logger.info("batch %d: %d files, %d articles, %d mentions", n + 1, len(batch), result.articles, result.mentions)
            if progress_hook:
                progress_hook(start + len(batch), len(files), sum(r.articles for r in results))
        retired = commit(lake, settings, quote(ctx), quote(state), quote(results), source_lines, len(files), started, model)
        refresh_views(lake, settings.sql_dir)
    statuses = sum((r.statuses for r in results), Counter())
    seconds = time.perf_counter() - t0
    words = sum(r.words for r in results)
    summary = {
        "run_id": ctx.run_id,
        "lake": str(settings.lake),
        "files_seen": len(files),
        "set_aside": set_aside,
        "records_seen": sum(statuses.values()),
        "statuses": dict(statuses),
        "articles": sum(r.articles for r in results),
        "sentences": sum(r.sentences for r in results),
        "mentions": sum(r.mentions for r in results),
        "retired": retired,
        "words": words,
        "seconds": round(seconds, 2),
        "words_per_second": round(words / seconds) if seconds else 0,
    }
    publish_report(lake, summary)
    return summary
