"""The real flow over a folder of odd inputs: every one accounted for in ``files`` with its reason, none
failing the run, and a rerun (pruning) that finds the readable ones unchanged, none deleted."""

import errno
import gzip
import json
import os
import zlib

import duckdb
import pytest

import flows.ingest
from flows import warehouse
from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.settings import Settings
from transforms.paths import escape_path, unescape_path

pytestmark = pytest.mark.slow

STORY = ("Ministers in London agreed a new rail budget on Monday after talks that lasted through the night. "
         "The transport minister said the plan would cut delays by half within three years.")


def _story(place: str) -> bytes:
    return f"Talks in {place}\n\n{STORY.replace('London', place)}\n".encode()


def write_inputs(d):
    d.mkdir()
    os.close(os.open(os.fsencode(d) + b"/latin1_name_\xe9.txt", os.O_WRONLY | os.O_CREAT))
    with open(os.fsencode(d) + b"/latin1_name_\xe9.txt", "wb") as fh:
        fh.write(_story("Paris"))
    (d / "nul.txt").write_bytes(_story("Leeds").replace(b"rail", b"ra\x00il"))
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "a.txt").write_bytes(_story("York"))
    (d / "link.txt").symlink_to("a.txt")
    (d / "dangling.txt").symlink_to("missing.txt")
    (d / "loop.txt").symlink_to("loop.txt")
    (d / "again").symlink_to(".")
    os.mkfifo(d / "pipe.txt")
    (d / "locked.txt").write_bytes(_story("Bath"))
    (d / "locked.txt").chmod(0)
    (d / "vanished.txt").write_bytes(_story("Hull"))
    lines = [json.dumps({"text": STORY.replace("London", "Derby")}), "{not json", json.dumps({"text": "word " * 300})]
    (d / "feed.jsonl").write_text("\n".join(lines) + "\n")
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    (d / "bomb.txt.gz").write_bytes(b"".join(z.compress(bytes(1 << 20)) for _ in range(64)) + z.flush())
    (d / "small.txt.gz").write_bytes(gzip.compress(_story("Kent")))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    inputs = tmp_path_factory.mktemp("odd").resolve() / "in"
    write_inputs(inputs)
    settings = Settings.load(lake=tmp_path_factory.mktemp("lake"), batch_size=4, max_file_bytes=5_000_000, max_line_bytes=1000,
                             runner="local")
    with pytest.MonkeyPatch.context() as mp:
        locked, real_open, real_discover = str(inputs / "locked.txt"), os.open, flows.ingest.discover_files

        def denied(path, *args, **kw):  # root reads a file of mode 000: what anyone else meets, simulated
            if os.fsdecode(path) == locked:
                raise PermissionError(errno.EACCES, "Permission denied", locked)
            return real_open(path, *args, **kw)

        def discover_then_vanish(*args, **kw):
            found = real_discover(*args, **kw)
            (inputs / "vanished.txt").unlink(missing_ok=True)
            return found

        mp.setattr(os, "open", denied)
        mp.setattr(flows.ingest, "discover_files", discover_then_vanish)
        first = ingest_flow([str(inputs)], settings)
        named = escape_path(os.fsdecode(os.fsencode(inputs) + b"/latin1_name_\xe9.txt"))  # as the CLI hands it on
        second = ingest_flow([str(inputs), named], settings, prune=True)
    return settings, inputs, first, second


def query(settings, sql):
    with duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_odd_input_has_a_row_with_its_reason(run):
    settings, inputs, first, _ = run
    rows = query(settings, f"select replace(path, '{inputs}/', ''), record, status, reason from files "
                           f"where run_id = '{first['run_id']}' order by path, record")
    assert rows == [
        ("a.txt", None, "ingested", None),
        ("binary.txt", None, "rejected", "binary content (NUL or control bytes), not text"),
        ("bomb.txt.gz", None, "rejected", "gzip bomb: decompresses to more than 100 times its size (NEWSLAKE_MAX_GZIP_RATIO)"),
        ("dangling.txt", None, "rejected", f"dangling symbolic link: its target {inputs}/missing.txt does not exist"),
        ("feed.jsonl", 1, "ingested", None),
        ("feed.jsonl", 2, "rejected", "line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("feed.jsonl", 3, "rejected", "line 3: 1,512 bytes, over the 1,000-byte limit of one JSON line (NEWSLAKE_MAX_LINE_BYTES)"),
        ("latin1_name_\\xe9.txt", None, "ingested", None),
        ("link.txt", None, "duplicate", f"symbolic link to {inputs}/a.txt"),
        ("locked.txt", None, "rejected", "cannot read: Permission denied"),
        ("loop.txt", None, "rejected", "symbolic link loop"),
        ("nul.txt", None, "ingested", "removed 1 NUL/control byte"),
        ("pipe.txt", None, "rejected", "not a regular file (a named pipe)"),
        ("small.txt.gz", None, "ingested", None),
        ("vanished.txt", None, "rejected", "cannot read: removed after the run found it"),
    ]
    assert first["files_seen"] == 13 and first["articles"] == 5


def test_a_non_utf8_name_is_stored_readably_and_maps_back_to_its_bytes(run):
    settings, inputs, _, _ = run
    (path, source_uri), = query(settings, "select f.path, a.source_uri from files f join articles a using (article_id) where f.path like '%latin1%'")
    assert path == source_uri == f"{inputs}/latin1_name_\\xe9.txt"
    assert unescape_path(path) == os.fsencode(inputs) + b"/latin1_name_\xe9.txt"
    assert query(settings, "select text from articles where title = 'Talks in Leeds'") == [(f"Talks in Leeds\n\n{STORY.replace('London', 'Leeds')}",)]


def test_a_rerun_finds_the_readable_files_unchanged(run):
    settings, inputs, _, second = run
    rows = query(settings, f"select replace(path, '{inputs}/', ''), status from files where run_id = '{second['run_id']}' and record is distinct from 2 "
                           "and record is distinct from 3 order by path")
    assert dict(rows) == {
        "a.txt": "unchanged", "binary.txt": "unchanged", "bomb.txt.gz": "unchanged", "dangling.txt": "rejected", "feed.jsonl": "unchanged",
        "latin1_name_\\xe9.txt": "unchanged", "link.txt": "duplicate", "locked.txt": "rejected", "loop.txt": "rejected",
        "nul.txt": "unchanged", "pipe.txt": "rejected", "small.txt.gz": "unchanged",
    }
    assert second["articles"] == 0 and second["files_seen"] == 12 and "deleted" not in second["statuses"]


def test_data_tests_hold(run):
    settings, _, _, _ = run
    results = warehouse.data_tests(Lake(settings.lake), settings.sql_dir)
    assert results == {name: 0 for name in results}
