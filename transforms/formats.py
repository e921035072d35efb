"""Input formats: plain text, HTML and JSON lines, each optionally gzip-compressed, to raw records."""

from __future__ import annotations

import io
import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from transforms.text import RejectedInput, decode_text, repair_note

if TYPE_CHECKING:
    from transforms.warc import Skipped

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
WARC_SUFFIXES = (".warc",)
GZIP_MAGIC = b"\x1f\x8b"
GZIP_CHUNK = 64 * 1024
RATIO_FLOOR = 1024 * 1024  # the gzip ratio limit applies past this many decompressed bytes
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """Size limits of one input: its bytes (and its gzip contents), the gzip expansion ratio, one JSON line."""

    max_bytes: int = 20_000_000
    max_gzip_ratio: int = 100
    max_line_bytes: int = 5_000_000


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
    """One article's raw text and metadata as found in an input (``record`` = JSON line number or WARC
    record ordinal, else None)."""

    record: int | None
    text: str
    encoding: str
    title: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    source_name: str | None = None
    note: str | None = None  # a repair made on the way (stray bytes removed), for ``files.reason``


@dataclass(frozen=True)
class BadRecord:
    """A line of a JSON-lines file that cannot become an article, with its one-line reason."""

    record: int
    reason: str
    encoding: str | None = None


def input_kind(name: str) -> str | None:
    """'text', 'html', 'jsonl' or 'warc' from a file name (``.gz`` allowed), or None for other files."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES), ("jsonl", JSONL_SUFFIXES), ("warc", WARC_SUFFIXES)):
        if lower.endswith(suffixes):
            return kind
    return None


def gunzip(data: bytes, limits: Limits) -> bytes:
    """Decompress gzip bytes (every member) a chunk at a time, refusing corrupt or truncated streams and
    output over ``limits.max_bytes`` or, past the first MiB, over ``max_gzip_ratio`` times the bytes read."""
    view, parts, total, pos = memoryview(data), [], 0, 0
    d = zlib.decompressobj(wbits=31)
    while True:
        piece = view[pos : pos + GZIP_CHUNK]
        try:
            chunk = d.decompress(piece, GZIP_CHUNK)
        except zlib.error as e:
            raise RejectedInput(f"corrupt gzip data ({e})") from None
        pos += len(piece) - len(d.unconsumed_tail) - len(d.unused_data)
        total += len(chunk)
        _check_expansion(total, pos, limits)
        parts.append(chunk)
        if d.eof:
            if not data.startswith(GZIP_MAGIC, pos):
                return b"".join(parts)
            d = zlib.decompressobj(wbits=31)
        elif not chunk and not piece:
            raise RejectedInput("truncated gzip file (the stream ends early)")


def _check_expansion(out: int, read: int, limits: Limits) -> None:
    """Raise RejectedInput when ``out`` decompressed bytes from ``read`` compressed ones break a limit."""
    if out > limits.max_bytes:
        raise RejectedInput(f"decompresses to more than the {limits.max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)")
    if out > RATIO_FLOOR and out > limits.max_gzip_ratio * read:
        raise RejectedInput(f"gzip bomb: decompresses to more than {limits.max_gzip_ratio} times its size "
                            f"(NEWSLAKE_MAX_GZIP_RATIO)")


def parse_date(value) -> datetime | None:
    """A timestamp from ISO text, a date, or epoch seconds; naive values are taken as UTC."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def host(url: str | None) -> str | None:
    """The host of a URL without 'www.'."""
    if not url:
        return None
    try:
        netloc = urlparse(url).netloc.lower()
    except ValueError:  # a malformed address ("http://[::1")
        return None
    return netloc[4:] if netloc.startswith("www.") else netloc or None


def parse(name: str, data: bytes, fields: JsonFields, limits: Limits) -> list[Record | BadRecord | Skipped]:
    """Records of one input file (and a WARC archive's count of records that are not articles).
    Raises RejectedInput when the whole file is unusable."""
    kind = input_kind(name)
    if kind == "warc":  # compressed record by record: the reader decompresses each
        from transforms.warc import warc_records

        return list(warc_records(io.BytesIO(data), limits))
    if name.lower().endswith(".gz"):
        data = gunzip(data, limits)
    text, encoding, removed = decode_text(data)
    note = repair_note(removed)
    if kind == "html":
        return [_html_record(text, encoding, note)]
    if kind == "jsonl":
        return _jsonl_records(text, encoding, fields, limits.max_line_bytes, note)
    return [Record(None, text, encoding, note=note)]


def html_record(data: bytes, url: str | None = None) -> Record:
    """The article of one HTML page's bytes (decoded as any input); ``url``: where the page was fetched
    (a WARC record's target), which wins over the page's own."""
    text, encoding, removed = decode_text(data)
    return _html_record(text, encoding, repair_note(removed), url)


def _html_record(html: str, encoding: str, note: str | None, url: str | None = None) -> Record:
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_precision=True)
    if doc is None or not (doc.text or "").strip():
        raise RejectedInput("HTML without extractable article text")
    url = url or doc.url or None
    return Record(None, doc.text, encoding, title=doc.title or None, url=url,
                  published_at=parse_date(doc.date), source_name=doc.sitename or host(url) or None, note=note)


def _first(obj: dict, keys: tuple[str, ...]):
    for key in keys:
        value = obj.get(key)
        if value not in (None, ""):
            return value
    return None


def _text(value) -> str | None:
    """A JSON value as text (lone surrogates, which no file can store, become U+FFFD), or None."""
    if not value:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _SURROGATE.search(text) else text


def _load_line(n: int, line: str, max_line_bytes: int) -> dict | BadRecord:
    """One JSON line as an object, or the reason it is none."""
    size = len(line.encode("utf-8", "surrogatepass")) if len(line) * 4 > max_line_bytes else 0
    if size > max_line_bytes:
        return BadRecord(n, f"line {n}: {size:,} bytes, over the {max_line_bytes:,}-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return BadRecord(n, f"line {n}: invalid JSON ({e.msg} at column {e.colno})")
    except RecursionError:
        return BadRecord(n, f"line {n}: invalid JSON (nested too deeply)")
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        return BadRecord(n, f"line {n}: invalid JSON ({str(e).split(':')[0]})")
    if not isinstance(obj, dict):
        return BadRecord(n, f"line {n}: a JSON {type(obj).__name__}, not an object")
    return obj


def _jsonl_records(text: str, encoding: str, fields: JsonFields, max_line_bytes: int, note: str | None) -> list[Record | BadRecord]:
    out: list[Record | BadRecord] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        obj = _load_line(n, line, max_line_bytes)
        if isinstance(obj, BadRecord):
            out.append(BadRecord(obj.record, obj.reason, encoding))
            continue
        body = _first(obj, fields.text)
        if not isinstance(body, str) or not body.strip():
            out.append(BadRecord(n, f"line {n}: no text in any of the fields {', '.join(fields.text)}", encoding))
            continue
        url = _text(_first(obj, fields.url))
        source = _first(obj, fields.source)
        if isinstance(source, dict):
            source = source.get("name")
        out.append(Record(n, _text(body), encoding, title=_text(_first(obj, fields.title)), url=url,
                          published_at=parse_date(_first(obj, fields.published)),
                          source_name=_text(source) or host(url), note=note))
    if not out:
        raise RejectedInput("JSON-lines file without any record")
    return out
