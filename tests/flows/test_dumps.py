"""A JSON-lines dump larger than the file limit, streamed; then appended to, unchanged, and edited in place."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.settings import Settings

pytestmark = pytest.mark.slow

WORDS = ("minister market report council election budget river harbour school hospital court police farmer "
         "village teacher museum festival league coach striker bank shares profit energy wind solar road rail "
         "airport union strike vote party leader treaty border army navy weather storm flood drought harvest "
         "price wage rent house city county mayor judge jury trial verdict appeal science study doctor nurse").split()


def record(i: int, edit: str = "") -> bytes:
    rng = random.Random(i)
    text = f"Report number {i}{edit}. " + " ".join(rng.choice(WORDS) for _ in range(40)) + "."
    return json.dumps({"url": f"https://example.com/{i}", "title": f"Story {i}", "text": text}).encode() + b"\n"


def query(settings, sql):
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_a_dump_streamed_appended_unchanged_and_edited(tmp_path):
    dump = tmp_path / "in" / "dump.jsonl"
    dump.parent.mkdir()
    long_line = json.dumps({"text": "x" * 3000}).encode() + b"\n"
    dump.write_bytes(b"".join(record(i) for i in range(1, 10_001)) + long_line)
    size = dump.stat().st_size
    settings = Settings.load(lake=tmp_path / "lake", nlp="dictionary", runner="local", batch_size=500,
                             max_file_bytes=100_000, max_line_bytes=2_000)
    assert size == 3_587_572 > settings.max_file_bytes  # the README's example

    first = ingest_flow([str(dump)], settings)
    assert (first["records_seen"], first["statuses"], first["articles"]) == (10_001, {"ingested": 10_000, "rejected": 1}, 10_000)
    assert query(settings, "select record, reason from files where status = 'rejected'") == [
        (10_001, "line 10001: 3,012 bytes, over the 2,000-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)")]
    assert query(settings, "select count(distinct record), min(record), max(record) from files where status = 'ingested'") == [(10_000, 1, 10_000)]
    rows_before = query(settings, "select * exclude (seen_at) from files order by record")

    with dump.open("ab") as fh:
        fh.write(b"".join(record(i) for i in range(10_001, 10_101)))
    second = ingest_flow([str(dump)], settings)
    assert (second["records_seen"], second["statuses"], second["articles"]) == (101, {"unchanged": 1, "ingested": 100}, 100)
    assert query(settings, f"select record, reason from files where status = 'unchanged' and run_id = '{second['run_id']}'") == [
        (10_001, f"lines 1-10001 (the first {size:,} bytes) as an earlier run read them; only the lines appended since are read")]
    assert query(settings, f"select min(record), max(record) from files where status = 'ingested' and run_id = '{second['run_id']}'") == [
        (10_002, 10_101)]
    assert query(settings, f"select * exclude (seen_at) from files where run_id = '{first['run_id']}' order by record") == rows_before
    assert query(settings, "select count(*) from articles") == [(10_100,)]

    third = ingest_flow([str(dump)], settings)
    assert (third["records_seen"], third["statuses"], third["articles"]) == (1, {"unchanged": 1}, 0)

    lines = dump.read_bytes().splitlines(keepends=True)
    (old_id,) = query(settings, "select article_id from articles where source_uri = 'https://example.com/7'")[0]
    lines[6] = record(7, edit=" (corrected)")
    dump.write_bytes(b"".join(lines))
    fourth = ingest_flow([str(dump)], settings)
    assert (fourth["statuses"], fourth["articles"], fourth["retired"]) == ({"duplicate": 10_099, "ingested": 1, "rejected": 1}, 1, 1)
    assert query(settings, "select count(*) from articles") == [(10_100,)]
    assert query(settings, f"select count(*) from articles where article_id = '{old_id}'") == [(0,)]
    assert query(settings, "select title, text like '%Report number 7 (corrected). %' from articles where source_uri = 'https://example.com/7'") == [
        ("Story 7", True)]
