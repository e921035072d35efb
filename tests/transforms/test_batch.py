from datetime import datetime, timezone

from transforms.batch import RawFile, plan_batch
from transforms.text import article_id, sha256

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_plan_accounts_for_every_file():
    files = [
        RawFile("/a.txt", 11, b"Title\n\nBody."),
        RawFile("/b.txt", 13, b"Title\r\n\r\nBody.  "),  # same normalised text as /a.txt
        RawFile("/c.txt", 0, b""),
        RawFile("/d.txt", 5, None, "cannot read: Permission denied"),
        RawFile("/e.txt", 99, b"x" * 99),
        RawFile("/f.txt", 6, b"Other."),
    ]
    known_files = {"/f.txt": sha256(b"Other.")}
    seen: set[str] = set()
    plan = plan_batch(files, known_files, seen, max_bytes=50, run_id="r1", now=NOW)
    got = [(r["path"], r["status"], r["reason"]) for r in plan.file_rows]
    assert got == [
        ("/a.txt", "ingested", None),
        ("/b.txt", "duplicate", "same normalised text as an article already in the lake"),
        ("/c.txt", "rejected", "empty file"),
        ("/d.txt", "rejected", "cannot read: Permission denied"),
        ("/e.txt", "rejected", "larger than the 50-byte limit (NEWSLAKE_MAX_FILE_BYTES)"),
        ("/f.txt", "unchanged", "same bytes as an earlier run"),
    ]
    assert [p.article_id for p in plan.to_analyse] == [article_id("Title\n\nBody.")]
    assert seen == {article_id("Title\n\nBody.")}
    assert plan.file_rows[1]["article_id"] == plan.file_rows[0]["article_id"]
