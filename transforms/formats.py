"""Input formats: plain text, HTML and JSON lines, each optionally gzip- or zstd-compressed, to raw records.

Plain text and HTML are read whole (``parse``). JSON lines are streamed (``jsonl_records``): a parser
that yields records from a binary stream, a line at a time, in constant memory whatever the file size;
other record formats streamed from archives take the same shape."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from transforms.text import RejectedInput, decode_text, repair_note, wide_encoding

if TYPE_CHECKING:
    from transforms.warc import Skipped

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
WARC_SUFFIXES = (".warc",)
GZIP_MAGIC = b"\x1f\x8b"
GZIP_CHUNK = 64 * 1024
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
STREAM_CHUNK = 1024 * 1024  # bytes read from a stream at once
ZSTD_FEED = 1024  # compressed bytes given to zstd at once (its output per call is unbounded: a bomb stays small)
RATIO_FLOOR = 1024 * 1024  # the gzip ratio limit applies past this many decompressed bytes
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """Size limits of one input: its bytes (and its decompressed contents) when read whole, the
    decompression ratio, one JSON line (the only limit of a streamed JSON-lines file)."""

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


@dataclass(frozen=True)
class Line:
    """One line of a stream without its newline: its number, its bytes (None when over the limit, not
    kept) and its length in bytes."""

    number: int
    data: bytes | None
    size: int


def compression(name: str) -> str | None:
    """'gzip' or 'zstd' from a file name's last suffix, else None."""
    lower = name.lower()
    return next((method for suffix, method in COMPRESSIONS.items() if lower.endswith(suffix)), None)


def input_kind(name: str) -> str | None:
    """'text', 'html', 'jsonl' or 'warc' from a file name (``.gz`` or ``.zst`` allowed; a WARC archive
    ``.gz`` only, compressed record by record), or None for other files."""
    lower = name.lower()
    method = compression(lower)
    if method:
        lower = lower.rsplit(".", 1)[0]
    if lower.endswith(WARC_SUFFIXES):
        return "warc" if method in (None, "gzip") else None  # warcio reads no zstd archive
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES), ("jsonl", JSONL_SUFFIXES)):
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


def _check_expansion(out: int, read: int, limits: Limits, max_out: int | None = -1, method: str = "gzip") -> None:
    """Raise RejectedInput when ``out`` decompressed bytes from ``read`` compressed ones break a limit
    (``max_out``: the limit of the total, -1 for ``limits.max_bytes``, None for none)."""
    max_out = limits.max_bytes if max_out == -1 else max_out
    if max_out is not None and out > max_out:
        raise RejectedInput(f"decompresses to more than the {limits.max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)")
    if out > RATIO_FLOOR and out > limits.max_gzip_ratio * read:
        raise RejectedInput(f"{method} bomb: decompresses to more than {limits.max_gzip_ratio} times its size "
                            f"(NEWSLAKE_MAX_GZIP_RATIO)")


class Decompressed(io.RawIOBase):
    """The contents of a gzip (every member) or zstd (every frame) stream, decompressed as read, with
    the expansion guards of ``_check_expansion`` (``max_out`` None: no limit on the total, the ratio
    guard only). Reading raises RejectedInput on corrupt or truncated data."""

    def __init__(self, raw: BinaryIO, method: str, limits: Limits, max_out: int | None = None):
        self.raw, self.method, self.limits, self.max_out = raw, method, limits, max_out
        self.pending = b""  # compressed bytes read but not yet decompressed
        self.out = b""  # decompressed bytes not yet returned
        self.d = None  # the decompressor of the member or frame being read
        self.done = False
        self.read_in = self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.out and not self.done:
            self._fill()
        n = min(len(buffer), len(self.out))
        buffer[:n] = self.out[:n]
        self.out = self.out[n:]
        return n

    def _fill(self) -> None:
        if not self.pending:
            self.pending = self.raw.read(GZIP_CHUNK)
            self.read_in += len(self.pending)
            if not self.pending:
                if self.d is not None:
                    raise RejectedInput(f"truncated {self.method} file (the stream ends early)")
                self.done = True
                return
        if self.d is None:
            magic = GZIP_MAGIC if self.method == "gzip" else ZSTD_MAGIC
            if self.total and not magic.startswith(self.pending[: len(magic)]):
                self.done = True  # bytes after the last member, as gzip itself ignores them
                return
            self.d = zlib.decompressobj(wbits=31) if self.method == "gzip" else _zstd().ZstdDecompressor().decompressobj()
        try:
            if self.method == "gzip":
                chunk = self.d.decompress(self.pending, GZIP_CHUNK)
                self.pending = self.d.unused_data if self.d.eof else self.d.unconsumed_tail
            else:
                chunk = self.d.decompress(self.pending[:ZSTD_FEED])
                self.pending = (self.d.unused_data if self.d.eof else b"") + self.pending[ZSTD_FEED:]
        except Exception as e:  # zlib.error, zstandard.ZstdError
            raise RejectedInput(f"corrupt {self.method} data ({e})") from None
        if self.d.eof:
            self.d = None
        self.total += len(chunk)
        _check_expansion(self.total, self.read_in, self.limits, self.max_out, self.method)
        self.out += chunk


def _zstd():
    import zstandard  # only where a .zst input is read

    return zstandard


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def open_stream(raw: BinaryIO, name: str, limits: Limits, max_out: int | None = None) -> BinaryIO:
    """An input's contents as a binary stream: decompressed as read when its name says gzip or zstd."""
    method = compression(name)
    return Decompressed(raw, method, limits, max_out) if method else raw  # unbuffered: a break loses no line before it


def split_lines(stream: BinaryIO, max_line_bytes: int, first_line: int = 1, length: int | None = None) -> Iterator[Line]:
    """The lines of a binary stream (split at b"\\n"; a CR before it stays), a chunk at a time: at most
    ``length`` bytes when given. A line over ``max_line_bytes`` comes with its size and no bytes, read
    past without holding it; a last line without a newline comes too, an empty one does not."""
    number, parts, size, remaining = first_line, [], 0, length
    while remaining is None or remaining > 0:
        chunk = stream.read(STREAM_CHUNK if remaining is None else min(STREAM_CHUNK, remaining))
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
        pos = 0
        while True:
            newline = chunk.find(b"\n", pos)
            end = len(chunk) if newline < 0 else newline
            size += end - pos
            if size <= max_line_bytes:
                parts.append(chunk[pos:end])
            elif parts:
                parts = []
            if newline < 0:
                break
            yield Line(number, b"".join(parts) if size <= max_line_bytes else None, size)
            number, parts, size, pos = number + 1, [], 0, newline + 1
    if size:
        yield Line(number, b"".join(parts) if size <= max_line_bytes else None, size)


def jsonl_records(stream: BinaryIO, fields: JsonFields, limits: Limits, first_line: int = 1,
                  length: int | None = None, whole: bool = True) -> Iterator[Record | BadRecord]:
    """Records of a JSON-lines stream (already decompressed), a line at a time, numbered from
    ``first_line``; ``length`` bytes at most. Each line is decoded on its own (UTF-8, else detected).
    A line over ``limits.max_line_bytes`` is a BadRecord alone. A stream that breaks off (truncated or
    corrupt compressed data) ends with a BadRecord for the line where it broke; the lines before it stay.

    Raises RejectedInput when the stream is a ``whole`` file (not one range of it) without any record,
    and for UTF-16 or UTF-32 text (which cannot be cut into lines undecoded) over ``limits.max_bytes``."""
    try:
        head = stream.read(4096) if first_line == 1 else b""
    except RejectedInput as e:
        raise RejectedInput(str(e)) from None
    if wide_encoding(head):
        rest = stream.read(limits.max_bytes + 1 - len(head))
        if len(head) + len(rest) > limits.max_bytes:
            raise RejectedInput(f"a {wide_encoding(head)} JSON-lines file is read whole, and this one is larger than the "
                                f"{limits.max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)")
        text, encoding, removed = decode_text(head + rest)
        yield from _jsonl_records(text, encoding, fields, limits.max_line_bytes, repair_note(removed))
        return
    if whole and not head:
        raise RejectedInput("empty file")
    body = _Prefixed(head, stream) if head else stream
    found, number = False, first_line
    try:
        for line in split_lines(body, limits.max_line_bytes, first_line, length):
            number = line.number + 1
            if line.data is None:
                found = True
                yield BadRecord(line.number, _over_limit(line.number, line.size, limits.max_line_bytes))
            elif line.data.strip():
                found = True
                yield _line_record(line.number, line.data, fields, limits.max_line_bytes)
    except RejectedInput as e:
        found = True
        yield BadRecord(number, f"line {number} onwards: {e}")
    if not found and whole:
        raise RejectedInput("JSON-lines file without any record")


@dataclass(frozen=True)
class DumpScan:
    """An uncompressed JSON-lines file after one pass: its size, sha256 and the byte ranges to read,
    each (start, end, first line number), cut at line starts; ``kept_lines`` when the file grew by
    appended lines after a known prefix of that many lines, which the ranges leave out."""

    size: int
    sha256: str
    ranges: tuple[tuple[int, int, int], ...]
    kept_lines: int | None = None


def scan_dump(stream: BinaryIO, every: int, known: tuple[int, str] | None = None) -> DumpScan:
    """Hash a JSON-lines stream and cut it into ranges of ``every`` lines (the last one shorter), in one
    pass, holding one chunk at a time. With ``known`` (size, sha256) of an earlier read: when the
    stream's first ``size`` bytes still hash to it, end with a newline and more bytes follow, the ranges
    cover only the bytes after them (an appended dump). UTF-16 or UTF-32 text, and a file of blank
    lines, are one range (read whole)."""
    digest, prefix = hashlib.sha256(), hashlib.sha256()
    pos, lines, since, kept = 0, 0, 0, None
    starts = [(0, 1)]
    boundary = known[0] if known and known[0] > 0 else None
    wide, last, blank = None, b"", True
    while True:
        want = STREAM_CHUNK if boundary is None or pos >= boundary else min(STREAM_CHUNK, boundary - pos)
        chunk = stream.read(want)
        if not chunk:
            break
        if pos == 0:
            wide = wide_encoding(chunk[:4096])
        digest.update(chunk)
        blank = blank and not chunk.strip()
        at = 0
        while wide is None:
            counted, need = chunk.count(b"\n", at), every - since
            if counted < need:
                lines, since = lines + counted, since + counted
                break
            newline = at - 1
            for _ in range(need):
                newline = chunk.find(b"\n", newline + 1)
            lines, since, at = lines + need, 0, newline + 1
            starts.append((pos + at, lines + 1))
        pos += len(chunk)
        last = chunk[-1:]
        if boundary is not None and pos <= boundary:
            prefix.update(chunk)
            if pos == boundary and wide is None and last == b"\n" and prefix.hexdigest() == known[1]:
                kept, whole, starts, since = lines, starts, [(pos, lines + 1)], 0
    if wide or blank:  # read whole: the reader says which encoding, or that the file holds no record
        return DumpScan(pos, digest.hexdigest(), ((0, pos, 1),))
    if kept is not None and pos == boundary:
        kept, starts = None, whole  # the same bytes: nothing appended
    ends = [start for start, _ in starts[1:]] + [pos]
    ranges = tuple((start, end, first) for (start, first), end in zip(starts, ends) if end > start or len(starts) == 1)
    return DumpScan(pos, digest.hexdigest(), ranges, kept)


class _Prefixed(io.RawIOBase):
    """Bytes already read from a stream, then the rest of the stream."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else (self.head[:size], self.head[size:])
            return out
        return self.stream.read(size)


def _over_limit(n: int, size: int, max_line_bytes: int) -> str:
    return f"line {n}: {size:,} bytes, over the {max_line_bytes:,}-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)"


def _line_record(n: int, data: bytes, fields: JsonFields, max_line_bytes: int) -> Record | BadRecord:
    """One JSON line's record, decoded on its own, or why it is none."""
    try:
        text, encoding, removed = decode_text(data)
    except RejectedInput as e:
        return BadRecord(n, f"line {n}: {e}")
    return _object_record(n, _load_line(n, text, max_line_bytes), encoding, fields, repair_note(removed))


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
    if compression(name) == "gzip":
        data = gunzip(data, limits)
    elif compression(name) == "zstd":
        data = Decompressed(io.BytesIO(data), "zstd", limits).readall()
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
        return BadRecord(n, _over_limit(n, size, max_line_bytes))
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
        if line.strip():
            out.append(_object_record(n, _load_line(n, line, max_line_bytes), encoding, fields, note))
    if not out:
        raise RejectedInput("JSON-lines file without any record")
    return out


def _object_record(n: int, obj: dict | BadRecord, encoding: str, fields: JsonFields, note: str | None) -> Record | BadRecord:
    """The record of line ``n``'s JSON object, or why it is none."""
    if isinstance(obj, BadRecord):
        return BadRecord(obj.record, obj.reason, encoding)
    body = _first(obj, fields.text)
    if not isinstance(body, str) or not body.strip():
        return BadRecord(n, f"line {n}: no text in any of the fields {', '.join(fields.text)}", encoding)
    url = _text(_first(obj, fields.url))
    source = _first(obj, fields.source)
    if isinstance(source, dict):
        source = source.get("name")
    return Record(n, _text(body), encoding, title=_text(_first(obj, fields.title)), url=url,
                  published_at=parse_date(_first(obj, fields.published)), source_name=_text(source) or host(url), note=note)
