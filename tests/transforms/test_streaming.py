"""JSON lines read as a stream: line numbers, byte ranges, appended dumps, compressed streams that break off."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import formats
from transforms.formats import BadRecord, JsonFields, Limits, Record, jsonl_records, open_stream, scan_dump, split_lines
from transforms.text import RejectedInput

LIMITS = Limits(max_line_bytes=60)
FIELDS = JsonFields()


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read: every chunk boundary falls somewhere new."""

    def __init__(self, data: bytes, step: int):
        self.buf, self.step = io.BytesIO(data), step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.buf.read(self.step if size < 0 else min(size, self.step))

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.buf.seek(pos, whence)


def line(text: str) -> bytes:
    return json.dumps({"text": text}).encode()


DUMP = b"".join([
    line("one") + b"\r\n",      # 1: CRLF
    b"\n",                      # 2: blank
    line("x" * 80) + b"\n",     # 3: over the 60-byte limit
    b"  \t \n",                 # 4: only spaces
    b"[1, 2]\n",                # 5: not an object
    line("six"),                # 6: last line, no newline
])


def summary(records) -> list[tuple]:
    return [(r.record, r.text) if isinstance(r, Record) else (r.record, r.reason) for r in records]


WHOLE = [
    (1, "one"),
    (3, "line 3: 92 bytes, over the 60-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)"),
    (5, "line 5: a JSON list, not an object"),
    (6, "six"),
]


@pytest.mark.parametrize("step", [1, 2, 7, 64, 1 << 20])
def test_lines_whatever_the_chunks(step, monkeypatch):
    monkeypatch.setattr(formats, "STREAM_CHUNK", step)
    got = [(n.number, n.data, n.size) for n in split_lines(Trickle(DUMP, step), 60)]
    assert got == [(1, line("one") + b"\r", 16), (2, b"", 0), (3, None, 92), (4, b"  \t ", 4), (5, b"[1, 2]", 6), (6, line("six"), 15)]
    assert summary(jsonl_records(Trickle(DUMP, step), FIELDS, LIMITS)) == WHOLE


def test_line_numbers_start_where_told_and_length_stops_the_read():
    tail = DUMP.index(b"[1, 2]")
    stream = io.BytesIO(DUMP)
    stream.seek(tail)
    assert summary(jsonl_records(stream, FIELDS, LIMITS, first_line=5, length=len(b"[1, 2]\n"), whole=False)) == [WHOLE[2]]


def test_an_empty_file_and_a_file_of_blank_lines_are_rejected_whole():
    with pytest.raises(RejectedInput, match="^empty file$"):
        list(jsonl_records(io.BytesIO(b""), FIELDS, LIMITS))
    with pytest.raises(RejectedInput, match="^JSON-lines file without any record$"):
        list(jsonl_records(io.BytesIO(b"\n \n\r\n"), FIELDS, LIMITS))
    assert list(jsonl_records(io.BytesIO(b"\n\n"), FIELDS, LIMITS, first_line=9, whole=False)) == []  # a range may hold none


def test_each_line_is_decoded_on_its_own():
    legacy = b'{"text": "A na\xefve reader of the news would take every word of this report at face value \x00"}\n'
    data = line("caf\u00e9") + b"\n" + legacy  # UTF-8, then cp1252 with a NUL
    got = list(jsonl_records(io.BytesIO(data), FIELDS, Limits()))
    assert [(r.record, r.text, r.encoding, r.note) for r in got] == [
        (1, "caf\u00e9", "utf-8", None),
        (2, "A na\u00efve reader of the news would take every word of this report at face value ", "cp1252", "removed 1 NUL/control byte")]


def test_utf16_lines_are_read_whole_within_the_file_limit():
    data = (line("one") + b"\n" + line("two") + b"\n").decode().encode("utf-16")
    assert summary(jsonl_records(io.BytesIO(data), FIELDS, LIMITS)) == [(1, "one"), (2, "two")]
    with pytest.raises(RejectedInput, match="a utf-16 JSON-lines file is read whole, and this one is larger than the 40-byte limit"):
        list(jsonl_records(io.BytesIO(data), FIELDS, Limits(max_bytes=40, max_line_bytes=60)))


def random_lines(n: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    words = "alpha beta gamma delta news report minister market".split()
    return b"".join(line(" ".join(rng.choices(words, k=6)) + f" {i}") + b"\n" for i in range(1, n + 1))


@pytest.mark.parametrize("method, compress", [("gzip", gzip.compress), ("zstd", zstandard.ZstdCompressor().compress)])
def test_a_truncated_stream_keeps_the_lines_before_the_break(method, compress):
    data = random_lines(4000)
    name = "dump.jsonl.gz" if method == "gzip" else "dump.jsonl.zst"
    whole = list(jsonl_records(open_stream(io.BytesIO(compress(data)), name, LIMITS), FIELDS, Limits()))
    assert [r.record for r in whole] == list(range(1, 4001))
    cut = list(jsonl_records(open_stream(io.BytesIO(compress(data)[:-200]), name, LIMITS), FIELDS, Limits()))
    *kept, last = cut
    assert [r.record for r in kept] == list(range(1, len(kept) + 1)) and len(kept) > 1000  # zstd emits whole blocks only
    assert last == BadRecord(len(kept) + 1, f"line {len(kept) + 1} onwards: truncated {method} file (the stream ends early)")


def test_a_zstd_bomb_is_refused_like_a_gzip_one():
    bomb = zstandard.ZstdCompressor().compress(b'{"text": "' + b" " * 50_000_000 + b'"}\n')
    with pytest.raises(RejectedInput, match=r"^zstd bomb: decompresses to more than 100 times its size \(NEWSLAKE_MAX_GZIP_RATIO\)$"):
        list(jsonl_records(open_stream(io.BytesIO(bomb), "bomb.jsonl.zst", Limits()), FIELDS, Limits()))


def test_several_gzip_members_and_trailing_bytes():
    data = gzip.compress(line("a") + b"\n") + gzip.compress(line("b") + b"\n") + b"\x00\x00"
    assert summary(jsonl_records(open_stream(io.BytesIO(data), "x.ndjson.gz", Limits()), FIELDS, Limits())) == [(1, "a"), (2, "b")]


def test_scan_cuts_ranges_of_lines_at_line_starts():
    scan = scan_dump(io.BytesIO(DUMP), 2)
    assert scan.size == len(DUMP) and scan.sha256 == hashlib.sha256(DUMP).hexdigest()
    starts = [0, DUMP.index(b"\n", DUMP.index(b"\n") + 1) + 1]
    starts.append(DUMP.index(b"[1, 2]"))
    assert scan.ranges == ((0, starts[1], 1), (starts[1], starts[2], 3), (starts[2], len(DUMP), 5))
    assert scan.kept_lines is None


def test_scan_of_an_appended_dump_covers_only_the_new_lines():
    old = random_lines(10)
    new = old + random_lines(3, seed=2)
    scan = scan_dump(io.BytesIO(new), 2, (len(old), hashlib.sha256(old).hexdigest()))
    assert scan.kept_lines == 10
    assert scan.ranges[0][0] == len(old) and scan.ranges[0][2] == 11 and [r[2] for r in scan.ranges] == [11, 13]
    assert scan.sha256 == hashlib.sha256(new).hexdigest()
    edited = b"X" + new[1:]
    assert scan_dump(io.BytesIO(edited), 20, (len(old), hashlib.sha256(old).hexdigest())).ranges == ((0, len(new), 1),)
    unfinished = old[:-1]  # the known bytes did not end a line: the last line may have grown
    assert scan_dump(io.BytesIO(new), 20, (len(unfinished), hashlib.sha256(unfinished).hexdigest())).kept_lines is None
    same = scan_dump(io.BytesIO(old), 4, (len(old), hashlib.sha256(old).hexdigest()))
    assert same.kept_lines is None and [r[2] for r in same.ranges] == [1, 5, 9]


def read_ranges(data: bytes, ranges) -> list:
    out = []
    for start, end, first in ranges:
        stream = Trickle(data, 5)
        stream.seek(start)
        try:
            out += summary(jsonl_records(stream, FIELDS, LIMITS, first, end - start, whole=(start, end) == (0, len(data))))
        except RejectedInput as e:
            out.append(("file", str(e)))
    return out


lines_st = st.lists(st.sampled_from([line("a"), line("bb") + b"\r", b"", b"  ", line("y" * 70), b"{bad", line("caf\u00e9")]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(lines=lines_st, newline_at_end=st.booleans(), every=st.integers(1, 32), step=st.integers(1, 40))
def test_any_cut_into_ranges_reads_exactly_the_whole(lines, newline_at_end, every, step):
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    formats_chunk = formats.STREAM_CHUNK
    formats.STREAM_CHUNK = step
    try:
        scan = scan_dump(Trickle(data, step), every)
        whole = read_ranges(data, [(0, len(data), 1)])
        assert read_ranges(data, scan.ranges) == whole
    finally:
        formats.STREAM_CHUNK = formats_chunk
    assert scan.ranges[0][0] == 0 and scan.ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(scan.ranges, scan.ranges[1:]))
    assert all(start == 0 or data[start - 1:start] == b"\n" for start, _, _ in scan.ranges)
    assert [first for _, _, first in scan.ranges] == [1 + data[:start].count(b"\n") for start, _, _ in scan.ranges]


@settings(max_examples=100, deadline=None)
@given(old=lines_st, added=lines_st.filter(bool), every=st.integers(1, 8))
def test_an_appended_dump_reads_as_the_whole_minus_the_kept_lines(old, added, every):
    before = b"".join(x + b"\n" for x in old)
    after = before + b"".join(x + b"\n" for x in added)
    scan = scan_dump(io.BytesIO(after), every, (len(before), hashlib.sha256(before).hexdigest()) if before else None)
    whole = [r for r in read_ranges(after, [(0, len(after), 1)]) if r[0] != "file"]
    got = [r for r in read_ranges(after, scan.ranges) if r[0] != "file"]
    kept = len(old) if before and after.strip() else 0  # a file of blank lines is read whole
    assert scan.kept_lines == (kept if kept or (before and after.strip()) else None)
    assert got == [r for r in whole if r[0] > kept]
