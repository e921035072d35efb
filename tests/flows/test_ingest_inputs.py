"""The real flow over a folder of every supported format and deliberately broken files, then a changed-file rerun."""

import gzip
import json
import subprocess
import sys

import duckdb
import pytest

from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.settings import Settings
from tests.conftest import corpus

pytestmark = pytest.mark.slow

STORY = ("Ministers in London agreed a new rail budget on Monday after talks that lasted through the night. "
         "The transport minister said the plan would cut delays by half within three years and protect rural lines. "
         "Unions in Scotland and Wales welcomed the deal but warned that staff shortages would remain a problem.")
HTML = f"""<html><head><title>Rail budget agreed | Example News</title>
<meta property="og:title" content="Rail budget agreed"><meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2024-01-25T10:00:00Z"></head>
<body><nav>Home | World | Sport</nav><article><h1>Rail budget agreed</h1><p>{STORY.replace('rail budget', 'budget for railways')}</p>
<p>Passenger groups in England said fares should also be frozen, and the opposition called the plan late.</p></article>
<div class="comments"><h3>Leave a Reply</h3><p>Your email address will not be published.</p></div></body></html>"""
FRENCH = ("Le gouvernement a annoncé mardi une nouvelle réforme des retraites, vivement contestée par les syndicats "
          "qui appellent à une grève nationale la semaine prochaine dans tout le pays.")


READER = """
import os, sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from articles").fetchone()[0], flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
print(con.execute("select count(*) from articles").fetchone()[0])
"""


def write_inputs(d):
    (d / "news").mkdir()
    files = {
        "news/story.txt": f"Rail budget agreed\n\n{STORY}\n".encode(),
        "news/story_copy.txt": f"Rail budget agreed\r\n\r\n{STORY}  \r\n".encode(),
        "news/story_updated.txt": f"Rail budget agreed\n\n{STORY} A vote is expected next week.\n".encode(),
        "news/page.html": HTML.encode(),
        "news/cp1252.txt": "Fares frozen at £12\n\nThe “freeze” was agreed in Cardiff, officials in Wales said on Tuesday.".encode("cp1252"),
        "news/utf16.txt": "Talks in Berlin\n\nGerman and French ministers met in Berlin on Wednesday to discuss energy prices.".encode("utf-16"),
        "news/bom.txt": "\ufeffTalks in Rome\n\nItalian officials in Rome said the talks with Spain would resume.".encode("utf-8"),
        "news/french.txt": f"Réforme des retraites\n\n{FRENCH}".encode(),
        "news/empty.txt": b"",
        "news/binary.txt": bytes(range(256)) * 8,
        "news/truncated.txt.gz": gzip.compress(STORY.encode())[:40],
        "news/huge.txt": b"word " * 30_000,
        "news/empty.jsonl": b"",
        "feeds/feed.jsonl": (json.dumps({"headline": "Flood warning in York", "body": "Officials in York warned of floods on Friday as the River Ouse rose.",
                                         "url": "https://www.example.org/york", "date": "2024-02-01"}) + "\n\n{broken\n"
                             + json.dumps({"text": "Police in Leeds said the match would go ahead despite the weather."}) + "\n").encode(),
        "feeds/more.ndjson.gz": gzip.compress((json.dumps({
            "title": "Port strike ends", "content": "Dockers in Liverpool ended their strike on Thursday after a pay deal.", "source": "Wire",
        }) + "\n").encode()),
    }
    for name, data in files.items():
        (d / name).parent.mkdir(exist_ok=True)
        (d / name).write_bytes(data)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    inputs = tmp_path_factory.mktemp("inputs")
    write_inputs(inputs)
    settings = Settings.load(lake=tmp_path_factory.mktemp("lake"), batch_size=4, max_file_bytes=100_000)
    summary = ingest_flow([str(inputs)], settings)
    return settings, inputs, summary


def query(settings, sql):
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_file_is_accounted_for(run):
    settings, inputs, summary = run
    rows = query(settings, "select regexp_replace(path, '.*/(news|feeds)/', '\\1/'), record, status, reason, encoding from files order by all")
    got = {(p, r): (s, reason, enc) for p, r, s, reason, enc in rows}
    assert summary["files_seen"] == 15 and summary["records_seen"] == 17
    assert summary["files_seen"] == 15 and summary["records_seen"] == 17
    assert summary["statuses"] == {"ingested": 8, "duplicate": 1, "near_duplicate": 1, "non_english": 1, "rejected": 6}
    assert got[("news/story.txt", None)] == ("ingested", None, "utf-8")
    assert got[("news/story_copy.txt", None)][0] == "duplicate"
    assert got[("news/story_updated.txt", None)][0] == "near_duplicate"
    assert got[("news/cp1252.txt", None)] == ("ingested", None, "cp1252")
    assert got[("news/utf16.txt", None)] == ("ingested", None, "utf-16")
    assert got[("news/bom.txt", None)] == ("ingested", None, "utf-8-bom")
    assert got[("news/french.txt", None)] == ("non_english", "language fr: kept, not analysed", "utf-8")
    assert got[("news/empty.txt", None)] == ("rejected", "empty file", None)
    assert got[("news/binary.txt", None)] == ("rejected", "binary content (NUL or control bytes), not text", None)
    assert got[("news/truncated.txt.gz", None)] == ("rejected", "truncated gzip file (the stream ends early)", None)
    assert got[("news/huge.txt", None)] == ("rejected", "larger than the 100,000-byte limit (NEWSLAKE_MAX_FILE_BYTES)", None)
    assert got[("news/empty.jsonl", None)] == ("rejected", "empty file", None)
    assert got[("feeds/feed.jsonl", 3)] == ("rejected", "line 3: invalid JSON (Expecting property name enclosed in double quotes at column 2)", "utf-8")
    assert got[("feeds/feed.jsonl", 1)][0] == got[("feeds/feed.jsonl", 4)][0] == got[("feeds/more.ndjson.gz", 1)][0] == "ingested"
    assert got[("news/page.html", None)][0] == "ingested"
    assert query(settings, "select count(*) from (select * from run_accounts)") == [(5,)]
    assert query(settings, "select sum(files) from run_accounts") == [(16,)]  # feed.jsonl counts in two statuses


def test_metadata_from_each_format(run):
    settings, _, _ = run
    rows = query(settings, "select title, source_name, cast(published_at as date)::varchar, language, nlp_status, n_mentions > 0 "
                           "from articles order by title")
    by_title = {r[0]: r[1:] for r in rows}
    assert by_title["Rail budget agreed"][:1] in (("news",), ("Example News",))
    assert by_title["Flood warning in York"] == ("example.org", "2024-02-01", "en", "analysed", True)
    assert by_title["Port strike ends"] == ("Wire", None, "en", "analysed", True)
    assert by_title["Réforme des retraites"] == ("news", None, "fr", "skipped: not English", False)
    html = query(settings, "select text, source_name from articles where source_name = 'Example News'")
    assert len(html) == 1 and "Leave a Reply" not in html[0][0] and "Home | World" not in html[0][0]
    assert html[0][0].startswith("Rail budget agreed\n\n") and html[0][0].count("Rail budget agreed") == 1
    assert query(settings, "select text like '%£12%“freeze”%' from articles where encoding = 'cp1252'") == [(True,)]


def test_near_duplicates_are_flagged_and_left_out_of_counts(run):
    settings, _, _ = run
    (story_id,) = query(settings, "select article_id from articles where source_uri like '%/news/story.txt'")[0]
    assert query(settings, "select duplicate_of from articles where source_uri like '%story_updated.txt'") == [(story_id,)]
    counted = query(settings, "select sum(mentions) from mentions_per_actor")[0][0]
    everything = query(settings, "select count(*) from mentions where actor_id is not null")[0][0]
    near = query(settings, "select count(*) from mentions where actor_id is not null and in_near_duplicate")[0][0]
    assert near > 0 and counted == everything - near


def test_data_tests_hold(run):
    settings, _, _ = run
    from flows import warehouse

    results = warehouse.data_tests(Lake(settings.lake), settings.sql_dir)
    assert results == {name: 0 for name in results}


def test_rerun_unchanged_then_a_changed_file_replaces_its_article(run):
    settings, inputs, _ = run
    # a dashboard in another process holds the DuckDB file open read-only across both runs
    go = settings.lake / "go"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(Lake(settings.lake).duckdb_path), str(go)], stdout=subprocess.PIPE, text=True)
    n_before = query(settings, "select count(*) from articles")[0][0]
    again = ingest_flow([str(inputs)], settings)
    assert again["statuses"] == {"unchanged": 15} and again["articles"] == 0
    before = dict(query(settings, "select source_uri, article_id from articles"))
    old_id = before[str(inputs / "news" / "cp1252.txt")]
    (inputs / "news" / "cp1252.txt").write_bytes("Fares frozen at £15\n\nThe freeze was agreed in Cardiff on Tuesday.".encode("cp1252"))
    third = ingest_flow([str(inputs)], settings)
    assert third["statuses"] == {"unchanged": 14, "ingested": 1} and third["retired"] == 1
    after = dict(query(settings, "select source_uri, article_id from articles"))
    assert len(after) == len(before) and after[str(inputs / "news" / "cp1252.txt")] != old_id
    for table in ("articles", "sentences", "mentions"):
        assert query(settings, f"select count(*) from {table} where article_id = '{old_id}'") == [(0,)]
    assert query(settings, "select status from file_status where path like '%cp1252.txt'") == [("ingested",)]
    assert query(settings, "select files_seen, records_seen, articles_written, articles_retired from latest_run") == [(15, 15, 1, 1)]
    go.touch()
    assert reader.communicate(timeout=60)[0].split() == [str(n_before), str(n_before)]  # its snapshot, no lock error


def test_bbc_latin1_pound_sign():
    from transforms.text import decode

    text, encoding = decode((corpus("bbc", "sport") / "199.txt").read_bytes())
    assert "£" in text and "\ufffd" not in text and encoding != "utf-8"
