import gzip
import json
import random
import tracemalloc
import zlib
from datetime import datetime, timezone

import pytest

from transforms.formats import BadRecord, JsonFields, Limits, Record, gunzip, host, parse, parse_date
from transforms.text import RejectedInput


def _zeros_gzip(mib: int) -> bytes:
    """``mib`` MiB of NUL bytes, gzipped (about 1 KiB per MiB), made a MiB at a time."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(z.compress(bytes(1 << 20)) for _ in range(mib)) + z.flush()


def _rejection(data: bytes, limits: Limits) -> str:
    with pytest.raises(RejectedInput) as e:
        gunzip(data, limits)
    return str(e.value)


def test_gunzip_reads_every_member_and_ignores_trailing_zeros():
    assert gunzip(gzip.compress(b"one ") + gzip.compress(b"two") + b"\x00\x00", Limits()) == b"one two"


def test_gunzip_rejects_a_truncated_or_corrupt_stream():
    assert _rejection(gzip.compress(b"Truncated story")[:-6], Limits()) == "truncated gzip file (the stream ends early)"
    assert _rejection(b"\x1f\x8b\x08\x00" + b"\xff" * 20, Limits()).startswith("corrupt gzip data (")


def test_a_gzip_bomb_is_rejected_by_its_ratio_without_being_inflated():
    bomb = _zeros_gzip(1024)  # 1 GiB inside
    tracemalloc.start()
    reason = _rejection(bomb, Limits(max_bytes=10**12))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reason == "gzip bomb: decompresses to more than 100 times its size (NEWSLAKE_MAX_GZIP_RATIO)"
    assert len(bomb) < 1_100_000 and peak < 3_000_000


def test_gzip_contents_over_the_size_limit_are_rejected_while_streaming():
    words = random.Random(1).choices(["talks", "minister", "resumed", "Monday", "the", "in", "capital", "strike"], k=800_000)
    data = gzip.compress(" ".join(words).encode(), compresslevel=1)  # 5 MB, ratio about 3
    tracemalloc.start()
    reason = _rejection(data, Limits(max_bytes=2_000_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reason == "decompresses to more than the 2,000,000-byte limit (NEWSLAKE_MAX_FILE_BYTES)"
    assert peak < 2_000_000 + 1_000_000


def test_a_highly_compressible_small_file_is_not_a_bomb():
    assert gunzip(gzip.compress(b"word " * 200_000), Limits()) == b"word " * 200_000  # 1 MB, ratio about 300


JSONL = "\n".join([
    json.dumps({"title": "Flood warning", "text": "Officials in York warned of floods."}),
    "{broken",
    json.dumps({"text": "x" * 400}),
    "[" * 50_000,
    "1" * 5_000,
    json.dumps({"text": "Lone \ud800 surrogate.", "title": {"a": 1}, "url": "http://[::1", "date": "9999-12-31T23:59:59-01:00"}),
    json.dumps(["not", "an", "object"]),
])


def test_each_bad_json_line_is_a_bad_record_and_the_others_are_read():
    records = parse("feed.jsonl", JSONL.encode(), JsonFields(), Limits(max_line_bytes=300))
    assert records == [
        Record(1, "Officials in York warned of floods.", "utf-8", title="Flood warning"),
        BadRecord(2, "line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)", "utf-8"),
        BadRecord(3, "line 3: 412 bytes, over the 300-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)", "utf-8"),
        BadRecord(4, "line 4: 50,000 bytes, over the 300-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)", "utf-8"),
        BadRecord(5, "line 5: 5,000 bytes, over the 300-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)", "utf-8"),
        Record(6, "Lone \ufffd surrogate.", "utf-8", title="{'a': 1}", url="http://[::1"),
        BadRecord(7, "line 7: a JSON list, not an object", "utf-8"),
    ]


def test_json_lines_too_deep_or_with_too_long_numbers_are_bad_records():
    data = ("[" * 50_000 + "\n" + "1" * 5_000 + "\n").encode()
    assert parse("feed.ndjson", data, JsonFields(), Limits()) == [
        BadRecord(1, "line 1: invalid JSON (nested too deeply)", "utf-8"),
        BadRecord(2, "line 2: invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)", "utf-8"),
    ]


def test_stray_bytes_are_noted_on_every_record_of_the_file():
    data = b'{"text": "Officials in York warned of floods on Friday."}\x00\n{"text": "Police in Leeds said the match would go ahead."}\n'
    assert [r.note for r in parse("feed.jsonl", data, JsonFields(), Limits())] == ["removed 1 NUL/control byte"] * 2
    assert parse("a.txt", b"Talks resume\n\nThe talks\x00 resumed.", JsonFields(), Limits()) == [
        Record(None, "Talks resume\n\nThe talks resumed.", "utf-8", note="removed 1 NUL/control byte")]


@pytest.mark.parametrize("value, expected", [
    ("2024-01-25T10:00:00Z", datetime(2024, 1, 25, 10, tzinfo=timezone.utc)),
    ("9999-12-31T23:59:59-01:00", None),
    (1e300, None),
    (float("nan"), None),
    ([2024], None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("url, expected", [("https://www.example.org/a", "example.org"), ("http://[::1", None), (None, None)])
def test_host(url, expected):
    assert host(url) == expected
