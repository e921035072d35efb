"""WARC archives (``.warc``, ``.warc.gz``) to raw records: one candidate article per HTML response."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from transforms.formats import BadRecord, Limits, Record, html_record, parse_date
from transforms.text import RejectedInput

HTML_TYPES = ("text/html", "application/xhtml+xml")
ARTICLE_STATUSES = (200, 203)  # OK, and OK through a transforming proxy
DRAIN_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Skipped:
    """The records of an archive that are not articles, counted by kind (the archive's summary)."""

    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)

    @property
    def reason(self) -> str:
        """One line for ``files.reason``: ``WARC records not ingested: 2 request, 1 response HTTP 404``."""
        return "WARC records not ingested: " + ", ".join(f"{n:,} {kind}" for kind, n in self.counts)


class _Counted:
    """A binary stream that counts the bytes read from it."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.read_bytes = 0
        self.head = b""
        self.tail = b""
        self.unfinished_member = False

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if data:
            self.head = self.head or data[:2]
            self.tail = (self.tail + data)[-4:]
        self.read_bytes += len(data)
        return data

    def ended_inside_a_record(self, archive) -> bool:
        """Whether the stream stopped inside a record: a plain archive's last record lacks its closing
        blank lines, a gzip one's last member its end, or bytes were read past the last whole record."""
        if archive.offset < self.read_bytes:
            return True
        if self.head == b"\x1f\x8b":
            return self.unfinished_member
        return bool(self.read_bytes) and self.tail != b"\r\n\r\n"

    def watch(self, archive) -> None:
        """Note, as the archive's reader drops its last gzip decompressor, whether that member was whole."""
        reader = archive.reader
        drop = reader.close_decompressor

        def close_decompressor() -> None:
            d = reader.decompressor
            self.unfinished_member = d is not None and not getattr(d, "eof", True)
            drop()

        reader.close_decompressor = close_decompressor

    def close(self) -> None:
        """The archive reader closes its stream when done: the caller's stream stays open."""


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:120] or type(e).__name__


def _html_type(content_type: str | None, payload: bytes) -> bool:
    """Whether a response payload is HTML: by its Content-Type, else by its first bytes."""
    if content_type:
        return content_type.split(";")[0].strip().lower() in HTML_TYPES
    start = payload[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _not_article(record) -> str | None:
    """Why a record is not a candidate article before its payload is read (its kind for the counts), else None."""
    if record.rec_type != "response":
        return record.rec_type or "untyped"
    if record.http_headers is None or not record.http_headers.protocol.upper().startswith("HTTP/"):
        return "response without HTTP headers"
    status = record.http_headers.get_statuscode()
    if not status.isdigit() or int(status) not in ARTICLE_STATUSES:
        return f"response HTTP {status or '?'}"
    return None


def _drained_early(record) -> bool:
    """Read the rest of a record's block; whether it ended before its Content-Length (a truncated archive)."""
    while record.raw_stream.read(DRAIN_CHUNK):
        pass
    return record.raw_stream.limit > 0


def _read_payload(record, limit: int) -> tuple[bytes, bool]:
    """The decoded HTTP payload (chunked transfer and gzip, deflate or brotli content encodings undone),
    at most ``limit`` + 1 bytes; and whether the record's block ended early (a truncated archive)."""
    data = record.content_stream().read(limit + 1)
    return data, _drained_early(record)


def warc_records(stream: BinaryIO, limits: Limits) -> Iterator[Record | BadRecord | Skipped]:
    """Candidate articles of a WARC archive, lazily, in archive order: one ``Record`` per HTTP 200 HTML
    response (extracted as ``.html`` files are; ``url`` = WARC-Target-URI, ``published_at`` from the page,
    else WARC-Date; ``record`` = the record's 1-based ordinal in the archive), a ``BadRecord`` for a
    response that yields no article or for the damage that ends a truncated or corrupt archive, and last
    one ``Skipped`` with the counts of every other record (request, metadata, revisit, non-HTML, non-200).

    Raises RejectedInput when the stream is no WARC archive at all.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    skipped: Counter[str] = Counter()
    n = 0
    source = _Counted(stream)
    archive = ArchiveIterator(source, arc2warc=False)
    source.watch(archive)
    records = iter(archive)
    while True:
        try:
            record = next(records)
        except StopIteration:
            if source.ended_inside_a_record(archive):
                yield BadRecord(n + 1, f"record {n + 1}: truncated WARC archive (it ends inside this record)")
            break
        except Exception as e:  # warcio's errors on damaged input are of many types
            if "non-chunked gzip" in str(e):
                yield BadRecord(n + 1, f"record {n + 1}: a WARC archive gzipped as one stream, not record by record: the rest is not "
                                       "read (gunzip it to .warc, or recompress it with `warcio recompress`)")
                break
            if n == 0 and isinstance(e, ArchiveLoadFailed):
                raise RejectedInput(f"not a WARC archive ({_one_line(e)})") from None
            yield BadRecord(n + 1, f"record {n + 1}: corrupt WARC archive, the rest is not read ({_one_line(e)})")
            break
        if not record.rec_type or record.length is None:
            yield BadRecord(n + 1, f"record {n + 1}: corrupt WARC archive, a record without WARC-Type or Content-Length")
            break
        n += 1
        kind = _not_article(record)
        if kind:
            if _drained_early(record):
                yield BadRecord(n, f"record {n}: truncated WARC archive (it ends inside this record)")
                break
            skipped[kind] += 1
            continue
        uri = record.rec_headers.get_header("WARC-Target-URI")
        try:
            payload, truncated = _read_payload(record, limits.max_bytes)
        except Exception as e:  # a broken chunked or compressed body
            yield BadRecord(n, f"record {n} ({uri}): cannot decode the HTTP payload ({type(e).__name__}: {e})"[:300])
            continue
        if truncated:
            yield BadRecord(n, f"record {n} ({uri}): truncated WARC archive (it ends inside this record)")
            break
        if len(payload) > limits.max_bytes:
            yield BadRecord(n, f"record {n} ({uri}): HTTP payload over the {limits.max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)")
            continue
        if not _html_type(record.http_headers.get_header("Content-Type"), payload):
            content_type = (record.http_headers.get_header("Content-Type") or "unknown type").split(";")[0].strip().lower()
            skipped[f"response {content_type}"] += 1
            continue
        yield _article(n, uri, record.rec_headers.get_header("WARC-Date"), payload)
    if n == 0:
        raise RejectedInput("WARC archive without any record")
    if skipped:
        yield Skipped(tuple(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))))


def _article(n: int, uri: str | None, warc_date: str | None, payload: bytes) -> Record | BadRecord:
    """One HTML response as a candidate article, or the reason it is none."""
    try:
        rec = html_record(payload, uri)
    except RejectedInput as e:
        return BadRecord(n, f"record {n} ({uri}): {e}")
    return replace(rec, record=n, published_at=rec.published_at or parse_date(warc_date))
