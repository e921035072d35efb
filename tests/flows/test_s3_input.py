"""s3:// inputs against a local S3 server (moto's, on 127.0.0.1): prefixes, globs, single objects, unchanged
objects not downloaded again, changed objects, pruning, and one-line errors. Never a real cloud."""

import json
import logging
import re
import socket
import urllib.request

import duckdb
import pytest
from typer.testing import CliRunner

from flows import storage
from flows.cli import app
from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.runner import pending_bytes
from flows.settings import Settings
from tests.conftest import SEEDS
from tests.transforms.warcs import news_archive

pytestmark = pytest.mark.slow

STORY = ("Ministers in London agreed a new rail budget on Monday after talks that lasted through the night. "
         "The transport minister said the plan would cut delays by half within three years and protect rural lines.")
FEED = "".join(json.dumps(r) + "\n" for r in [
    {"title": "Flood warning in York", "text": "Officials in York warned of floods on Friday as the River Ouse rose.", "url": "https://example.org/york"},
    {"title": "Match goes ahead", "text": "Police in Leeds said the match would go ahead despite the weather on Saturday."},
]).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(monkeypatch, caplog):
    """A moto S3 server on 127.0.0.1 with bucket ``news``; the AWS environment points at it. Yields a boto3
    client and a function counting the GET requests of one object's key since the last call."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    reset = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()  # moto's state is per process, not per server: start empty
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    caplog.set_level(logging.INFO, logger="werkzeug")
    client = boto3.client("s3")
    client.create_bucket(Bucket="news")
    client.put_object(Bucket="news", Key="2024-01/story.txt", Body=f"Rail budget agreed\n\n{STORY}\n".encode())
    client.put_object(Bucket="news", Key="2024-01/seed.txt", Body=(SEEDS / "articles" / sorted(p.name for p in (SEEDS / "articles").iterdir())[0]).read_bytes())
    client.put_object(Bucket="news", Key="2024-01/README.txt", Body=b"About this bucket.")
    client.put_object(Bucket="news", Key="2024-01/logo.png", Body=b"\x89PNG")
    client.put_object(Bucket="news", Key="2024-02/feed.jsonl", Body=FEED)
    client.put_object(Bucket="news", Key="2024-02/crawl.warc.gz", Body=news_archive(gz=True))

    def gets() -> dict[str, int]:
        """GET requests per object key since the previous call (listings, which carry a query, excluded)."""
        counts: dict[str, int] = {}
        for r in caplog.records:
            m = re.search(r"GET /news/([^ ?]+) HTTP", r.getMessage())
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        caplog.clear()
        return counts

    yield client, gets
    urllib.request.urlopen(reset).close()
    server.stop()


def _settings(tmp_path) -> Settings:
    return Settings.load(lake=tmp_path / "lake", batch_size=2, nlp="dictionary")


def _files(settings, run=None) -> list[tuple]:
    """(path, record, status, whether an ETag is kept) of the lake's ``files`` rows (of one run)."""
    rows = Lake(settings.lake).read("files", ["run_id", "path", "record", "status", "etag"]).to_pylist()
    return sorted(((r["path"], r["record"], r["status"], r["etag"] is not None) for r in rows if run in (None, r["run_id"])),
                  key=lambda t: (t[0], t[1] is None, t[1] or 0, t[2]))


def test_a_prefix_is_searched_like_a_folder_and_unchanged_objects_are_not_downloaded(s3, tmp_path):
    client, gets = s3
    settings = _settings(tmp_path)
    summary = ingest_flow(["s3://news/2024-01/"], settings)
    assert summary["files_seen"] == 2 and summary["statuses"] == {"ingested": 2}
    assert [p for p in summary["set_aside"]] == ["s3://news/2024-01/README.txt"]
    assert _files(settings) == [("s3://news/2024-01/seed.txt", None, "ingested", True), ("s3://news/2024-01/story.txt", None, "ingested", True)]
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        assert con.execute("select source_uri, source_name from articles where title = 'Rail budget agreed'").fetchall() == [
            ("s3://news/2024-01/story.txt", "2024-01")]
    assert gets() == {"2024-01/seed.txt": 1, "2024-01/story.txt": 1}  # read once: profiled in the pass that prepares it

    assert pending_bytes(["s3://news/2024-01/"], settings) == 0  # from the listing: no GET, no HEAD per object
    again = ingest_flow(["s3://news/2024-01/"], settings)
    assert again["statuses"] == {"unchanged": 2} and again["articles"] == 0
    assert gets() == {}  # HEAD and listings only: nothing downloaded

    changed = b"Rail strike called off\n\nUnions in Scotland and Wales called off the strike planned for Friday after a late pay offer.\n"
    client.put_object(Bucket="news", Key="2024-01/story.txt", Body=changed)
    assert pending_bytes(["s3://news/2024-01/"], settings) == len(changed)
    third = ingest_flow(["s3://news/2024-01/"], settings)
    assert third["statuses"] == {"unchanged": 1, "ingested": 1} and third["retired"] == 1
    assert gets() == {"2024-01/story.txt": 1}

    client.delete_object(Bucket="news", Key="2024-01/story.txt")
    fourth = ingest_flow(["s3://news/2024-01/"], settings, prune=True)
    assert fourth["statuses"] == {"unchanged": 1, "deleted": 1} and fourth["retired"] == 1
    assert _files(settings, fourth["run_id"]) == [("s3://news/2024-01/seed.txt", None, "unchanged", True),
                                                  ("s3://news/2024-01/story.txt", None, "deleted", False)]
    client.put_object(Bucket="news", Key="2024-01/deeper/more.txt", Body=b"More news\n\nFerries to the islands resume on Monday after the storm.\n")
    assert ingest_flow(["s3://news/2024-01/"], settings)["statuses"] == {"unchanged": 1, "ingested": 1}
    fifth = ingest_flow(["s3://news/*/*.txt"], settings, prune=True)  # s3fs's * stops at '/', fnmatch's does not
    assert "deleted" not in fifth["statuses"]


def test_a_glob_and_a_single_object(s3, tmp_path):
    settings = _settings(tmp_path)
    summary = ingest_flow(["s3://news/2024-*/*.jsonl", "s3://news/2024-02/crawl.warc.gz", "s3://news/2024-01/story.txt"], settings)
    assert summary["files_seen"] == 3
    assert summary["statuses"] == {"ingested": 5, "rejected": 1, "skipped": 1}
    rows = _files(settings)
    assert [r[:3] for r in rows] == [
        ("s3://news/2024-01/story.txt", None, "ingested"),
        ("s3://news/2024-02/crawl.warc.gz", 3, "ingested"),
        ("s3://news/2024-02/crawl.warc.gz", 5, "ingested"),
        ("s3://news/2024-02/crawl.warc.gz", 9, "rejected"),
        ("s3://news/2024-02/crawl.warc.gz", None, "skipped"),
        ("s3://news/2024-02/feed.jsonl", 1, "ingested"),
        ("s3://news/2024-02/feed.jsonl", 2, "ingested"),
    ]
    assert {r[3] for r in rows} == {True}


def test_forked_dask_workers_read_objects(s3, tmp_path):
    """The CLI lists the bucket in its own process before the cluster forks its workers: each worker must
    open objects with its own S3 client (fsspec's are not fork-safe)."""
    lake = tmp_path / "lake"
    result = CliRunner().invoke(app, ["ingest", "s3://news/2024-01/", "--lake", str(lake), "--runner", "dask", "--workers", "1",
                                      "--nlp", "dictionary"])
    assert result.exit_code == 0, result.output
    assert _files(Settings.load(lake=lake)) == [("s3://news/2024-01/seed.txt", None, "ingested", True),
                                                ("s3://news/2024-01/story.txt", None, "ingested", True)]


def test_missing_buckets_and_objects_fail_in_one_line(s3, tmp_path, monkeypatch):
    with pytest.raises(storage.StorageError, match=r"^cannot use s3://nobucket/x/: no such bucket$"):
        ingest_flow(["s3://nobucket/x/"], _settings(tmp_path))
    runner = CliRunner()
    for url, message in (("s3://nobucket/x/", "cannot use s3://nobucket/x/: no such bucket"),
                         ("s3://news/2025-*/*.txt", "no such file or folder: s3://news/2025-*/*.txt"),
                         ("s3://news/nothing/", "no such file or folder: s3://news/nothing/")):
        result = runner.invoke(app, ["ingest", url, "--lake", str(tmp_path / "cli")])
        assert result.exit_code == 1 and " ".join(result.output.split()) == f"error: {message}"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = runner.invoke(app, ["ingest", "s3://news/2024-01/", "--lake", str(tmp_path / "cli")])
    assert result.exit_code == 1 and " ".join(result.output.split()) == (
        "error: cannot use s3://news/2024-01/: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)")


def test_a_glob_names_the_objects_it_matches_and_searches_the_prefixes_it_matches(s3):
    assert storage.list_objects("s3://news/2024-0[1]/*.txt") == (
        ["s3://news/2024-01/README.txt", "s3://news/2024-01/seed.txt", "s3://news/2024-01/story.txt"],
        {"s3://news/2024-01/README.txt", "s3://news/2024-01/seed.txt", "s3://news/2024-01/story.txt"})
    objects, named = storage.list_objects("s3://news/2024-*")
    assert named == set() and objects == ["s3://news/2024-01/README.txt", "s3://news/2024-01/logo.png", "s3://news/2024-01/seed.txt",
                                          "s3://news/2024-01/story.txt", "s3://news/2024-02/crawl.warc.gz", "s3://news/2024-02/feed.jsonl"]
    assert storage.list_objects("s3://news/2024-01/seed.txt") == (["s3://news/2024-01/seed.txt"], {"s3://news/2024-01/seed.txt"})


def test_objects_and_local_files_open_as_streams_and_listings_carry_etags(s3, tmp_path):
    client, _ = s3
    local = tmp_path / "a b.txt"
    local.write_bytes(b"local bytes")
    with storage.open_input(str(local)) as fh:
        assert fh.read() == b"local bytes"
    with storage.open_input("s3://news/2024-02/feed.jsonl") as fh:
        assert fh.read() == FEED
    infos, named = storage.list_infos("s3://news/2024-02/")
    head = client.head_object(Bucket="news", Key="2024-02/feed.jsonl")
    assert named == set() and sorted(infos) == ["s3://news/2024-02/crawl.warc.gz", "s3://news/2024-02/feed.jsonl"]
    assert infos["s3://news/2024-02/feed.jsonl"] == storage.stat("s3://news/2024-02/feed.jsonl")
    assert (infos["s3://news/2024-02/feed.jsonl"].etag, infos["s3://news/2024-02/feed.jsonl"].size) == (head["ETag"].strip('"'), len(FEED))


def test_storage_errors_say_their_cause_in_one_line(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert str(storage._error("s3://b/k", PermissionError("Forbidden"))) == "cannot use s3://b/k: access denied (Forbidden)"
    assert str(storage._error("s3://b/k", ConnectionError("refused"))) == "cannot use s3://b/k: cannot reach http://127.0.0.1:9 (refused)"
    assert storage.static_prefix("s3://b/2024-*/x/*.jsonl") == "s3://b/" and storage.static_prefix("s3://b/news/") == "s3://b/news/"
