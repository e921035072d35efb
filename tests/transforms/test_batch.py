import gzip
import json
from datetime import datetime, timezone

import pytest

from transforms.batch import KnownFile, RawFile, ReadOptions, prepare_files, resolve, retired_articles
from transforms.schemas import SIGNATURE_BANDS, SIGNATURES
from transforms.text import article_id, sha256

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
STORY = ("Ministers agreed a new budget on Monday after talks that lasted through the night in the capital. "
         "The finance minister said the plan would cut the deficit by half within three years and protect schools. ")


class Plan:
    """prepare_files over each batch, then resolve across them: what a run decides."""

    def __init__(self, *batches, known=None, drop_lines=None, in_lake=frozenset(), lake_signatures=None):
        options = ReadOptions(max_bytes=2000)
        self.batches = [prepare_files(files, known or {}, drop_lines or {}, options, f"p{n}") for n, files in enumerate(batches)]
        self.resolution = resolve(self.batches, set(in_lake), lake_signatures or {}, 0.8, "r1", NOW)
        self.file_rows = self.resolution.file_rows
        self.prepared = {a["article_id"]: a for b in self.batches for a in b.articles}
        self.keep = self.resolution.keep


def plan_batch(files, **kw):
    return Plan(files, **kw)


def carried(plan):
    """The article ids the run's own file rows carry."""
    return {r["article_id"] for r in plan.file_rows if r["article_id"]}


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
    plan = plan_batch(files, known={"/in/f.txt": KnownFile(sha256(b"Other."), {"x"}), "/in/e2.txt": KnownFile("cd" * 32)})
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
    assert [k.article_id for k in plan.keep] == [article_id("Title\n\nBody text here.")]
    assert plan.file_rows[1]["article_id"] == plan.file_rows[0]["article_id"]
    assert {r["run_id"] for r in plan.file_rows} == {"r1"} and {r["seen_at"] for r in plan.file_rows} == {NOW}
    assert plan.batches[0].replaced == set() and plan.batches[0].changed == set()


def test_jsonl_lines_are_records_with_metadata():
    lines = [
        {"title": "Budget agreed", "body": STORY, "url": "https://www.example.org/a", "published": "2024-01-25T10:00:00Z"},
        {"text": "   "},
        "not json",
        {"title": "Budget agreed", "text": STORY + "It was also snowing.", "source": "Wire"},
    ]
    data = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines).encode() + b"\n\n"
    plan = plan_batch([RawFile("/in/feed.jsonl", len(data), data)])
    assert accounts(plan) == [
        ("/in/feed.jsonl", 1, "ingested", None),
        ("/in/feed.jsonl", 2, "rejected", "line 2: no text in any of the fields text, body, content, article, maintext"),
        ("/in/feed.jsonl", 3, "rejected", "line 3: invalid JSON (Expecting value at column 1)"),
        ("/in/feed.jsonl", 4, "near_duplicate", f"near-duplicate of {plan.keep[0].article_id} (estimated similarity 0.89)"),  # Jaccard 0.892
    ]
    first, second = (plan.prepared[k.article_id] for k in plan.keep)
    assert (first["title"], first["source_name"], first["source_uri"]) == ("Budget agreed", "example.org", "https://www.example.org/a")
    assert first["published_at"] == datetime(2024, 1, 25, 10, tzinfo=timezone.utc)
    assert first["text"].startswith("Budget agreed\n\nMinisters agreed")
    assert (second["source_name"], second["source_uri"], plan.keep[1].duplicate_of) == ("Wire", "/in/feed.jsonl#L4", first["article_id"])


def test_non_english_is_kept_not_analysed():
    text = "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, contestée par les syndicats.".encode()
    plan = plan_batch([RawFile("/in/fr.txt", len(text), text)])
    assert accounts(plan) == [("/in/fr.txt", None, "non_english", "language fr: kept, not analysed")]
    assert plan.prepared[plan.keep[0].article_id]["language"] == "fr" and not plan.keep[0].analyse


def test_changed_file_replaces_its_article():
    old = KnownFile(sha256(b"Old text."), {"oldid"})
    plan = plan_batch([RawFile("/in/a.txt", 9, b"New text.")], known={"/in/a.txt": old})
    assert accounts(plan) == [("/in/a.txt", None, "ingested", None)]
    assert plan.batches[0].replaced == {"oldid"} and plan.batches[0].changed == {"/in/a.txt"}
    assert retired_articles(plan.batches, carried(plan), {"/in/a.txt": old}) == {"oldid"}
    # another file still carries the old article: nothing is retired
    assert retired_articles(plan.batches, carried(plan), {"/in/a.txt": old, "/in/b.txt": KnownFile("s", {"oldid"})}) == set()


def test_source_boilerplate_lines_are_dropped():
    data = b"Title\n\nA real sentence.\n\nBill is a regular commentator on the World Service."
    plan = plan_batch([RawFile("/in/a.txt", len(data), data)], drop_lines={"in": frozenset({"Bill is a regular commentator on the World Service."})})
    art = plan.prepared[plan.keep[0].article_id]
    assert art["text"] == "Title\n\nA real sentence." and art["boilerplate_chars"] == 51


@pytest.mark.parametrize("name", ["a.txt.gz", "a.TXT.GZ"])
def test_gzip_text(name):
    data = gzip.compress("Title\n\nCafé £5.".encode())
    plan = plan_batch([RawFile(f"/in/{name}", len(data), data)])
    assert plan.prepared[plan.keep[0].article_id]["text"] == "Title\n\nCafé £5."


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


def test_a_deleted_account_forgets_the_path_until_it_is_read_again():
    from transforms.batch import current_files

    rows = [
        {"path": "/a", "run_id": "r1", "sha256": "s1", "status": "ingested", "article_id": "A1"},
        {"path": "/a", "run_id": "r2", "sha256": None, "status": "deleted", "article_id": None},
        {"path": "/b", "run_id": "r1", "sha256": "s2", "status": "ingested", "article_id": "B1"},
        {"path": "/b", "run_id": "r2", "sha256": None, "status": "deleted", "article_id": None},
        {"path": "/b", "run_id": "r3", "sha256": "s2", "status": "ingested", "article_id": "B1"},
    ]
    assert {p: (k.sha256, k.article_ids) for p, k in current_files(rows).items()} == {"/b": ("s2", {"B1"})}


def test_gone_files_retire_the_articles_no_other_file_carries():
    from transforms.batch import deleted_rows, gone_files

    known = {"/in/a.txt": KnownFile("sa", {"A"}), "/in/b.txt": KnownFile("sb", {"B"}), "/in/c.txt": KnownFile("sc", {"A"})}
    gone = gone_files(known, ["/in/c.txt"])
    assert sorted(gone) == ["/in/a.txt", "/in/b.txt"]
    plan = plan_batch([])
    assert retired_articles(plan.batches, carried(plan), {"/in/c.txt": known["/in/c.txt"]}, gone) == {"B"}
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert [(r["path"], r["status"], r["reason"], r["sha256"], r["article_id"]) for r in deleted_rows(gone, "r9", now)] == [
        ("/in/a.txt", "deleted", "no longer exists (--prune)", None, None),
        ("/in/b.txt", "deleted", "no longer exists (--prune)", None, None),
    ]


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
    plan = plan_batch([RawFile("/in/bad.html", 5, b"<p>x</p>"), RawFile("/in/ok.txt", 11, b"Title\n\nBody text here.")])
    assert accounts(plan) == [("/in/bad.html", None, "rejected", "cannot parse: KeyError: 'lxml blew up'"),
                              ("/in/ok.txt", None, "ingested", None)]


WORDS = ("the minister said that talks with unions would resume next week after the strike closed schools "
         "across the north while police reported calm streets and markets opened late in the capital").split()


def _story(n: int) -> bytes:
    words = [WORDS[(i * (n + 3) + n) % len(WORDS)] for i in range(80)]
    return (f"Story number {n}\n\n" + " ".join(words) + ".").encode()


FILES = [
    RawFile("/in/1.txt", 1, _story(1)),
    RawFile("/in/2.txt", 1, _story(2)),
    RawFile("/in/3.txt", 1, _story(1)),  # exact copy of 1
    RawFile("/in/4.txt", 1, _story(2) + b" The end."),  # near copy of 2
    RawFile("/in/5.txt", 1, _story(5)),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_decisions_do_not_depend_on_batching(size):
    whole = Plan(FILES)
    batched = Plan(*[FILES[i : i + size] for i in range(0, len(FILES), size)])
    assert accounts(batched) == accounts(whole)
    assert [(k.article_id, k.duplicate_of) for k in batched.keep] == [(k.article_id, k.duplicate_of) for k in whole.keep]
    assert [s for _, _, s, _ in accounts(whole)] == ["ingested", "ingested", "duplicate", "near_duplicate", "ingested"]
    assert whole.keep[2].duplicate_of == whole.keep[1].article_id


def test_the_lake_is_earlier_than_the_run():
    from transforms.dedup import signature

    one = article_id(_story(1).decode())
    near_two = _story(2).decode() + " Reporting by a wire service."
    plan = Plan(FILES, in_lake={one}, lake_signatures={"lakeart": signature(near_two)})
    assert [s for _, _, s, _ in accounts(plan)] == ["duplicate", "near_duplicate", "duplicate", "near_duplicate", "ingested"]
    two = article_id(_story(2).decode())
    assert [(k.article_id, k.duplicate_of) for k in plan.keep][:2] == [(two, "lakeart"), (plan.keep[1].article_id, two)]  # the closest wins
    assert plan.keep[2].duplicate_of is None


def test_source_lines_become_lines_to_drop():
    from transforms.boilerplate import drop_lines

    rows = [{"source_name": "bbc", "line": "Share this", "n_articles": 9}, {"source_name": "bbc", "line": "Follow us", "n_articles": 5},
            {"source_name": "wire", "line": "Follow us", "n_articles": 7}]
    assert drop_lines(rows) == {"bbc": frozenset({"Share this", "Follow us"}), "wire": frozenset({"Follow us"})}
    assert drop_lines([]) == {}


def test_a_run_replaces_the_lines_of_its_own_sources_only():
    from transforms.boilerplate import with_sources_replaced

    stored = [{"source_name": "bbc", "line": "Share this", "n_articles": 9}, {"source_name": "wire", "line": "Follow us", "n_articles": 7}]
    run = [{"source_name": "bbc", "line": "Read more", "n_articles": 5}, {"source_name": "bbc", "line": "Share this", "n_articles": 12}]
    assert with_sources_replaced(stored, run) == [
        {"source_name": "bbc", "line": "Read more", "n_articles": 5}, {"source_name": "bbc", "line": "Share this", "n_articles": 12},
        {"source_name": "wire", "line": "Follow us", "n_articles": 7}]
    assert with_sources_replaced(stored, []) == stored and with_sources_replaced([], run) == sorted(run, key=lambda r: r["line"])


def test_same_rows_ignores_order_and_sees_any_difference():
    from transforms.schemas import TABLES, same_rows

    rows = [{"source_name": "bbc", "line": "Share this", "n_articles": 9}, {"source_name": "wire", "line": "Follow us", "n_articles": 7}]
    schema = TABLES["source_lines"]
    assert same_rows(rows, rows[::-1], schema)
    assert not same_rows(rows, [rows[0], {**rows[1], "n_articles": 8}], schema)
    assert not same_rows(rows, rows[:1], schema)
    assert not same_rows(rows, [{"source_name": "bbc", "line": "Share this"}, rows[1]], schema)  # a column missing: an older table


def test_profiles_of_batches_merge_to_the_profile_of_the_whole():
    from transforms.boilerplate import SourceProfile

    footer = "Bill is a regular commentator."
    texts = [("tech", f"Story {i}\n\nBody {i}.\n\n{footer}") for i in range(5)] + [("tech", "Story 0\n\nBody 0.\n\n" + footer)]
    whole = SourceProfile()
    for source, text in texts:
        whole.add(source, text)
    parts = [SourceProfile() for _ in range(3)]
    for n, (source, text) in enumerate(texts):
        parts[n % 3].add(source, text)  # the copy of story 0 lands in another batch than story 0
    merged = SourceProfile.merge(parts)
    assert merged.lines == whole.lines and merged.articles == whole.articles == {"tech": 5}
    assert merged.frequent(5, 0.01) == {"tech": frozenset({footer})}
    assert SourceProfile.merge(parts[::-1]).lines == whole.lines


def changed_batch(part, path, replaced):
    from transforms.batch import PreparedBatch

    return PreparedBatch(part, replaced=set(replaced), changed={path})


@pytest.mark.parametrize(("batches", "rows", "carriers", "retired"), [
    # nothing replaced: nothing to retire, whatever the carriers say
    ([], [], {"/in/a.txt": KnownFile("s", {"x"})}, set()),
    # a changed file's old article, carried by no other file: retired
    ([("p0", "/in/a.txt", {"old"})], [{"article_id": "new"}], {"/in/a.txt": KnownFile("s", {"old"})}, {"old"}),
    # the run itself carries the old article again (a file of this run has its text): kept
    ([("p0", "/in/a.txt", {"old"})], [{"article_id": "old"}, {"article_id": None}], {"/in/a.txt": KnownFile("s", {"old"})}, set()),
    # an unchanged file still carries it: kept
    ([("p0", "/in/a.txt", {"old"})], [], {"/in/a.txt": KnownFile("s", {"old"}), "/in/b.txt": KnownFile("t", {"old"})}, set()),
    # its other carrier changed in the same run (another batch): retired
    ([("p0", "/in/a.txt", {"old"}), ("p1", "/in/b.txt", {"old", "b-old"})], [{"article_id": "b-old"}],
     {"/in/a.txt": KnownFile("s", {"old"}), "/in/b.txt": KnownFile("t", {"old", "b-old"})}, {"old"}),
])
def test_retired_articles(batches, rows, carriers, retired):
    prepared = [changed_batch(*b) for b in batches]
    assert retired_articles(prepared, {r["article_id"] for r in rows if r["article_id"]}, carriers) == retired


def test_stray_nul_bytes_are_removed_and_noted_in_the_account():
    data = STORY.encode().replace(b"budget", b"bud\x00get", 1)
    plan = plan_batch([RawFile("/in/nul.txt", len(data), data), RawFile("/in/copy.txt", len(data), data),
                       RawFile("/in/binary.txt", 2048, bytes(range(256)) * 8)])
    assert accounts(plan) == [
        ("/in/nul.txt", None, "ingested", "removed 1 NUL/control byte"),
        ("/in/copy.txt", None, "duplicate", "same normalised text as an article already in the lake or this run; removed 1 NUL/control byte"),
        ("/in/binary.txt", None, "rejected", "binary content (NUL or control bytes), not text"),
    ]
    assert plan.prepared[plan.keep[0].article_id]["text"] == STORY.strip()


def test_a_symbolic_link_is_a_duplicate_of_its_target():
    data = STORY.encode()
    plan = plan_batch([RawFile("/in/a.txt", len(data), data), RawFile("/in/link.txt", len(data), None, link_to="/in/a.txt"),
                       RawFile("/in/gone.txt", 0, None, "dangling symbolic link: its target /in/none.txt does not exist")])
    assert accounts(plan) == [
        ("/in/a.txt", None, "ingested", None),
        ("/in/link.txt", None, "duplicate", "symbolic link to /in/a.txt"),
        ("/in/gone.txt", None, "rejected", "dangling symbolic link: its target /in/none.txt does not exist"),
    ]
    assert [r["sha256"] for r in plan.file_rows][1:] == [None, None] and len(plan.keep) == 1


def test_read_batches_are_weighed_by_records_across_files():
    from transforms.batch import Piece, weighed_chunks

    dump = [Piece("/in/d.jsonl", 900, "h", 0, start=i * 300, end=(i + 1) * 300, first_line=i * 30 + 1, lines=30) for i in range(3)]
    items = ["/in/a.txt", *dump, "/in/b.txt", "/in/c.txt"]
    assert [[getattr(i, "first_line", i) for i in b] for b in weighed_chunks(items, 40, 1, 10)] == [
        ["/in/a.txt", 1], [31], [61, "/in/b.txt", "/in/c.txt"]]
    assert [len(b) for b in weighed_chunks(items, 1000, 2, 10)] == [2, 1, 3]  # at most half the weight (93, so 47) each
    assert [len(b) for b in weighed_chunks(items, 1000, 1, 100)] == [6]


def test_ranges_of_a_dump_are_read_together_up_to_the_dump_batch():
    from transforms.batch import Piece, weighed_chunks

    ranges = [Piece("/in/d.jsonl", 3000, "h", 0, start=i * 300, end=(i + 1) * 300, first_line=i * 30 + 1, lines=30) for i in range(10)]
    whole = Piece("/in/e.jsonl.gz", 50, "g", 0, lines=30)  # a compressed dump: one piece, never grouped
    items = [*ranges[:4], "/in/a.txt", *ranges[4:], whole, "/in/b.txt"]
    shape = [[getattr(i, "first_line", i) if i is not whole else "gz" for i in b] for b in weighed_chunks(items, 40, 1, 10, dump_batch=100)]
    assert shape == [[1, 31, 61], [91, "/in/a.txt"], [121, 151, 181], [211, 241, 271], ["gz", "/in/b.txt"]]
    assert [len(b) for b in weighed_chunks(items, 40, 4, 10, dump_batch=100)] == [2, 2, 2, 2, 2, 1, 2]  # spread: 83 (332 / 4) at most
    assert weighed_chunks(items, 40, 1, 10) == weighed_chunks(items, 40, 1, 10, dump_batch=40)  # without it: as before


def test_signature_rows_are_the_prepared_signatures_in_order_and_their_band_keys_sorted():
    import numpy as np

    from transforms.batch import PREPARED, signature_rows
    from transforms.schemas import to_table

    def row(aid, minhash, bands):
        return {"article_id": aid, "source_uri": f"{aid}.txt", "source_name": "s", "title": None, "text": aid, "published_at": None,
                "language": "en", "n_words": 1, "boilerplate_chars": 0, "encoding": "utf-8",
                "minhash": np.array(minhash, dtype=np.uint64), "bands": bands}

    prepared = to_table([row("b", [2**64 - 1, 7], [5, -3]), row("a", [1, 2], [5, 9]), row("c", [0, 0], [])], PREPARED)
    signatures, bands = signature_rows(prepared)
    assert signatures.to_pylist() == [{"article_id": "b", "minhash": [2**64 - 1, 7]}, {"article_id": "a", "minhash": [1, 2]},
                                      {"article_id": "c", "minhash": [0, 0]}]
    assert bands.to_pylist() == [{"band_key": -3, "article_id": "b"}, {"band_key": 5, "article_id": "a"},
                                 {"band_key": 5, "article_id": "b"}, {"band_key": 9, "article_id": "a"}]
    assert signatures.schema == SIGNATURES and bands.schema == SIGNATURE_BANDS
    empty = signature_rows(PREPARED.empty_table())
    assert empty[0].num_rows == empty[1].num_rows == 0


def test_accounted_batches_give_back_what_account_rows_staged():
    """``accounted_batches`` inverts ``account_rows``: the batches' file rows, and each pending row's candidate with
    the signature and band keys looked up by (part, article id)."""
    from transforms.batch import account_rows, accounted_batches
    from transforms.dedup import band_keys

    texts = [b"First story\n\nThe minister said talks would resume next week.", b"",
             b"Second story\n\nPolice reported calm streets and markets opened late."]
    batches = [prepare_files([RawFile(f"/in/{n}.txt", len(t), t) for n, t in enumerate(texts[:2])], {}, {}, ReadOptions(), "p0"),
               prepare_files([RawFile("/in/2.txt", len(texts[2]), texts[2])], {}, {}, ReadOptions(), "p1")]
    rows = [r for i, b in enumerate(batches, 1) for r in account_rows(b, i)]
    signatures = {(c.part or b.part, c.article_id): (c.signature, band_keys(c.signature)) for b in batches for c in b.candidates}
    back = accounted_batches(rows, signatures)
    assert [b.file_rows for b in back] == [b.file_rows for b in batches]
    assert [[(c.row, c.article_id, c.language, c.part, c.bands) for c in b.candidates] for b in back] == [
        [(c.row, c.article_id, c.language, c.part or b.part, band_keys(c.signature)) for c in b.candidates] for b in batches]
    assert [b.articles for b in back] == [[], []] and [b.part for b in back] == ["p0", "p1"]


def test_a_batch_profiles_its_records_in_the_pass_that_prepares_them_as_profile_files_does():
    """The profile a batch takes while it is prepared is the one ``profile_files`` takes of the same files (only those
    ``profiled`` accepts, unchanged ones never), whatever lines the pass drops; ``sources`` names every record's source."""
    from transforms.batch import profile_files

    texts = {f"/in/alpha/{i}.txt": f"Story {i}\n\nSentence number {i} is here.\n\nShare this story\n" for i in range(4)}
    texts["/in/beta/x.txt"] = "Other\n\nA line of beta.\n\nShare this story\n"
    texts["/in/beta/old.txt"] = "Old\n\nKnown already.\n"
    files = lambda: [RawFile(p, len(t), t.encode()) for p, t in texts.items()]  # noqa: E731
    known = {"/in/beta/old.txt": KnownFile(sha256(texts["/in/beta/old.txt"].encode()), set())}
    lines = {"alpha": frozenset({"Share this story"})}
    options = ReadOptions()
    batch = prepare_files(files(), known, lines, options, "p00001", profiled=lambda f: "/x." not in f.path)
    expected = profile_files([f for f in files() if "/x." not in f.path], known, options)
    assert batch.profile.texts == expected.texts and batch.profile.articles == {"alpha": 4}
    assert batch.summary().profile is batch.profile and batch.summary().sources == batch.sources == {"alpha", "beta"}
    assert prepare_files(files(), known, lines, options, "p00001").profile is None  # no profiling asked
