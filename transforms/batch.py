"""Per-file decisions and table rows for a batch of raw inputs (pure: bytes in, rows out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from transforms.nlp import Analysis
from transforms.text import CleanArticle, RejectedInput, article_id, clean, decode, sha256, word_count


@dataclass(frozen=True)
class RawFile:
    """One input file as read: its path, size and bytes (``data`` is None when unreadable)."""

    path: str
    size: int
    data: bytes | None
    error: str | None = None


@dataclass
class Prepared:
    """A file turned into a clean article, waiting for language processing."""

    file_row: dict
    article: CleanArticle
    article_id: str


@dataclass
class BatchPlan:
    """What to do with each file of a batch: the articles to analyse and every file's account."""

    to_analyse: list[Prepared] = field(default_factory=list)
    file_rows: list[dict] = field(default_factory=list)


def plan_batch(
    files: list[RawFile],
    known_files: dict[str, str],
    known_articles: set[str],
    max_bytes: int,
    run_id: str,
    now: datetime,
) -> BatchPlan:
    """Decide each file's status: rejected, unchanged (same path and bytes), duplicate, or ingested.

    Args:
        known_files: path -> sha256 of files already accounted for in the lake.
        known_articles: article ids already in the lake or earlier in this run (updated in place).
    """
    plan = BatchPlan()
    for f in files:
        row = {"run_id": run_id, "path": f.path, "size": f.size, "sha256": None, "status": "rejected",
               "reason": None, "article_id": None, "encoding": None, "seen_at": now}
        plan.file_rows.append(row)
        if f.data is None:
            row["reason"] = f.error or "unreadable"
            continue
        if f.size > max_bytes:
            row["reason"] = f"larger than the {max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)"
            continue
        row["sha256"] = digest = sha256(f.data)
        if known_files.get(f.path) == digest:
            row["status"], row["reason"] = "unchanged", "same bytes as an earlier run"
            continue
        try:
            text, row["encoding"] = decode(f.data)
            article = clean(text)
        except RejectedInput as e:
            row["reason"] = str(e)
            continue
        aid = article_id(article.text)
        row["article_id"] = aid
        if aid in known_articles:
            row["status"], row["reason"] = "duplicate", "same normalised text as an article already in the lake"
            continue
        known_articles.add(aid)
        row["status"] = "ingested"
        plan.to_analyse.append(Prepared(row, article, aid))
    return plan


def article_rows(p: Prepared, a: Analysis, source_name: str | None, run_id: str, now: datetime) -> tuple[dict, list[dict], list[dict]]:
    """The articles row and the sentences and mentions rows of one analysed article."""
    article = {
        "article_id": p.article_id,
        "source_uri": p.file_row["path"],
        "source_name": source_name,
        "title": p.article.title,
        "text": p.article.text,
        "published_at": None,
        "language": "en",
        "n_sentences": len(a.sentences),
        "n_mentions": len(a.mentions),
        "n_words": word_count(p.article.text),
        "boilerplate_chars": p.article.boilerplate_chars,
        "encoding": p.file_row["encoding"],
        "ingested_at": now,
        "run_id": run_id,
    }
    sentences = [{"article_id": p.article_id, **s} for s in a.sentences]
    mentions = [{"article_id": p.article_id, **m} for m in a.mentions]
    return article, sentences, mentions
