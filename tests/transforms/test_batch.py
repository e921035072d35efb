import gzip
import json
from datetime import datetime, timezone

import pytest

from transforms.batch import KnownFile, PlanContext, RawFile, plan_batch
from transforms.dedup import NearDuplicateIndex
from transforms.text import article_id, sha256

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
STORY = ("Ministers agreed a new budget on Monday after talks that lasted through the night in the capital. "
         "The finance minister said the plan would cut the deficit by half within three years and protect schools. ")


def ctx(**kw):
    base = dict(run_id="r1", now=NOW, known_files={}, known_articles=set(), near_index=NearDuplicateIndex(0.8), max_bytes=2000)
    return PlanContext(**(base | kw))


def accounts(plan):
    return [(r["path"], r["record"], r["status"], r["reason"]) for r in plan.file_rows]


def test_plan_accounts_for_every_file():
    files = [
        RawFile("/in/a.txt", 11, b"Title\n\nBody text here."),
        RawFile("/in/b.txt", 13, b"Title\r\n\r\nBody  text here.  "),  # same normalised text as a.txt
        RawFile("/in/c.txt", 0, b""),
        RawFile("/in/d.txt", 5, None, "cannot read: Permission denied"),
        RawFile("/in/e.txt", 5000, None, "larger than the 2,000-byte limit (NEWSLAKE_MAX_FILE_BYTES)", "ab" * 32),
        RawFile("/in/e2.txt", 5000, None, "larger than the 2,000-byte limit (NEWSLAKE_MAX_FILE_BYTES)", "cd" * 32),
        RawFile("/in/f.txt", 6, b"Other."),
        RawFile("/in/g.txt.gz", 9, gzip.compress(b"Truncated story")[:-6]),
        RawFile("/in/h.bin", 8, b"\x00\x01\x00\x02\x00\x03\x00\x04" * 20),
    ]
    c = ctx(known_files={"/in/f.txt": KnownFile(sha256(b"Other."), {"x"}), "/in/e2.txt": KnownFile("cd" * 32)})
    plan = plan_batch(files, c)
    assert accounts(plan) == [
        ("/in/a.txt", None, "ingested", None),
        ("/in/b.txt", None, "duplicate", "same normalised text as an article already in the lake or this run"),
        ("/in/c.txt", None, "rejected", "empty file"),
        ("/in/d.txt", None, "rejected", "cannot read: Permission denied"),
        ("/in/e.txt", None, "rejected", "larger than the 2,000-byte limit (NEWSLAKE_MAX_FILE_BYTES)"),
        ("/in/e2.txt", None, "unchanged", "same bytes as an earlier run"),
        ("/in/f.txt", None, "unchanged", "same bytes as an earlier run"),
        ("/in/g.txt.gz", None, "rejected", "truncated gzip file (the stream ends early)"),
        ("/in/h.bin", None, "rejected", "binary content (NUL or control bytes), not text"),
    ]
    assert [p.article_id for p in plan.prepared] == [article_id("Title\n\nBody text here.")]
    assert plan.file_rows[1]["article_id"] == plan.file_rows[0]["article_id"]
    assert plan.replaced == set() and plan.changed == set()


def test_jsonl_lines_are_records_with_metadata():
    lines = [
        {"title": "Budget agreed", "body": STORY, "url": "https://www.example.org/a", "published": "2024-01-25T10:00:00Z"},
        {"text": "   "},
        "not json",
        {"title": "Budget agreed", "text": STORY + "It was also snowing.", "source": "Wire"},
    ]
    data = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines).encode() + b"\n\n"
    plan = plan_batch([RawFile("/in/feed.jsonl", len(data), data)], ctx())
    assert accounts(plan) == [
        ("/in/feed.jsonl", 1, "ingested", None),
        ("/in/feed.jsonl", 2, "rejected", "line 2: no text in any of the fields text, body, content, article, maintext"),
        ("/in/feed.jsonl", 3, "rejected", "line 3: invalid JSON (Expecting value at column 1)"),
        ("/in/feed.jsonl", 4, "near_duplicate", f"near-duplicate of {plan.prepared[0].article_id} (estimated similarity 0.84)"),
    ]
    first, second = plan.prepared
    assert (first.article.title, first.source_name, first.record.url) == ("Budget agreed", "example.org", "https://www.example.org/a")
    assert first.record.published_at == datetime(2024, 1, 25, 10, tzinfo=timezone.utc)
    assert first.article.text.startswith("Budget agreed\n\nMinisters agreed")
    assert (second.source_name, second.duplicate_of) == ("Wire", first.article_id)


def test_non_english_is_kept_not_analysed():
    text = "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, contestée par les syndicats.".encode()
    plan = plan_batch([RawFile("/in/fr.txt", len(text), text)], ctx())
    assert accounts(plan) == [("/in/fr.txt", None, "non_english", "language fr: kept, not analysed")]
    assert plan.prepared[0].language == "fr" and not plan.prepared[0].english


def test_changed_file_replaces_its_article():
    old = KnownFile(sha256(b"Old text."), {"oldid"})
    plan = plan_batch([RawFile("/in/a.txt", 9, b"New text.")], ctx(known_files={"/in/a.txt": old}))
    assert accounts(plan) == [("/in/a.txt", None, "ingested", None)]
    assert plan.replaced == {"oldid"} and plan.changed == {"/in/a.txt"}


def test_source_boilerplate_lines_are_dropped():
    data = b"Title\n\nA real sentence.\n\nBill is a regular commentator on the World Service."
    c = ctx(drop_lines={"in": frozenset({"Bill is a regular commentator on the World Service."})})
    plan = plan_batch([RawFile("/in/a.txt", len(data), data)], c)
    art = plan.prepared[0].article
    assert art.text == "Title\n\nA real sentence." and art.boilerplate_chars == 51


@pytest.mark.parametrize("name", ["a.txt.gz", "a.TXT.GZ"])
def test_gzip_text(name):
    data = gzip.compress("Title\n\nCafé £5.".encode())
    plan = plan_batch([RawFile(f"/in/{name}", len(data), data)], ctx())
    assert plan.prepared[0].article.text == "Title\n\nCafé £5."


def test_current_files_follow_the_latest_processing_run():
    from transforms.batch import current_files

    rows = [
        {"path": "/a", "run_id": "r1", "sha256": "s1", "status": "ingested", "article_id": "A1"},
        {"path": "/a", "run_id": "r2", "sha256": "s1", "status": "unchanged", "article_id": None},
        {"path": "/a", "run_id": "r3", "sha256": "s2", "status": "ingested", "article_id": "A2"},
        {"path": "/f.jsonl", "run_id": "r1", "sha256": "s3", "status": "ingested", "article_id": "J1"},
        {"path": "/f.jsonl", "run_id": "r1", "sha256": "s3", "status": "rejected", "article_id": None},
        {"path": "/f.jsonl", "run_id": "r1", "sha256": "s3", "status": "duplicate", "article_id": "A1"},
        {"path": "/big", "run_id": "r1", "sha256": None, "status": "rejected", "article_id": None},
    ]
    got = {p: (k.sha256, k.article_ids) for p, k in current_files(rows).items()}
    assert got == {"/a": ("s2", {"A2"}), "/f.jsonl": ("s3", {"J1", "A1"})}


def test_source_profile_finds_lines_repeated_across_articles():
    from transforms.boilerplate import SourceProfile

    p = SourceProfile()
    footer = "Bill is a regular commentator."
    for i in range(6):
        p.add("tech", f"Story {i}\n\nBody {i}.\n\n{footer}")
    p.add("tech", f"Story 0\n\nBody 0.\n\n{footer}")  # an exact copy counts once
    p.add("sport", f"Match\n\n{footer}")
    assert p.frequent(5, 0.01) == {"tech": frozenset({footer})}
    assert p.merged_with([{"source_name": "sport", "line": "Old", "n_articles": 9}], 5, 0.01) == [
        {"source_name": "sport", "line": "Old", "n_articles": 9}, {"source_name": "tech", "line": footer, "n_articles": 6}]


def test_an_unexpected_parser_error_rejects_only_that_file(monkeypatch):
    import transforms.batch as batch

    real = batch.parse

    def flaky(name, data, fields, max_bytes):
        if name == "bad.html":
            raise KeyError("lxml blew up")
        return real(name, data, fields, max_bytes)

    monkeypatch.setattr(batch, "parse", flaky)
    plan = plan_batch([RawFile("/in/bad.html", 5, b"<p>x</p>"), RawFile("/in/ok.txt", 11, b"Title\n\nBody text here.")], ctx())
    assert accounts(plan) == [("/in/bad.html", None, "rejected", "cannot parse: KeyError: 'lxml blew up'"),
                              ("/in/ok.txt", None, "ingested", None)]
