"""Input formats: plain text, HTML and JSON lines, each optionally gzip-compressed, to raw records."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlparse

from transforms.text import RejectedInput, decode

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class JsonFields:
    """Which JSON keys hold what; the first key present wins (NEWSLAKE_JSON_* settings)."""

    text: tuple[str, ...] = ("text", "body", "content", "article", "maintext")
    title: tuple[str, ...] = ("title", "headline")
    url: tuple[str, ...] = ("url", "link", "uri")
    published: tuple[str, ...] = ("published", "published_at", "date", "pubdate", "date_publish", "datetime")
    source: tuple[str, ...] = ("source", "source_name", "site", "publisher")


@dataclass(frozen=True)
class Record:
    """One article's raw text and metadata as found in an input (``record`` = JSON line number, else None)."""

    record: int | None
    text: str
    encoding: str
    title: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    source_name: str | None = None


@dataclass(frozen=True)
class BadRecord:
    """A line of a JSON-lines file that cannot become an article, with its one-line reason."""

    record: int
    reason: str
    encoding: str | None = None


def input_kind(name: str) -> str | None:
    """'text', 'html' or 'jsonl' from a file name (``.gz`` allowed), or None for other files."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES), ("jsonl", JSONL_SUFFIXES)):
        if lower.endswith(suffixes):
            return kind
    return None


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress gzip bytes, refusing truncated or corrupt streams and output over ``max_bytes``."""
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as e:
        raise RejectedInput(f"corrupt gzip data ({e})") from None
    if len(out) > max_bytes:
        raise RejectedInput(f"decompresses to more than the {max_bytes:,}-byte limit")
    if not d.eof:
        raise RejectedInput("truncated gzip file (the stream ends early)")
    return out


def parse_date(value) -> datetime | None:
    """A timestamp from ISO text, a date, or epoch seconds; naive values are taken as UTC."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)):
            dt = datetime.fromtimestamp(value, tz=timezone.utc)
        else:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def host(url: str | None) -> str | None:
    """The host of a URL without 'www.'."""
    if not url:
        return None
    netloc = urlparse(url).netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc or None


def parse(name: str, data: bytes, fields: JsonFields, max_bytes: int) -> list[Record | BadRecord]:
    """Records of one input file. Raises RejectedInput when the whole file is unusable."""
    kind = input_kind(name)
    if name.lower().endswith(".gz"):
        data = gunzip(data, max_bytes)
    text, encoding = decode(data)
    if kind == "html":
        return [_html_record(text, encoding)]
    if kind == "jsonl":
        return _jsonl_records(text, encoding, fields)
    return [Record(None, text, encoding)]


def _html_record(html: str, encoding: str) -> Record:
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_precision=True)
    if doc is None or not (doc.text or "").strip():
        raise RejectedInput("HTML without extractable article text")
    return Record(None, doc.text, encoding, title=doc.title or None, url=doc.url or None,
                  published_at=parse_date(doc.date), source_name=doc.sitename or host(doc.url) or None)


def _first(obj: dict, keys: tuple[str, ...]):
    for key in keys:
        value = obj.get(key)
        if value not in (None, ""):
            return value
    return None


def _jsonl_records(text: str, encoding: str, fields: JsonFields) -> list[Record | BadRecord]:
    out: list[Record | BadRecord] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            out.append(BadRecord(n, f"line {n}: invalid JSON ({e.msg} at column {e.colno})", encoding))
            continue
        if not isinstance(obj, dict):
            out.append(BadRecord(n, f"line {n}: a JSON {type(obj).__name__}, not an object", encoding))
            continue
        body = _first(obj, fields.text)
        if not isinstance(body, str) or not body.strip():
            out.append(BadRecord(n, f"line {n}: no text in any of the fields {', '.join(fields.text)}", encoding))
            continue
        url = _first(obj, fields.url)
        source = _first(obj, fields.source)
        if isinstance(source, dict):
            source = source.get("name")
        title = _first(obj, fields.title)
        out.append(Record(n, body, encoding, title=str(title) if title else None, url=str(url) if url else None,
                          published_at=parse_date(_first(obj, fields.published)),
                          source_name=str(source) if source else host(str(url) if url else None)))
    if not out:
        raise RejectedInput("JSON-lines file without any record")
    return out
