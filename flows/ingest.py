"""The ingest flow: discover, profile, prepare (mapped), resolve, analyse (mapped), commit, refresh."""

from __future__ import annotations

import atexit
import contextvars
import csv
import ctypes
import fnmatch
import gc
import glob
import hashlib
import os
import secrets
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import pyarrow as pa
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import duck, lifecycle, storage, warehouse
from flows.discover import discover_files, local_path, plan_dump, read_file, read_piece, settled, streamed
from flows.lake import Lake
from flows.resolve import Resolved, carried, resolve_staged
from flows.pool import offload
from flows.runner import close_own_workers, release_future
from flows.scratch import RunScratch
from flows.settings import Settings
from transforms.actors import Actor, ActorDictionary, actors_after, build_dictionary, keep_first, same_actors
from transforms.batch import (
    ACCOUNT, PREPARED, Keep, KnownFile, Piece, PreparedBatch, RawFile, ReadOptions, account_rows, article_rows, deleted_rows,
    gone_files, is_range, prepare_files, replaced_articles, retired_articles, signature_rows, weighed_chunks,
    weight,
)
from transforms.boilerplate import SourceProfile, drop_lines, stale_sources, with_sources_replaced
from transforms.formats import input_kind
from transforms.paths import file_name
from transforms.schemas import ACTORS, FILE_STATUSES, TABLES, same_rows, to_table

if TYPE_CHECKING:
    from transforms.nlp import Annotator

# called as stages progress with (stage, done, total): the CLI's progress bar or log lines
Progress = Callable[[str, int, int], None]
ARTICLE_TABLES = ("articles", "sentences", "mentions", "signatures", "signature_bands")
TASKS_PER_WORKER = 4
DICTIONARY_ANALYSE_TASKS_PER_WORKER = 2
MIN_BATCH = 10
PROFILE_LINES = 20_000  # a JSON-lines dump's boilerplate is learnt from its first lines (a sample, bounded memory)
Item = str | Piece  # what a read batch lists: a path read whole, or a planned piece of a JSON-lines file or WARC archive


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
def _dictionary(seeds_dir: str, fingerprint: str) -> ActorDictionary:
    return build_dictionary(_read_seed_csv(Path(seeds_dir) / "actors.csv"))


def dictionary(settings: Settings) -> ActorDictionary:
    """The curated actor dictionary of these settings' seeds (no spaCy needed)."""
    return _dictionary(str(settings.seeds_dir), seeds_fingerprint(settings.seeds_dir))


@lru_cache(maxsize=2)
def _annotator(mode: str, model: str, seeds_dir: str, fingerprint: str, cache_dir: str) -> Annotator:
    from flows import cache
    from transforms.nlp import Annotator  # spaCy loads where texts are analysed, not in every command

    seeds = Path(seeds_dir)
    dictionary = _dictionary(seeds_dir, fingerprint)
    agents = {w.strip(): r["role"] for r in _read_seed_csv(seeds / "agents.csv") for w in r["words"].split(";") if w.strip()}
    titles = {r["title"]: r["role"] for r in _read_seed_csv(seeds / "titles.csv")}
    places = cache.gazetteer(Path(cache_dir)) if mode == "model" else None
    loaded = Annotator(model, dictionary, agents, titles, mode, places)
    gc.collect()
    gc.freeze()  # the pipeline lives as long as the process: its ~350,000 objects stay out of every later collection
    atexit.register(gc.unfreeze)  # and are finalised at exit as usual
    return loaded


_LOADING = threading.Lock()


def annotator(settings: Settings) -> Annotator:
    """The pipeline for these settings, loaded once per process (each Dask worker keeps its own)."""
    with _LOADING:  # a warm-up thread may be loading it right now: wait for that one
        return _annotator(settings.nlp, settings.model, str(settings.seeds_dir), seeds_fingerprint(settings.seeds_dir),
                          str(settings.cache_dir))


def warm_up(settings: Settings) -> None:
    """Load the NLP pipeline ahead of the first task that needs it. A failure here is left for that task
    to raise and report. The language detector is not loaded here: lingua holds the GIL for about 1.5 s
    while it loads (every other thread of the process stops), and most English news never needs it
    (``transforms.language``: none of BBC politics' articles), so it loads at the first text that does."""
    try:
        annotator(settings)
    except Exception:  # noqa: BLE001 (the task that needs the pipeline reports the error)
        pass


def learn_words(settings: Settings) -> int:
    """The dictionary-mode pipeline of these settings, loaded, taught the words of the settings' model package
    (``Annotator.learn_words``, ``transforms.nlp.model_words``): what the warm process does once, so that the
    helpers of every run it forks find the common words of English news known. Returns the lexemes added."""
    from transforms.nlp import model_words

    if settings.nlp != "dictionary":
        return 0
    return annotator(settings).learn_words(model_words(settings.model))


@dataclass
class Analysed:
    """What an analyse task hands back: counts, staged parts and the actors it met, never the rows."""

    part: str
    model: str = ""
    staged: dict[str, list[str]] = field(default_factory=dict)
    articles: int = 0
    sentences: int = 0
    mentions: int = 0
    words: int = 0
    failed: int = 0  # articles whose analysis raised (nlp_status 'failed: ...')
    actors: dict[str, Actor] = field(default_factory=dict)


@task(name="discover-files", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def discover(paths: list[str], exclude: str) -> tuple[list[str], list[str]]:
    """Every input file under the given files, folders and globs, sorted; and those set aside by name."""
    return discover_files(paths, exclude, special=True)


@task(name="look-up-files", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def look_up_files(lake: Lake, paths: list[str]) -> dict[str, KnownFile]:
    """What the lake last made of these paths (only these: the cost follows the run, not the lake), without
    their article ids, which only the paths that changed need (``find_retired`` looks them up): a dump's
    hundreds of thousands would otherwise go to every task that reads a piece of it."""
    return lake.known_files(paths, articles=False)


SETTLED = "settled"  # the part, and batch 0, of the files accounted unchanged without being read


@task(name="settle-unchanged", cache_policy=NO_CACHE)
def settle_unchanged(paths: list[str], known: dict[str, KnownFile], rehash: bool, scratch: RunScratch) -> tuple[list[str], PreparedBatch]:
    """The files to read; the account of those known unchanged by their size and status-change time
    (``discover.settled``) without being read is staged as batch 0, and its summary returned. With
    ``rehash``, every file is read and hashed."""
    same = [] if rehash else [p for p in paths if settled(p, known.get(p))]
    account = prepare_files((RawFile(p, known[p].size, None, sha256=known[p].sha256) for p in same), known, {}, ReadOptions(), SETTLED)
    scratch.write_account(SETTLED, to_table(account_rows(account, 0), ACCOUNT) if account.file_rows else ACCOUNT.empty_table())
    kept = set(same)
    return [p for p in paths if p not in kept], account.summary()


@task(name="plan-reading", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def plan_reading(paths: list[str], known: dict[str, KnownFile], every: int) -> list[Item]:
    """Each local JSON-lines file hashed and cut into pieces of ``every`` lines at line starts, in one pass
    (only the appended lines of a dump that grew), each WARC archive hashed (one piece); other paths as
    they are, read whole later."""
    out: list[Item] = []
    for p in paths:
        pieces = plan_dump(p, known.get(p), every) if streamed(p) else None
        out += pieces if pieces is not None else [p]
    return out


def read_item(item: Item, options: ReadOptions, known: dict[str, KnownFile]) -> RawFile:
    """A batch item as a raw file: read whole (an object in storage that ``known`` shows unchanged is not
    downloaded), or a planned piece whose records stream lazily."""
    return read_piece(item, options) if isinstance(item, Piece) else read_file(item, options.max_bytes, known.get(item))


def item_path(item: Item) -> str:
    return item.path if isinstance(item, Piece) else item


def _profiled(item: Item) -> bool:
    """Whether a batch item's records are profiled for boilerplate lines: not HTML or web archives (the HTML extractor
    removes page furniture itself), and of a JSON-lines dump only the pieces within its first ``PROFILE_LINES``."""
    if input_kind(file_name(item_path(item))) in ("html", "warc"):
        return False
    return item.first_line <= PROFILE_LINES if isinstance(item, Piece) else True


@task(name="boilerplate-lines", cache_policy=NO_CACHE)
def boilerplate_lines(lake: Lake, profiles: list[SourceProfile], settings: Settings) -> list[dict]:
    """``source_lines`` rows after this run: what the lake knew of these sources plus the lines repeated now."""
    merged = SourceProfile.merge(profiles)
    stored = lake.source_lines(merged.articles)
    return merged.merged_with(stored, settings.boilerplate_min_articles, settings.boilerplate_min_share)


@task(name="prepare", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def prepare(items: list[Item], index: int, known: dict[str, KnownFile], drop_lines: dict[str, frozenset[str]],
            options: ReadOptions, part: str, scratch: RunScratch, profiling: bool = True) -> PreparedBatch:
    """Read, decode, clean, hash and sign one batch (the ``index``-th), profiling its records for boilerplate lines in
    the same pass (unless ``profiling`` is false); stages its articles (in pieces as they come) and its file rows, and
    returns the changed files, the sources it cleaned and its profile."""
    return offload(_prepare, items, index, known, drop_lines, options, part, scratch, profiling)


def _prepare(items: list[Item], index: int, known: dict[str, KnownFile], drop_lines: dict[str, frozenset[str]],
             options: ReadOptions, part: str, scratch: RunScratch, profiling: bool = True) -> PreparedBatch:
    scratch.clear_part(part)  # what an earlier attempt or pass staged under this part (it may have made more pieces)
    current = [False]  # whether the file just handed to prepare_files is profiled (it asks before taking the next)

    def files():
        for item in items:
            current[0] = _profiled(item)
            yield read_item(item, options, known)

    batch = prepare_files(files(), known, drop_lines, options, part, sink=lambda name, rows: scratch.write(name, to_table(rows, PREPARED)),
                          profiled=(lambda f: current[0]) if profiling else None)
    scratch.write_account(part, to_table(account_rows(batch, index), ACCOUNT) if batch.file_rows else ACCOUNT.empty_table())
    summary = batch.summary()
    del batch
    release_memory()
    return summary


@task(name="resolve", cache_policy=NO_CACHE)
def resolve_run(lake: Lake, scratch: RunScratch, parts: list[str], threshold: float, run_id: str, now: datetime) -> Resolved:
    """Exact and near-duplicate decisions across this run and the lake, in input order, over the staged
    batches; the file rows and the articles to keep go to the scratch folder."""
    resolved = resolve_staged(lake, scratch, parts, threshold, run_id, now)
    release_memory()  # DuckDB's freed memory, held by this process's allocator through the rest of the run otherwise
    return resolved


@task(name="find-gone-files", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def find_gone(lake: Lake, paths: list[str]) -> dict[str, KnownFile]:
    """Files the lake knows inside these folders (or matching these globs) that no longer exist."""
    known: dict[str, KnownFile] = {}
    remote: dict[str, KnownFile] = {}
    listed: set[str] = set()
    for p in paths:
        if storage.is_remote(p):
            under = lake.known_under([storage.static_prefix(p)])
            remote |= {k: v for k, v in under.items() if not glob.has_magic(p) or fnmatch.fnmatch(k, p)}
            listed |= set(storage.present(p))
        elif glob.has_magic(p):
            pattern = str(Path(os.path.expanduser(p)).absolute())
            base = next(parent for parent in Path(pattern).parents if not glob.has_magic(str(parent)))
            known |= {k: v for k, v in lake.known_under([str(base)]).items() if fnmatch.fnmatch(k, pattern)}
        else:
            known |= lake.known_under([p])
    unlisted = gone_files(remote, listed)  # a glob's listing may not reach every path its pattern matches: ask for each
    gone_remote = {path: k for path, k in unlisted.items() if not storage.object_exists(local_path(path))}
    return gone_files(known, [path for path in known if os.path.lexists(local_path(path))]) | gone_remote


@task(name="find-retired-articles", cache_policy=NO_CACHE)
def find_retired(lake: Lake, scratch: RunScratch, batches: list[PreparedBatch], gone: dict[str, KnownFile]) -> set[str]:
    """Articles of changed or gone files that no file carries any more (looked up for those articles only).
    The articles the changed files carried are looked up here, for those files only."""
    changed = sorted(set().union(*(b.changed for b in batches)))
    before = lake.known_files(changed) if changed else {}
    batches = [*batches, PreparedBatch("changed", replaced=set().union(*(k.article_ids for k in before.values())))]
    replaced = replaced_articles(batches, gone)
    if not replaced:
        return set()
    carriers = lake.known_files(r["path"] for r in lake.files_carrying(replaced))
    return retired_articles(batches, carried(scratch, replaced), carriers, gone)


@task(name="analyse", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def analyse(rows: range, part: str, lake: Lake, settings: Settings, scratch: RunScratch, run_id: str, now: datetime) -> Analysed:
    """NLP and linking of one range of the kept articles; stages their rows under the batch's name, so a
    retried task replaces its own files instead of adding to them."""
    return offload(_analyse, rows, part, lake, settings, scratch, run_id, now)


def _analyse(rows: range, part: str, lake: Lake, settings: Settings, scratch: RunScratch, run_id: str, now: datetime) -> Analysed:
    keep = [Keep(k["part"], k["article_id"], k["duplicate_of"], k["analyse"]) for k in scratch.read_keep(rows.start, rows.stop)]
    ids_by_part: dict[str, list[str]] = defaultdict(list)
    for k in keep:
        ids_by_part[k.part].append(k.article_id)
    found = [scratch.read(p, ids) for p, ids in ids_by_part.items()]
    staged = pa.concat_tables(found) if found else PREPARED.empty_table()
    at = {aid: n for n, aid in enumerate(staged.column("article_id").to_pylist())}
    staged = staged.take([at[k.article_id] for k in keep])  # in the keep list's order
    prepared = {k.article_id: row for k, row in zip(keep, staged.drop_columns(["minhash", "bands"]).to_pylist())}
    nlp = [k for k in keep if k.analyse]
    pipeline = annotator(settings) if nlp else None
    analyses = dict(zip((k.article_id for k in nlp), pipeline.analyse(prepared[k.article_id]["text"] for k in nlp))) if nlp else {}
    result = Analysed(part, model=pipeline.model if pipeline else "")
    tables: dict[str, list[dict]] = {name: [] for name in ("articles", "sentences", "mentions")}
    for k in keep:
        analysis = analyses.get(k.article_id)
        article, sentences, mentions = article_rows(prepared[k.article_id], k, analysis, run_id, now)
        tables["articles"].append(article)
        tables["sentences"] += sentences
        tables["mentions"] += mentions
        result.words += article["n_words"]
        if analysis:
            keep_first(result.actors, analysis.actors.values())
            result.failed += analysis.error is not None
    written = {name: to_table(rows, TABLES[name]) for name, rows in tables.items()}
    written["signatures"], written["signature_bands"] = signature_rows(staged)
    for name in ARTICLE_TABLES:
        rel = lake.stage(name, written[name], run_id, part)
        result.staged[name] = [rel] if rel else []
    result.articles, result.sentences, result.mentions = (len(tables[t]) for t in ("articles", "sentences", "mentions"))
    del tables, written, staged, prepared, analyses
    release_memory()
    return result


@task(name="commit-run", cache_policy=NO_CACHE)
def commit(lake: Lake, settings: Settings, run_id: str, started: datetime, resolution: Resolved, scratch: RunScratch,
           analysed: list[Analysed], source_lines: list[dict], retired: set[str], files_seen: int, deleted: list[dict]) -> None:
    """Publish the run: every table's staged parts, the file account and the run's row, all at once."""
    found = [a for result in analysed for a in result.actors.values()]
    stored = lake.read("actors")
    actors = actors_after(stored, found, dictionary(settings).table_rows())
    if same_actors(actors, stored):
        actors = ACTORS.empty_table()  # nothing new: the table keeps its version, and the marts over it need no export
    staged: dict[str, list[str]] = {name: [] for name in TABLES}
    for result in analysed:
        for name, rels in result.staged.items():
            staged[name] += rels
    if source_lines:
        stored = lake.read("source_lines").to_pylist()
        source_lines = with_sources_replaced(stored, source_lines)
        if same_rows(source_lines, stored, TABLES["source_lines"]):
            source_lines = []
    whole = {"actors": actors, "source_lines": to_table(source_lines, TABLES["source_lines"]), "files": to_table(deleted, TABLES["files"])}
    for name, rows in whole.items():
        staged[name] = [rel for rel in [lake.stage(name, rows, run_id, "all")] if rel]
    staged["files"] += [rel for rel in [lake.stage_file("files", scratch.files_path, run_id, "read")] if rel]
    run_row = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(timezone.utc),
        "files_seen": files_seen,
        "records_seen": resolution.records,
        "articles_retired": len(retired),
        "articles_written": sum(r.articles for r in analysed),
        "sentences_written": sum(r.sentences for r in analysed),
        "mentions_written": sum(r.mentions for r in analysed),
        "model": next((r.model for r in analysed if r.model), None) or _pipeline_label(settings),
        "table_versions": None,
        "minhash_scheme": lake.minhash_scheme(),
    }
    staged["runs"] = [lake.stage("runs", to_table([run_row], TABLES["runs"]), run_id, "run")]
    with lifecycle.committing():
        lake.commit(run_id, staged, started.date(), retired)


def _pipeline_label(settings: Settings) -> str:
    """What ``runs.model`` records when no article needed analysing: 'dictionary', or the model package
    and its version, read without loading spaCy."""
    if settings.nlp == "dictionary":
        return "dictionary"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{settings.model}-{version(settings.model)}"
    except PackageNotFoundError:
        return f"{settings.model}-?"


REPORT_MART = "mentions_per_actor"  # the mart whose top rows the run report shows


@task(name="refresh-duckdb-views", cache_policy=NO_CACHE)
def refresh_views(lake: Lake, settings: Settings, exported: Callable[[list[dict]], None] | None = None) -> bool:
    """Rebuild the DuckDB file's views, pinned to the committed run; export the marts as Parquet while
    the lake holds at most ``mart_max_mentions`` mentions (their cost grows with the lake). ``exported`` is
    called with the rows of ``REPORT_MART`` as soon as that mart is written (``top_actors``), while the rest
    is still being made (the run report goes out meanwhile). Returns whether the marts were exported."""
    mentions = lake.row_count("mentions")
    export = mentions <= settings.mart_max_mentions
    on_export = {REPORT_MART: lambda path: exported(top_actors(path))} if exported is not None else None
    warehouse.refresh(lake, settings.sql_dir, export_marts=export, cache_dir=settings.cache_dir, mentions=mentions, on_export=on_export)
    return export


def publish_account(run_id: str, statuses: dict[str, int]) -> None:
    """The Prefect table artifact of a run's file account: final once the run has committed."""
    counts = [{"status": s, "files": statuses.get(s, 0)} for s in FILE_STATUSES]
    create_table_artifact(key="newslake-run-counts", table=counts, description=f"File account of run {run_id}")


def in_background(fn: Callable, *args, context: contextvars.Context | None = None) -> Future:
    """``fn(*args)`` on a thread of its own, in a copy of ``context`` (default: this thread's; a Prefect artifact made
    there belongs to that context's flow or task run); the thread ends with the call."""
    side = ThreadPoolExecutor(1, thread_name_prefix="newslake-side")
    try:
        return side.submit((context.copy() if context is not None else contextvars.copy_context()).run, fn, *args)
    finally:
        side.shutdown(wait=False)


def top_actors(mart: Path, n: int = 10) -> list[dict]:
    """The ``n`` actors with the most mentions in a mentions-per-actor mart file (ties by actor id)."""
    import pyarrow.parquet as pq

    rows = pq.read_table(mart, columns=["actor_id", "actor_name", "mentions", "articles"]).to_pylist()
    return sorted(rows, key=lambda r: (-r["mentions"], r["actor_id"]))[:n]


def publish_report(summary: dict, top: list[dict] | None, current: bool = True) -> None:
    """The Prefect markdown artifact of a run: its counts and the top actors of the mentions-per-actor mart (``top``,
    read from its Parquet file, never recomputed; None: the lake has no such mart; not ``current``: the mart as last
    exported, before this run). The file account's artifact is ``publish_account``; both belong to the flow run."""
    lines = [f"# newslake run {summary['run_id']}", "",
             f"{summary['files_seen']:,} files seen; {summary['articles']:,} articles, {summary['sentences']:,} sentences, "
             f"{summary['mentions']:,} mentions written in {summary['seconds']:.1f} s.", ""]
    if top is not None:
        lines += ["Top actors" + ("" if current else " (marts as of their last export)") + ":", "",
                  "| actor | name | mentions | articles |", "|---|---|---:|---:|"]
        lines += [f"| {r['actor_id']} | {r['actor_name']} | {r['mentions']:,} | {r['articles']:,} |" for r in top]
    create_markdown_artifact(key="newslake-run-summary", markdown="\n".join(lines), description="Top actors after the run")


def release_memory() -> None:
    """Hand a finished task's freed memory back to the system (glibc keeps it otherwise, and a
    long-lived worker's footprint would be that of its largest batch)."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return None


_LIBC = _glibc()


def new_run_id(started: datetime) -> str:
    """Sortable run id: UTC start time plus a short random suffix."""
    return started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def analyse_tasks_per_worker(settings: Settings) -> int:
    """Analyse tasks per worker: four, so that workers finish together, but two in dictionary mode, whose
    analysis is some twenty times cheaper: there Prefect's cost per task run, paid in the run's process,
    outweighed the balance (BBC politics, warm, on helpers: the flow took 1.27-1.46 s with two, 1.62-1.82
    with four)."""
    return DICTIONARY_ANALYSE_TASKS_PER_WORKER if settings.nlp == "dictionary" else TASKS_PER_WORKER


def chunks(items: list | range, settings: Settings, per_worker: int = TASKS_PER_WORKER, cap: int | None = None) -> list:
    """``items`` cut into consecutive batches: at most ``batch_size`` (or ``cap``) each, and at least
    ``per_worker`` batches per worker when there are enough items, so that workers share the load."""
    size = min(cap or settings.batch_size, max(MIN_BATCH, -(-len(items) // (per_worker * settings.workers))))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _results(submit: Callable[[slice], list[PrefectFuture]], sizes: list[int], window: int, stage: str | None = None,
             progress: Progress | None = None) -> list:
    """The results of ``len(sizes)`` mapped task runs, in submission order, reporting progress as they arrive.
    ``submit(slice)`` maps the task over that slice of its inputs; runs are submitted ``window // 2`` at a time,
    at most ``window`` of them unfinished at once, and each is released once its result is here: what the
    flow's process (and a Dask scheduler in it) holds for submitted runs does not grow with the run's size."""
    step, n = max(1, window // 2), len(sizes)
    done, total, out = 0, sum(sizes), []
    pending: deque[PrefectFuture] = deque()
    submitted = 0
    if progress and stage:
        progress(stage, 0, total)
    while len(out) < n:
        while submitted < n and len(pending) <= window - step:
            pending.extend(submit(slice(submitted, submitted + step)))
            submitted = min(n, submitted + step)
        future = pending.popleft()
        out.append(future.result())
        release_future(future)
        done += sizes[len(out) - 1]
        if progress and stage:
            progress(stage, done, total)
    return out


def _run_name() -> str:
    """Flow-run name in the UI: 'ingest politics' or 'ingest bbc (+2 paths)'."""
    paths = flow_run.parameters.get("paths") or ["?"]
    more = f" (+{len(paths) - 1} paths)" if len(paths) > 1 else ""
    return f"ingest {PurePath(str(paths[0])).name or paths[0]}{more}"


# parameters unvalidated: only Python callers pass them (newslake ingest, the scheduled flow, which validates its own), and
# pydantic would build a model of the signature, Settings included, at every run (~25 ms)
@flow(name="newslake-ingest", flow_run_name=_run_name, log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=1),
      validate_parameters=False)
def ingest_flow(paths: list[str], settings: Settings | None = None, progress: Progress | None = None,
                prune: bool = False) -> dict:
    """Ingest raw news files into the lake and refresh the DuckDB views; returns the run summary.
    With ``prune``, files the lake knows under ``paths`` that no longer exist are accounted ``deleted``
    and their articles retired (unless another file still carries them)."""
    settings = settings or Settings.load()
    lifecycle.reclaim_signals()
    lifecycle.follow_cancellation(flow_run.id)
    logger = get_run_logger()
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc)
    run_id = new_run_id(started)
    lake = Lake(settings.lake, settings.retention_seconds, settings.compact_files)
    options = ReadOptions(settings.json_fields(), settings.max_file_bytes, settings.max_gzip_ratio, settings.max_line_bytes)
    scratch = RunScratch(settings.lake, run_id)
    found = discover.submit(paths, settings.exclude)  # while the lake is locked and checked (a new one's tables made behind)
    with lake.writing(), duck.ahead():  # the lake's look-ups and the duplicate decision: databases opened ahead
        RunScratch.clear(settings.lake)
        options = replace(options, minhash=lake.minhash_scheme())  # signed as the lake's stored articles are
        files, set_aside = found.result()
        logger.info("run %s: %d files under %s (%d set aside by name)", run_id, len(files), ", ".join(paths), len(set_aside))
        # quoted: Prefect looks through an unquoted list item by item (40 ms for 2,225 paths); a lake without file rows knows none
        known = look_up_files(lake, quote(files)) if lake.files("files") else {}
        gone = find_gone(lake, paths) if prune else {}
        to_read, settled_account = (settle_unchanged(quote(files), quote(known), settings.rehash, scratch) if known and not settings.rehash
                                    else (files, None))
        scans = chunks([p for p in to_read if streamed(p)], settings, per_worker=1)  # only dumps and archives need planning
        planned: dict[str, list[Item]] = defaultdict(list)
        for f in plan_reading.map(scans, [{p: known[p] for p in s if p in known} for s in scans], unmapped(settings.batch_size)):
            for i in f.result():
                planned[item_path(i)].append(i)
        items = [i for p in to_read for i in planned.get(p, [p])]
        # two batches a worker at least: three batches on two workers leave one idle for the last third
        batches = weighed_chunks(items, settings.batch_size, 2 * settings.workers, MIN_BATCH, settings.dump_batch)
        parts = [f"p{n:05d}" for n in range(len(batches))]
        known_in = [{item_path(i): known[item_path(i)] for i in batch if item_path(i) in known} for batch in batches]
        window = 2 * TASKS_PER_WORKER * settings.workers
        # boilerplate lines are learnt in the same pass as the batches are prepared: each batch drops the lines the lake
        # knows already and profiles its records; a batch of a source for which the run learns new lines (the first run of
        # a site with a footer, say) is prepared again with them. Most runs learn none: the stage that profiled every batch
        # before preparing it is saved (a warm dictionary flow of BBC politics 0.88 of its time, alternating runs)
        applied = drop_lines(lake.source_lines())
        duck.open_ahead()  # the duplicate decision

        def prepared_with(lines: dict[str, frozenset[str]], which: list[int], profiling: bool, stage: str) -> list[PreparedBatch]:
            chosen, numbers, known_of, parts_of = ([column[n] for n in which] for column in (batches, range(1, len(batches) + 1), known_in, parts))
            return _results(lambda s: prepare.map(chosen[s], numbers[s], known_of[s], unmapped(lines), unmapped(options), parts_of[s],
                                                  unmapped(scratch), unmapped(profiling)),
                            [sum(map(weight, b)) for b in chosen], window, stage, progress)

        prepared = prepared_with(applied, list(range(len(batches))), True, "reading files")
        profiles = [b.profile for b in prepared]
        for b in prepared:
            b.profile = None  # the run's process keeps the summaries to the end, the profiles only until they are merged
        source_lines = boilerplate_lines(lake, quote(profiles), settings) if profiles else []  # no new text, no new lines
        del profiles
        stale = stale_sources(applied, drop_lines(source_lines))
        again = [n for n, b in enumerate(prepared) if b.sources & stale]
        if again:
            for n, b in zip(again, prepared_with(drop_lines(source_lines), again, False, "dropping new boilerplate lines")):
                prepared[n] = b
        if settled_account is not None:  # accounted first, as batch 0, by the settle-unchanged task
            prepared, parts = [settled_account, *prepared], [SETTLED, *parts]
        resolution = resolve_run(lake, scratch, parts, settings.near_duplicate_threshold, run_id, started)
        replacing = gone or any(b.changed or b.replaced for b in prepared)  # else no article can be retired
        if replacing:
            duck.open_ahead()  # the look-ups of the retired articles
        work = chunks(range(resolution.kept), settings, analyse_tasks_per_worker(settings), cap=settings.dump_batch if any(map(is_range, items)) else None)
        analysed = _results(lambda s: analyse.map(work[s], [f"a{n:05d}" for n in range(len(work))][s], unmapped(lake), unmapped(settings),
                                                  unmapped(scratch), unmapped(run_id), unmapped(started)),
                            [len(w) for w in work], window, "analysing articles", progress)
        # a model's helpers hold its working memory, which the commit and the marts may need: they end now; a dictionary's
        # hold little, and ending two processes (the kernel unmapping them) costs the commit beside it: they end with the run
        # (BBC politics, warm: 0.977 of the flow's time, alternating runs)
        close_own_workers(helpers=settings.nlp != "dictionary")
        retired = find_retired(lake, scratch, quote(prepared), gone) if replacing else set()
        deleted = deleted_rows(gone, run_id, started)
        duck.open_ahead()  # the refresh's database (the new DuckDB file attached to it, the marts computed in it)
        commit(lake, settings, run_id, started, resolution, scratch, quote(analysed), source_lines, retired, len(files), deleted)
        statuses = Counter(resolution.statuses) + Counter(r["status"] for r in deleted)
        # the artifacts are sent while the views are refreshed (the requests wait on the API, which is busy with the run's
        # events by then): the file account now, the report once the mart it shows is written
        flow_context = contextvars.copy_context()
        account = in_background(publish_account, run_id, dict(statuses))
        reports: list[Future] = []
        words = sum(r.words for r in analysed)
        summary = {
            "run_id": run_id,
            "lake": str(settings.lake),
            "files_seen": len(files),
            "set_aside": set_aside,
            "records_seen": resolution.records,
            "statuses": dict(statuses),
            "articles": sum(r.articles for r in analysed),
            "sentences": sum(r.sentences for r in analysed),
            "mentions": sum(r.mentions for r in analysed),
            "failed": sum(r.failed for r in analysed),
            "retired": len(retired),
        }

        def report(top: list[dict] | None, current: bool = True) -> None:
            reports.append(in_background(publish_report, {**summary, "seconds": time.perf_counter() - t0}, top, current,
                                         context=flow_context))

        marts_exported = refresh_views(lake, settings, report)
        scratch.remove()
    if not reports:  # the mart was not written this run: the report shows it as it is, if there is one
        mart = warehouse.mart_path(lake, REPORT_MART)
        report(top_actors(mart) if mart.exists() else None, current=marts_exported)
    seconds = time.perf_counter() - t0
    summary.update(marts_exported=marts_exported, words=words, seconds=round(seconds, 2),
                   words_per_second=round(words / seconds) if seconds else 0)
    for artifact in (account, *reports):
        artifact.result()
    return summary
