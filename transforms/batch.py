"""Per-file decisions and table rows for a batch of raw inputs (pure: bytes in, rows out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from transforms.dedup import NearDuplicateIndex, signature
from transforms.formats import BadRecord, JsonFields, Record, parse
from transforms.language import detect_language
from transforms.nlp import Analysis
from transforms.text import CleanArticle, RejectedInput, article_id, clean, dateline, sha256, word_count

ANALYSED_LANGUAGES = ("en", "und")  # texts too short to identify are read as English


@dataclass(frozen=True)
class RawFile:
    """One input file as read: its path, size and bytes (``data`` is None when unreadable)."""

    path: str
    size: int
    data: bytes | None
    error: str | None = None
    sha256: str | None = None  # given when the bytes were hashed but not kept (too large)


@dataclass
class KnownFile:
    """What the lake last made of a path: the bytes' fingerprint and the articles it carried."""

    sha256: str
    article_ids: set[str] = field(default_factory=set)


@dataclass
class PlanContext:
    """What a batch plan needs to know about the lake and the run; the sets and index grow as it goes."""

    run_id: str
    now: datetime
    known_files: dict[str, KnownFile]
    known_articles: set[str]
    near_index: NearDuplicateIndex
    drop_lines: dict[str, frozenset[str]] = field(default_factory=dict)
    fields: JsonFields = field(default_factory=JsonFields)
    max_bytes: int = 20_000_000


@dataclass
class Prepared:
    """A record turned into a clean article; analysed by the NLP stage when English."""

    file_row: dict
    record: Record
    article: CleanArticle
    article_id: str
    source_name: str
    language: str
    signature: object
    duplicate_of: str | None = None

    @property
    def english(self) -> bool:
        return self.language in ANALYSED_LANGUAGES


@dataclass
class BatchPlan:
    """Every file's account, the articles to write, and the changed files with the articles they carried."""

    prepared: list[Prepared] = field(default_factory=list)
    file_rows: list[dict] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


def current_files(rows: list[dict]) -> dict[str, KnownFile]:
    """What the lake last made of each path, from ``files`` rows: the latest run that processed it
    (``unchanged`` rows only repeat an earlier run's account), its bytes' hash and its articles."""
    latest: dict[str, tuple[str, KnownFile]] = {}
    for r in sorted(rows, key=lambda r: r["run_id"]):
        if r["status"] == "unchanged" or not r["sha256"]:
            continue
        run, known = latest.get(r["path"], ("", None))
        if known is None or r["run_id"] > run:
            known = KnownFile(r["sha256"])
            latest[r["path"]] = (r["run_id"], known)
        if r["article_id"]:
            known.article_ids.add(r["article_id"])
    return {path: known for path, (_, known) in latest.items()}


def source_of(path: str, record: Record) -> str:
    """The record's source: from its metadata, else the name of the folder holding the file."""
    return record.source_name or PurePath(path).parent.name or "unknown"


def plan_batch(files: list[RawFile], ctx: PlanContext) -> BatchPlan:
    """Decide the status of each file (and JSON line): rejected, unchanged, duplicate,
    near_duplicate, non_english or ingested; prepare the articles to write."""
    plan = BatchPlan()
    for f in files:
        base = {"run_id": ctx.run_id, "path": f.path, "record": None, "size": f.size, "sha256": None,
                "status": "rejected", "reason": None, "article_id": None, "encoding": None, "seen_at": ctx.now}
        base["sha256"] = digest = f.sha256 or (sha256(f.data) if f.data is not None else None)
        known = ctx.known_files.get(f.path)
        if digest and known is not None and known.sha256 == digest:
            plan.file_rows.append({**base, "status": "unchanged", "reason": "same bytes as an earlier run"})
            continue
        if f.data is None:
            plan.file_rows.append({**base, "reason": f.error or "unreadable"})
            continue
        try:
            records = parse(PurePath(f.path).name, f.data, ctx.fields, ctx.max_bytes)
        except RejectedInput as e:
            plan.file_rows.append({**base, "reason": str(e)})
            continue
        except Exception as e:  # a parser bug on one odd file must not stop the run
            plan.file_rows.append({**base, "reason": f"cannot parse: {type(e).__name__}: {e}"[:300]})
            continue
        for rec in records:
            try:
                row = _plan_record(f, rec, base, ctx, plan)
            except Exception as e:
                row = {**base, "record": getattr(rec, "record", None), "reason": f"cannot clean: {type(e).__name__}: {e}"[:300]}
            plan.file_rows.append(row)
        if known is not None:
            plan.replaced |= known.article_ids
            plan.changed.add(f.path)
    return plan


def _plan_record(f: RawFile, rec: Record | BadRecord, base: dict, ctx: PlanContext, plan: BatchPlan) -> dict:
    if isinstance(rec, BadRecord):
        return {**base, "record": rec.record, "reason": rec.reason, "encoding": rec.encoding}
    row = {**base, "record": rec.record, "encoding": rec.encoding}
    source = source_of(f.path, rec)
    try:
        article = clean(rec.text, title=rec.title, drop_lines=ctx.drop_lines.get(source, frozenset()))
    except RejectedInput as e:
        return {**row, "reason": str(e)}
    aid = article_id(article.text)
    row["article_id"] = aid
    if aid in ctx.known_articles:
        return {**row, "status": "duplicate", "reason": "same normalised text as an article already in the lake or this run"}
    language = detect_language(article.text)
    sig = signature(article.text)
    near = ctx.near_index.check_and_add(aid, sig)
    ctx.known_articles.add(aid)
    prepared = Prepared(row, rec, article, aid, source, language, sig, near[0] if near else None)
    plan.prepared.append(prepared)
    if near:
        row.update(status="near_duplicate", reason=f"near-duplicate of {near[0]} (estimated similarity {near[1]:.2f})")
    elif language not in ANALYSED_LANGUAGES:
        row.update(status="non_english", reason=f"language {language}: kept, not analysed")
    else:
        row["status"] = "ingested"
    return row


def article_rows(p: Prepared, a: Analysis | None, run_id: str, now: datetime) -> tuple[dict, list[dict], list[dict]]:
    """The articles row and the sentences and mentions rows of one prepared article (``a`` None: not analysed)."""
    path, rec = p.file_row["path"], p.record
    article = {
        "article_id": p.article_id,
        "source_uri": rec.url or (f"{path}#L{rec.record}" if rec.record else path),
        "source_name": p.source_name,
        "title": p.article.title,
        "text": p.article.text,
        "published_at": rec.published_at or dateline(p.article.text),
        "language": p.language,
        "nlp_status": "analysed" if a is not None else "skipped: not English",
        "duplicate_of": p.duplicate_of,
        "n_sentences": len(a.sentences) if a else 0,
        "n_mentions": len(a.mentions) if a else 0,
        "n_words": word_count(p.article.text),
        "boilerplate_chars": p.article.boilerplate_chars,
        "encoding": rec.encoding,
        "ingested_at": now,
        "run_id": run_id,
    }
    sentences = [{"article_id": p.article_id, **s} for s in a.sentences] if a else []
    mentions = [{"article_id": p.article_id, **m} for m in a.mentions] if a else []
    return article, sentences, mentions
