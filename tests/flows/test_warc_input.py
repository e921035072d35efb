"""The real flow over WARC archives: articles from HTML responses, every other record counted, damage accounted."""

from datetime import datetime, timezone

import duckdb
import pytest

from flows import warehouse
from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.settings import Settings
from tests.transforms.warcs import news_archive, offsets

pytestmark = pytest.mark.slow


def query(settings, sql):
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_warc_archive_is_ingested_end_to_end(tmp_path):
    inputs = tmp_path / "crawl"
    inputs.mkdir()
    (inputs / "news.warc.gz").write_bytes(news_archive(gz=True))
    plain = news_archive()
    (inputs / "cut.warc").write_bytes(plain[: offsets(plain)[4] + 200])  # ends inside record 5
    settings = Settings.load(lake=tmp_path / "lake", batch_size=2, nlp="dictionary")

    summary = ingest_flow([str(inputs)], settings)

    assert summary["files_seen"] == 2 and summary["records_seen"] == 7
    assert summary["statuses"] == {"ingested": 2, "duplicate": 1, "rejected": 2, "skipped": 2}
    rows = query(settings, "select regexp_replace(path, '.*/', ''), record, status, reason from files order by all")
    assert rows == [
        ("cut.warc", 3, "ingested", None),
        ("cut.warc", 5, "rejected", "record 5: truncated WARC archive (it ends inside this record)"),
        ("cut.warc", None, "skipped", "WARC records not ingested: 1 metadata, 1 request, 1 warcinfo"),
        ("news.warc.gz", 3, "duplicate", "same normalised text as an article already in the lake or this run"),
        ("news.warc.gz", 5, "ingested", None),
        ("news.warc.gz", 9, "rejected", "record 9 (http://news.example/empty): HTML without extractable article text"),
        ("news.warc.gz", None, "skipped", "WARC records not ingested: 1 metadata, 1 request, 1 response HTTP 404, "
                                          "1 response image/png, 1 revisit, 1 warcinfo"),
    ]
    assert query(settings, "select source_uri, source_name, title, published_at, nlp_status from articles order by source_uri") == [
        ("http://news.example/budget", "news.example", "Council approves budget", datetime(2024, 1, 5, 10, tzinfo=timezone.utc), "analysed"),
        ("https://www.harbour.example/cod", "harbour.example", "Best catch in a decade", datetime(2023, 3, 2, tzinfo=timezone.utc), "analysed"),
    ]
    assert set(warehouse.data_tests(Lake(settings.lake), settings.sql_dir).values()) == {0}

    again = ingest_flow([str(inputs)], settings)
    assert again["statuses"] == {"unchanged": 2} and again["articles"] == 0


def test_a_local_warc_archive_over_the_file_size_limit_is_streamed(tmp_path):
    inputs = tmp_path / "crawl"
    inputs.mkdir()
    data = news_archive(gz=True)
    (inputs / "news.warc.gz").write_bytes(data)
    settings = Settings.load(lake=tmp_path / "lake", nlp="dictionary", max_file_bytes=len(data) // 2)  # each payload still fits

    summary = ingest_flow([str(inputs)], settings)

    assert summary["statuses"] == {"ingested": 2, "rejected": 1, "skipped": 1}
    assert query(settings, "select record, status from files where status <> 'skipped' order by record") == [
        (3, "ingested"), (5, "ingested"), (9, "rejected")]
