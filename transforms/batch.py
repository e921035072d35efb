"""The stages of an ingest as pure functions: prepare a batch of raw files, resolve duplicates across
the run and the lake, and turn an analysed article into table rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.boilerplate import SourceProfile
from transforms.dedup import MINHASH, NearDuplicateIndex, band_keys, signature
from transforms.formats import BadRecord, JsonFields, Limits, Record, parse
from transforms.language import detect_language
from transforms.paths import file_name, folder_name
from transforms.schemas import ARTICLES, FILES, SIGNATURE_BANDS, SIGNATURES
from transforms.text import RejectedInput, article_id, clean, dateline, sha256, word_count
from transforms.warc import Skipped

if TYPE_CHECKING:  # spaCy is imported where texts are analysed, not where files are listed
    from transforms.nlp import Analysis

ANALYSED_LANGUAGES = ("en", "und")  # texts too short to identify are read as English
PENDING = "pending"  # a file row whose article awaits the run-wide duplicate decision
SAME_TEXT = "same normalised text as an article already in the lake or this run"  # the reason of a ``duplicate``
SINK_ROWS = 1000  # prepared articles handed to the sink at once (a streamed file's task stages them in pieces)

# one row per distinct article a prepare batch found: article_id (the ``articles`` columns known
# before analysis, the MinHash signature and its LSH band keys)
PREPARED = pa.schema(
    [ARTICLES.field(name) for name in ("article_id", "source_uri", "source_name", "title", "text", "published_at",
                                       "language", "n_words", "boilerplate_chars", "encoding")]
    + [SIGNATURES.field("minhash"), pa.field("bands", pa.list_(SIGNATURE_BANDS.field("band_key").type), nullable=False)]
)
# one row per file row of a prepare batch: batch, seq (its input order); the ``files`` columns known before
# the run-wide decision (no run_id, seen_at), and for a ``pending`` row its article's language and the
# scratch part holding its prepared article
ACCOUNT = pa.schema(
    [pa.field("batch", pa.int32(), nullable=False), pa.field("seq", pa.int32(), nullable=False)]
    + [FILES.field(name) for name in ("path", "record", "size", "sha256", "status", "reason", "article_id", "encoding", "etag")]
    + [pa.field("language", pa.string()), pa.field("part", pa.string())]
)


@dataclass(frozen=True)
class RawFile:
    """One input file as read: its path (stored form, see ``transforms.paths``), size and bytes
    (``data`` is None when unreadable, with the reason in ``error``, when a symbolic link, or when
    streamed: then ``records`` yields its records, or those of one byte range of it)."""

    path: str
    size: int
    data: bytes | None
    error: str | None = None
    sha256: str | None = None  # given when the bytes were hashed but not kept (too large, or streamed)
    link_to: str | None = None  # a symbolic link to a file: the target's path, read as its own input
    etag: str | None = None  # an object in object storage: its ETag, which tells a later run it is unchanged
    records: Iterable[Record | BadRecord | Skipped] | None = None
    appended: bool = False  # only lines appended since an earlier run are read: the earlier ones stay
    kept: tuple[int, int] | None = None  # on the first range of appended lines: (bytes, lines) left as they were


@dataclass
class KnownFile:
    """What the lake last made of a path: the bytes' fingerprint and the articles it carried (and, for an
    object in object storage, its ETag and size, to know it unchanged without downloading it)."""

    sha256: str
    article_ids: set[str] = field(default_factory=set)
    etag: str | None = None  # an object in object storage: its ETag when last read
    size: int | None = None  # the bytes that hash to ``sha256`` (None in a lake older than this field's use)
    seen_at: datetime | None = None  # the start of the run that read the bytes hashing to ``sha256``


@dataclass(frozen=True)
class Piece:
    """A JSON-lines file (or WARC archive) planned for streaming, or one byte range of it: bytes [start, end) whose first
    line is ``first_line``; the file's size and sha256 when planned (``mtime_ns`` tells a later change).
    ``kept``: the file grew by appended lines after (bytes, lines) the lake already holds."""

    path: str
    size: int
    sha256: str
    mtime_ns: int
    start: int = 0
    end: int | None = None
    first_line: int = 1
    kept: tuple[int, int] | None = None
    lines: int = 1  # lines in the range (blank ones too): its weight when batching


@dataclass(frozen=True)
class ReadOptions:
    """How raw files become records: JSON field names and the size limits; and how their articles are signed
    (the lake's MinHash scheme, ``Lake.minhash_scheme``)."""

    fields: JsonFields = field(default_factory=JsonFields)
    max_bytes: int = 20_000_000
    max_gzip_ratio: int = 100
    max_line_bytes: int = 5_000_000
    minhash: str = MINHASH

    @property
    def limits(self) -> Limits:
        """The size limits as the parsers take them."""
        return Limits(self.max_bytes, self.max_gzip_ratio, self.max_line_bytes)


@dataclass(frozen=True)
class Candidate:
    """A new article found by prepare: what the run-wide duplicate decision needs, without its text.

    ``row`` indexes the batch's ``file_rows``; ``part`` names where its article was staged when the
    batch staged them in pieces (None: under the batch's own part)."""

    row: int
    article_id: str
    language: str
    signature: np.ndarray
    part: str | None = None
    bands: list[int] | None = None  # the signature's band keys, when read back with it (None: computed when needed)

    @property
    def english(self) -> bool:
        return self.language in ANALYSED_LANGUAGES


@dataclass
class PreparedBatch:
    """Every file's account (rows of new articles still ``pending``), the prepared articles' rows,
    their candidates, and the changed files with the article ids they carried before."""

    part: str
    file_rows: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)  # the sources of its records, whose boilerplate lines were dropped
    profile: SourceProfile | None = None  # its profiled records' short lines, when it was asked to profile them

    def summary(self) -> PreparedBatch:
        """The batch minus its rows, articles and candidates, which are staged (what crosses the orchestration
        boundary: its size follows the changed files and the profile, not the records)."""
        return PreparedBatch(self.part, [], [], [], self.replaced, self.changed, self.sources, self.profile)


def account_rows(batch: PreparedBatch, index: int) -> list[dict]:
    """The batch's file rows as ``ACCOUNT`` rows: numbered by batch ``index`` and position, each pending
    row with its article's language and the part its article was staged under."""
    rows = [{"batch": index, "seq": n, **r, "language": None, "part": None} for n, r in enumerate(batch.file_rows)]
    for c in batch.candidates:
        rows[c.row].update(language=c.language, part=c.part or batch.part)
    return rows


ACCOUNT_ONLY = ("batch", "seq", "language", "part")  # the ``ACCOUNT`` columns a batch's file rows do not hold


def accounted_batches(rows: list[dict], signatures: dict[tuple[str, str], tuple[np.ndarray, list[int]]]) -> list[PreparedBatch]:
    """The batches whose ``account_rows`` these are (given in batch and seq order), for ``resolve``: their file rows,
    and a candidate for each pending row with the signature and band keys ``signatures`` holds for its (part,
    article id). The batches hold no articles (they are staged)."""
    batches: dict[int, PreparedBatch] = {}
    for r in rows:
        batch = batches.setdefault(r["batch"], PreparedBatch(r["part"] or ""))
        if r["status"] == PENDING:
            signature, bands = signatures[(r["part"], r["article_id"])]
            batch.candidates.append(Candidate(len(batch.file_rows), r["article_id"], r["language"], signature, r["part"], bands))
        batch.file_rows.append({k: v for k, v in r.items() if k not in ACCOUNT_ONLY})
    return [batches[b] for b in sorted(batches)]


@dataclass(frozen=True)
class Keep:
    """An article the run writes: its prepare batch, id, the article it nearly repeats, and whether to analyse it."""

    part: str
    article_id: str
    duplicate_of: str | None
    analyse: bool


@dataclass
class Resolution:
    """The run's final file account and the articles to write, both in input order."""

    file_rows: list[dict]
    keep: list[Keep]


def current_files(rows: list[dict]) -> dict[str, KnownFile]:
    """What the lake last made of each path, from ``files`` rows: the latest run that processed it
    (``unchanged`` rows only repeat an earlier run's account), its bytes' hash and size and its
    articles; a path whose latest account is ``deleted`` is not known any more. A run that read only
    the lines appended to a file (an ``unchanged`` row with a record number: the lines kept, beside the
    new lines' rows) adds to the earlier account instead of replacing it."""
    latest: dict[str, tuple[str, KnownFile | None]] = {}
    appends = {(r["path"], r["run_id"]) for r in rows if r["status"] == "unchanged" and r.get("record") is not None}
    for r in sorted(rows, key=lambda r: r["run_id"]):
        if r["status"] == "deleted":
            latest[r["path"]] = (r["run_id"], None)
            continue
        if r["status"] == "unchanged" or not r["sha256"]:
            continue
        run, known = latest.get(r["path"], ("", None))
        if known is None or r["run_id"] > run:
            earlier = known.article_ids if known is not None and (r["path"], r["run_id"]) in appends else set()
            known = KnownFile(r["sha256"], set(earlier), etag=r.get("etag"), size=r.get("size"), seen_at=r.get("seen_at"))
            latest[r["path"]] = (r["run_id"], known)
        if r["article_id"]:
            known.article_ids.add(r["article_id"])
    return {path: known for path, (_, known) in latest.items() if known is not None}


def gone_files(known_under: dict[str, KnownFile], present: Iterable[str]) -> dict[str, KnownFile]:
    """The known files (under the pruned folders) that are no longer present."""
    present = set(present)
    return {path: known for path, known in known_under.items() if path not in present}


def deleted_rows(gone: dict[str, KnownFile], run_id: str, now: datetime) -> list[dict]:
    """One ``files`` row per gone path: status ``deleted``, its articles retired unless another file carries them."""
    return [{"run_id": run_id, "path": path, "record": None, "size": 0, "sha256": None, "status": "deleted",
             "reason": "no longer exists (--prune)", "article_id": None, "encoding": None, "seen_at": now, "etag": None}
            for path in sorted(gone)]


def source_of(path: str, record: Record) -> str:
    """The record's source: from its metadata, else the name of the folder holding the file."""
    return record.source_name or folder_name(path) or "unknown"


def _digest(f: RawFile) -> str | None:
    return f.sha256 or (sha256(f.data) if f.data is not None else None)


def _unchanged(f: RawFile, known: dict[str, KnownFile]) -> bool:
    digest = _digest(f)
    return bool(digest) and f.path in known and known[f.path].sha256 == digest


def profile_files(files: Iterable[RawFile], known: dict[str, KnownFile], options: ReadOptions) -> SourceProfile:
    """Short lines of the new and changed plain-text files' articles, counted per source."""
    profile = SourceProfile()
    for f in files:
        if (f.data is None and f.records is None) or _unchanged(f, known):
            continue
        try:
            for rec in _records(f, options):
                if isinstance(rec, Record):
                    profile.add(source_of(f.path, rec), rec.text)
        except Exception:  # prepare gives the file its reason
            continue
    return profile


def _records(f: RawFile, options: ReadOptions) -> Iterable[Record | BadRecord]:
    """A file's records: streamed when the reader gave them, else parsed from its bytes."""
    return f.records if f.records is not None else parse(file_name(f.path), f.data, options.fields, options.limits)


def prepare_files(files: Iterable[RawFile], known: dict[str, KnownFile], drop_lines: dict[str, frozenset[str]],
                  options: ReadOptions, part: str, sink: Callable[[str, list[dict]], None] | None = None,
                  profiled: Callable[[RawFile], bool] | None = None) -> PreparedBatch:
    """Read, decode, clean, hash and sign one batch of files; new articles stay ``pending`` for ``resolve``.

    Depends on no other batch. File rows carry no run id or time: ``resolve`` adds them. With ``sink``,
    the prepared articles are handed to it ``SINK_ROWS`` at a time with the part name their candidates
    carry, and none stay in the batch (a streamed file's articles are never all held at once). With
    ``profiled``, the records of the files it accepts are profiled in the same pass, as ``profile_files``
    profiles them (the batch's ``profile``; each file is asked about as it comes, before the next is taken);
    ``sources`` names the sources of every record cleaned."""
    batch = PreparedBatch(part, profile=SourceProfile() if profiled is not None else None)
    seen: dict[str, Candidate] = {}
    pieces = [0]

    def flush(final: bool = False) -> None:
        if sink is not None and batch.articles and (final or len(batch.articles) >= SINK_ROWS):
            sink(f"{part}-{pieces[0]:04d}", batch.articles)
            batch.articles = []
            pieces[0] += 1

    for f in files:
        base = {"path": f.path, "record": None, "size": f.size, "sha256": _digest(f), "status": "rejected",
                "reason": None, "article_id": None, "encoding": None, "etag": f.etag}
        if _unchanged(f, known):
            batch.file_rows.append({**base, "status": "unchanged", "reason": "same bytes as an earlier run"})
            continue
        if f.link_to:
            batch.file_rows.append({**base, "status": "duplicate", "reason": f"symbolic link to {f.link_to}"})
            continue
        if f.data is None and f.records is None:
            batch.file_rows.append({**base, "reason": f.error or "unreadable"})
            continue
        if f.kept:
            batch.file_rows.append({**base, "record": f.kept[1], "status": "unchanged",
                                    "reason": f"lines 1-{f.kept[1]} (the first {f.kept[0]:,} bytes) as an earlier run read them; "
                                              f"only the lines appended since are read"})
        piece = f"{part}-{pieces[0]:04d}" if sink is not None else None
        profile = batch.profile if batch.profile is not None and profiled(f) else None
        try:
            for rec in _records(f, options):
                if profile is not None and isinstance(rec, Record):
                    profile.add(source_of(f.path, rec), rec.text)
                try:
                    row = _prepare_record(f, rec, base, drop_lines, batch, seen, piece, options.minhash)
                except Exception as e:
                    row = {**base, "record": getattr(rec, "record", None), "reason": f"cannot clean: {type(e).__name__}: {e}"[:300]}
                batch.file_rows.append(row)
                if sink is not None and len(batch.articles) >= SINK_ROWS:
                    flush()
                    piece = f"{part}-{pieces[0]:04d}"
        except RejectedInput as e:
            batch.file_rows.append({**base, "reason": str(e)})
        except Exception as e:  # a parser bug on one odd file must not stop the run
            batch.file_rows.append({**base, "reason": f"cannot parse: {type(e).__name__}: {e}"[:300]})
        if f.path in known and not f.appended:
            batch.replaced |= known[f.path].article_ids
            batch.changed.add(f.path)
    flush(final=True)
    return batch


def _prepare_record(f: RawFile, rec: Record | BadRecord | Skipped, base: dict, drop_lines: dict[str, frozenset[str]],
                    batch: PreparedBatch, seen: dict[str, Candidate], piece: str | None = None, minhash: str = MINHASH) -> dict:
    if isinstance(rec, BadRecord):
        return {**base, "record": rec.record, "reason": rec.reason, "encoding": rec.encoding}
    if isinstance(rec, Skipped):
        return {**base, "status": "skipped", "reason": rec.reason}
    row = {**base, "record": rec.record, "encoding": rec.encoding}
    source = source_of(f.path, rec)
    batch.sources.add(source)
    try:
        article = clean(rec.text, title=rec.title, drop_lines=drop_lines.get(source, frozenset()))
    except RejectedInput as e:
        return {**row, "reason": str(e)}
    aid = article_id(article.text)
    row.update(article_id=aid, status=PENDING, reason=rec.note)
    if aid in seen:
        language, sig = seen[aid].language, seen[aid].signature
    else:
        language, sig = detect_language(article.text), signature(article.text, minhash)
        batch.articles.append({
            "article_id": aid,
            "source_uri": rec.url or (f"{f.path}#L{rec.record}" if rec.record else f.path),
            "source_name": source,
            "title": article.title,
            "text": article.text,
            "published_at": rec.published_at or dateline(article.text),
            "language": language,
            "n_words": word_count(article.text),
            "boilerplate_chars": article.boilerplate_chars,
            "encoding": rec.encoding,
            "minhash": sig,
            "bands": band_keys(sig),
        })
    candidate = Candidate(len(batch.file_rows), aid, language, sig, piece if aid not in seen else seen[aid].part)
    seen.setdefault(aid, candidate)
    batch.candidates.append(candidate)
    return row


def resolve(batches: list[PreparedBatch], in_lake: set[str], lake_signatures: dict[str, np.ndarray],
            threshold: float, run_id: str, now: datetime) -> Resolution:
    """Decide every pending article across the run, in input order (batches in order, rows in order):
    ``duplicate`` of the lake or an earlier file, ``near_duplicate`` (kept, analysed), ``non_english``
    (kept, not analysed) or ``ingested``. The outcome does not depend on which batch finished first.

    The whole run in memory: the definition of the decision, for small runs and tests. The flow makes the
    same decisions over the staged batches in bounded memory (``flows/resolve.py``; a test compares them).

    Args:
        in_lake: ids among this run's articles that the lake already holds.
        lake_signatures: the lake's articles that share an LSH band with this run's (candidates).
    """
    index = NearDuplicateIndex(threshold)
    for aid, sig in sorted(lake_signatures.items()):
        index.add(aid, sig)
    seen = set(in_lake)
    rows: list[dict] = []
    keep: list[Keep] = []
    for batch in batches:
        batch_rows = [{"run_id": run_id, **r, "seen_at": now} for r in batch.file_rows]
        for c in batch.candidates:
            row = batch_rows[c.row]
            if c.article_id in seen:
                row.update(status="duplicate", reason=_noted(SAME_TEXT, row))
                continue
            seen.add(c.article_id)
            near = index.check_and_add(c.article_id, c.signature, c.bands)
            if near:
                row.update(status="near_duplicate", reason=_noted(f"near-duplicate of {near[0]} (estimated similarity {near[1]:.2f})", row))
            elif not c.english:
                row.update(status="non_english", reason=_noted(f"language {c.language}: kept, not analysed", row))
            else:
                row.update(status="ingested")
            keep.append(Keep(c.part or batch.part, c.article_id, near[0] if near else None, c.english))
        rows += batch_rows
    return Resolution(rows, keep)


def _noted(reason: str, row: dict) -> str:
    """A decision's reason followed by the repair note a pending row carries, if any."""
    return f"{reason}; {row['reason']}" if row["reason"] else reason


def replaced_articles(batches: list[PreparedBatch], gone: dict[str, KnownFile] | None = None) -> set[str]:
    """The articles that the run's changed files and the gone files carried before."""
    return set().union(*(b.replaced for b in batches), *(k.article_ids for k in (gone or {}).values()))


def retired_articles(batches: list[PreparedBatch], carried: set[str], carriers: dict[str, KnownFile],
                     gone: dict[str, KnownFile] | None = None) -> set[str]:
    """Articles that changed or gone files carried before and that no file carries any more.

    Args:
        carried: article ids the run's own file rows carry (at least those among the replaced articles).
        carriers: what the lake last made of every path that carried one of the replaced articles.
        gone: known files that no longer exist (pruned), with what the lake last made of them.
    """
    gone = gone or {}
    replaced = replaced_articles(batches, gone)
    if not replaced:
        return set()
    changed = set().union(*(b.changed for b in batches), gone)
    still = set(carried)
    for path, known in carriers.items():
        if path not in changed:
            still |= known.article_ids
    return replaced - still


def article_rows(prepared: dict, keep: Keep, a: Analysis | None, run_id: str, now: datetime) -> tuple[dict, list[dict], list[dict]]:
    """The articles row and the sentences and mentions rows of one kept article (``a`` None: not analysed)."""
    aid = prepared["article_id"]
    article = {k: v for k, v in prepared.items() if k not in ("minhash", "bands")} | {
        "nlp_status": ("analysed" if not a.error else f"failed: {a.error}") if a is not None else "skipped: not English",
        "duplicate_of": keep.duplicate_of,
        "n_sentences": len(a.sentences) if a else 0,
        "n_mentions": len(a.mentions) if a else 0,
        "ingested_at": now,
        "run_id": run_id,
    }
    sentences = [{"article_id": aid, **s} for s in a.sentences] if a else []
    mentions = [{"article_id": aid, **m} for m in a.mentions] if a else []
    return article, sentences, mentions


def signature_rows(prepared: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The ``signatures`` rows of prepared articles (``PREPARED`` rows), in their order, and their
    ``signature_bands`` rows, sorted by band key and article id: taken from the columns, no row built."""
    bands = prepared.column("bands")
    owners = prepared.column("article_id").take(pc.list_parent_indices(bands))
    keys = pa.table([pc.list_flatten(bands), owners], schema=SIGNATURE_BANDS)
    return (prepared.select(SIGNATURES.names).cast(SIGNATURES),
            keys.sort_by([("band_key", "ascending"), ("article_id", "ascending")]))


def weight(item: str | Piece) -> int:
    """What a read batch item counts for: a path read whole, one; a piece of a JSON-lines dump, its lines."""
    return item.lines if isinstance(item, Piece) else 1


def is_range(item: str | Piece) -> bool:
    """Whether an item is a byte range of an uncompressed JSON-lines dump (not a file read whole or in one piece)."""
    return isinstance(item, Piece) and item.end is not None


def weighed_chunks(items: list[str | Piece], batch_size: int, workers: int, min_batch: int,
                   dump_batch: int | None = None) -> list[list[str | Piece]]:
    """Read batches by record count across files: consecutive items of at most ``batch_size``'s weight, or
    ``dump_batch``'s for a batch of dump ranges only (less when that spreads the items over every worker,
    never under ``min_batch``), at least one item each."""
    spread = max(min_batch, -(-sum(map(weight, items)) // workers))
    size, ranges = min(batch_size, spread), min(max(batch_size, dump_batch or batch_size), spread)
    out: list[list[str | Piece]] = []
    filled, only_ranges = size, False
    for item in items:
        only_ranges = only_ranges and is_range(item)
        if filled + weight(item) > (ranges if only_ranges else size) and (not out or out[-1]):
            out.append([])
            filled, only_ranges = 0, is_range(item)
        out[-1].append(item)
        filled += weight(item)
    return out
