"""Property: whatever bytes arrive under whatever supported name, the pure reading stages give
articles or rejections with a one-line reason, and rows the lake's tables accept; never an error."""

import gzip
import json
from dataclasses import fields
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.batch import PREPARED, RawFile, ReadOptions, prepare_files, resolve
from transforms.formats import HTML_SUFFIXES, JSONL_SUFFIXES, TEXT_SUFFIXES, JsonFields
from transforms.schemas import FILES, to_table

SUFFIXES = [s + gz for s in TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES for gz in ("", ".gz")]
KEYS = sorted({key for f in fields(JsonFields) for key in getattr(JsonFields(), f.name)})
WORDS = st.sampled_from(["The", "minister", "said", "talks", "in", "Paris", "resume", "\x00", "\x07", "\u2028", "é", "\ud83d",
                         ".", "\n", "\r\n", " ", "http://[", "9999-12-31T23:59:59-01:00"])
PROSE = st.lists(WORDS | st.text(max_size=8), max_size=60).map(" ".join)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | PROSE | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
OBJECTS = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), JSON_VALUES, max_size=6)
ARTICLES = st.tuples(OBJECTS, st.sampled_from(JsonFields().text), PROSE).map(lambda o: {**o[0], o[1]: o[2]})
JSON_LINES = st.lists((OBJECTS | ARTICLES).map(json.dumps) | st.text(max_size=40), max_size=6).map("\n".join)
TEXTS = PROSE | JSON_LINES | PROSE.map(lambda t: f"<html><head><title>{t[:30]}</title></head><body><article><p>{t}</p></article></body></html>")
ENCODED = st.tuples(TEXTS, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252", "latin-1"])).map(
    lambda te: te[0].encode(te[1], "surrogatepass" if te[1].startswith("utf") else "replace"))
CONTENT = st.binary(max_size=2000) | ENCODED


@st.composite
def raw_files(draw) -> RawFile:
    suffix = draw(st.sampled_from(SUFFIXES))
    data = draw(CONTENT)
    if suffix.endswith(".gz") and draw(st.integers(0, 3)):
        data = gzip.compress(data)[: draw(st.none() | st.integers(0, 200)) or None]
    return RawFile(f"/in/{draw(st.text(min_size=1, max_size=8).filter(lambda n: '/' not in n))}{suffix}", len(data), data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_files())
def test_any_bytes_under_any_supported_name_become_articles_or_a_reasoned_rejection(f):
    batch = prepare_files([f], {}, {}, ReadOptions(max_bytes=20_000, max_line_bytes=800), "p0")
    for row in batch.file_rows:
        assert row["status"] in ("pending", "rejected")
        if row["status"] == "rejected":
            assert row["reason"] and "\n" not in row["reason"]
            assert not row["reason"].startswith(("cannot parse:", "cannot clean:")), row["reason"]
    to_table(batch.articles, PREPARED)
    rows = resolve([batch], set(), {}, 0.8, "r1", datetime(2026, 1, 1, tzinfo=timezone.utc)).file_rows
    to_table(rows, FILES)
