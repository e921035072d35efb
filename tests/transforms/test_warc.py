import gzip
import io
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.warcs import STORY_A, Archive, news_archive, offsets, page
from transforms.batch import RawFile, ReadOptions, prepare_files, resolve
from transforms.formats import BadRecord, JsonFields, Limits, Record, input_kind, parse
from transforms.schemas import FILES, to_table
from transforms.text import RejectedInput
from transforms.warc import Skipped, warc_records

SKIPPED = Skipped((("metadata", 1), ("request", 1), ("response HTTP 404", 1), ("response image/png", 1), ("revisit", 1), ("warcinfo", 1)))


def _summary(items) -> list:
    """Each item as (record, url, title, published_at, source_name) for articles, else itself."""
    return [(r.record, r.url, r.title, r.published_at, r.source_name) if isinstance(r, Record) else r for r in items]


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_html_responses_are_articles_and_every_other_record_is_counted(gz):
    items = list(warc_records(io.BytesIO(news_archive(gz)), Limits()))
    assert _summary(items) == [
        (3, "http://news.example/budget", "Council approves budget", datetime(2024, 1, 5, 10, tzinfo=timezone.utc), "news.example"),
        (5, "https://www.harbour.example/cod", "Best catch in a decade", datetime(2023, 3, 2, tzinfo=timezone.utc), "harbour.example"),
        BadRecord(9, "record 9 (http://news.example/empty): HTML without extractable article text"),
        SKIPPED,
    ]
    assert items[0].text.startswith("Council approves budget\nThe city council approved the new budget on Tuesday")
    assert "Home" not in items[0].text and "Contact us" not in items[0].text
    assert SKIPPED.total == 6
    assert SKIPPED.reason == ("WARC records not ingested: 1 metadata, 1 request, 1 response HTTP 404, 1 response image/png, "
                              "1 revisit, 1 warcinfo")


def test_the_chunked_and_gzip_payloads_are_decoded_like_the_plain_one():
    plain = Archive().response("http://a.example/x", page("Council approves budget", STORY_A)).bytes()
    for encoding in ("chunked", "gzip"):
        encoded = Archive().response("http://a.example/x", page("Council approves budget", STORY_A), encoding=encoding).bytes()
        assert next(warc_records(io.BytesIO(encoded), Limits())) == next(warc_records(io.BytesIO(plain), Limits()))


def test_the_html_date_wins_over_the_warc_date_and_a_page_without_type_is_sniffed():
    data = (Archive().response("http://a.example/1", page("Budget", STORY_A, date="2022-07-01"), content_type=None,
                               date="2024-02-03T04:05:06Z")
            .response("http://a.example/2", page("Budget again", STORY_A + " More."), content_type=None, date="2024-02-03T04:05:06Z")
            .response("http://a.example/3", b"plain words, not a page", content_type=None).bytes())
    assert _summary(warc_records(io.BytesIO(data), Limits())) == [
        (1, "http://a.example/1", "Budget", datetime(2022, 7, 1, tzinfo=timezone.utc), "a.example"),
        (2, "http://a.example/2", "Budget again", datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc), "a.example"),
        Skipped((("response unknown type", 1),)),
    ]


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
@pytest.mark.parametrize("where, url", [(200, ""), (-60, " (https://www.harbour.example/cod)")], ids=["in-headers", "in-payload"])
def test_a_truncated_archive_keeps_the_records_before_the_damage(gz, where, url):
    data = news_archive(gz)
    at = offsets(data)[4 if where > 0 else 5] + where  # inside record 5
    assert _summary(warc_records(io.BytesIO(data[:at]), Limits())) == [
        (3, "http://news.example/budget", "Council approves budget", datetime(2024, 1, 5, 10, tzinfo=timezone.utc), "news.example"),
        BadRecord(5, f"record 5{url}: truncated WARC archive (it ends inside this record)"),
        Skipped((("metadata", 1), ("request", 1), ("warcinfo", 1))),
    ]


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_a_cut_inside_a_record_that_is_no_article_is_reported_too(gz):
    data = news_archive(gz)
    items = list(warc_records(io.BytesIO(data[: offsets(data)[4] - 12]), Limits()))  # inside record 4, the metadata
    assert [getattr(i, "record", None) for i in items] == [3, 4, None]
    assert items[1:] == [BadRecord(4, "record 4: truncated WARC archive (it ends inside this record)"),
                         Skipped((("request", 1), ("warcinfo", 1)))]


def test_an_archive_cut_inside_the_warc_headers_ends_with_one_reason():
    data = news_archive()
    items = list(warc_records(io.BytesIO(data[: offsets(data)[4] + 20]), Limits()))
    assert items[1:] == [BadRecord(5, "record 5: corrupt WARC archive, a record without WARC-Type or Content-Length"),
                         Skipped((("metadata", 1), ("request", 1), ("warcinfo", 1)))]


def test_a_corrupt_record_ends_the_archive_with_one_reason():
    data = news_archive()
    at = offsets(data)[3]  # record 4 overwritten
    items = list(warc_records(io.BytesIO(data[:at] + b"garbage, not a record\r\n\r\n" + data[at + 40 :]), Limits()))
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "Skipped"]
    assert items[1].record == 4 and items[1].reason.startswith("record 4: corrupt WARC archive, the rest is not read (")
    assert items[2] == Skipped((("request", 1), ("warcinfo", 1)))


def test_an_archive_gzipped_whole_says_how_to_read_it():
    items = list(warc_records(io.BytesIO(gzip.compress(news_archive())), Limits()))
    assert items == [BadRecord(2, "record 2: a WARC archive gzipped as one stream, not record by record: the rest is not read "
                                  "(gunzip it to .warc, or recompress it with `warcio recompress`)"),
                     Skipped((("warcinfo", 1),))]


def test_a_payload_over_the_limit_is_rejected_alone():
    data = Archive().response("http://a.example/big", page("Big", STORY_A * 3)).response("http://a.example/small", page("Small", STORY_A)).bytes()
    items = list(warc_records(io.BytesIO(data), Limits(max_bytes=len(page("Small", STORY_A)) + 10)))
    assert items[0] == BadRecord(1, f"record 1 (http://a.example/big): HTTP payload over the {len(page('Small', STORY_A)) + 10:,}-byte limit "
                                    "(NEWSLAKE_MAX_FILE_BYTES)")
    assert isinstance(items[1], Record) and items[1].record == 2 and len(items) == 2


def test_records_are_read_lazily():
    items = warc_records(io.BytesIO(news_archive() + b"garbage after the last record\r\n\r\n"), Limits())
    assert next(items).record == 3  # the damage at the end is not reached yet


@pytest.mark.parametrize("data, reason", [
    (b"", "WARC archive without any record"),
    (b"hello world\n", "not a WARC archive (Unknown archive format, first line: ['hello', 'world'])"),
])
def test_an_archive_without_records_is_rejected_whole(data, reason):
    with pytest.raises(RejectedInput) as e:
        list(warc_records(io.BytesIO(data), Limits()))
    assert str(e.value) == reason


def test_parse_dispatches_warc_files_without_inflating_them_first():
    assert [input_kind(n) for n in ("crawl.warc", "CRAWL.WARC.GZ", "crawl.warc.zip")] == ["warc", "warc", None]
    for name, gz in (("crawl.warc", False), ("crawl.warc.gz", True)):
        items = parse(name, news_archive(gz), JsonFields(), Limits())
        assert [getattr(i, "record", None) for i in items] == [3, 5, 9, None] and items[-1] == SKIPPED


ARCHIVES = {gz: news_archive(gz) for gz in (False, True)}


@settings(max_examples=400, deadline=None)
@given(st.booleans(), st.data())
def test_a_cut_anywhere_keeps_every_whole_article_before_it_and_reasons_in_one_line(gz, data):
    archive = ARCHIVES[gz]
    starts = offsets(archive)
    ends = starts[1:] + [len(archive)]
    cut = data.draw(st.integers(0, len(archive)))
    damaged = archive[:cut]
    if data.draw(st.booleans()) and cut:  # and a byte overwritten before the cut
        at = data.draw(st.integers(0, cut - 1))
        damaged = damaged[:at] + bytes([damaged[at] ^ 0xFF]) + damaged[at + 1 :]
    else:
        at = cut
    f = RawFile("/in/crawl.warc.gz" if gz else "/in/crawl.warc", len(damaged), damaged)
    batch = prepare_files([f], {}, {}, ReadOptions(), "p0")
    for row in batch.file_rows:
        assert row["status"] in ("pending", "rejected", "skipped") and "\n" not in (row["reason"] or "")
        assert not (row["reason"] or "").startswith(("cannot parse:", "cannot clean:")), row["reason"]
    to_table(resolve([batch], set(), {}, 0.8, "r1", datetime(2026, 1, 1, tzinfo=timezone.utc)).file_rows, FILES)
    # nothing is lost in a plain record's closing \r\n\r\n, or in a gzip member's 8-byte trailer (checksum and size)
    between = any(e - (8 if gz else 4) <= cut <= e for e in ends)
    if damaged == archive[:cut] and cut and not between:
        damage = ("truncated", "corrupt", "not a WARC", "without any record")
        assert any(r["status"] == "rejected" and any(d in r["reason"] for d in damage) for r in batch.file_rows), batch.file_rows
    articles = {r["record"] for r in batch.file_rows if r["status"] == "pending"}
    whole = {n for n in (3, 5) if ends[n - 1] <= at}  # articles wholly before the damage
    assert whole <= articles <= {3, 5}
    assert all(starts[n - 1] < cut for n in articles)
