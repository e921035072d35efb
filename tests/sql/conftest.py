"""A tiny hand-written lake: two articles, known rows, views built by the real refresh."""

from datetime import date, datetime, timezone

import duckdb
import pytest

from flows import warehouse
from flows.lake import Lake
from flows.settings import Settings
from transforms.dedup import MINHASH
from transforms.schemas import TABLES, to_table

T1 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
T2 = datetime(2026, 1, 7, 9, tzinfo=timezone.utc)
A1 = "US forces and Tony Blair. Iraq said. Blair agreed."
A2 = "Iraqi officials met Blair. The Wombles protested."


def article(aid, text, published, ingested, source):
    return {"article_id": aid, "source_uri": f"/in/{source}/{aid}.txt", "source_name": source, "title": None,
            "text": text, "published_at": published, "language": "en", "nlp_status": "analysed", "duplicate_of": None, "n_sentences": 1, "n_mentions": 3,
            "n_words": len(text.split()), "boilerplate_chars": 0, "encoding": "utf-8", "ingested_at": ingested, "run_id": "r1"}


def mention(aid, mid, text, label, actor, role, method, body):
    start = body.index(text)
    return {"article_id": aid, "sentence_id": 1, "mention_id": mid, "start_char": start, "end_char": start + len(text),
            "text": text, "label": label, "actor_id": actor, "role": role, "link_method": method}


def run(run_id, at=T2, files_seen=0):
    return {"run_id": run_id, "started_at": at, "finished_at": at, "files_seen": files_seen, "records_seen": files_seen,
            "articles_retired": 0, "articles_written": 0, "sentences_written": 0, "mentions_written": 0, "model": "test",
            "table_versions": None, "minhash_scheme": MINHASH}


def actor(aid, name, kind, source="seed"):
    return {"actor_id": aid, "name": name, "type": kind, "country_code": aid if kind == "country" else None, "parent": None,
            "affiliation": None, "source": source, "wikidata_qid": None, "valid_from": None, "valid_to": None}


ROWS = {
    "articles": [article("a1", A1, T1, T2, "wire"), article("a2", A2, None, T2, "blog")],
    "sentences": [{"article_id": a, "sentence_id": 1, "start_char": 0, "end_char": len(t), "text": t} for a, t in (("a1", A1), ("a2", A2))],
    "mentions": [
        mention("a1", 1, "US", "GPE", "USA", "military", "alias", A1),
        mention("a1", 2, "Tony Blair", "PERSON", "person:tony-blair", None, "model-only", A1),
        mention("a1", 3, "Iraq", "GPE", "IRQ", None, "dictionary", A1),
        mention("a2", 1, "Iraqi", "NORP", "IRQ", "government", "alias", A2),
        mention("a2", 2, "Blair", "PERSON", "person:blair", None, "model-only", A2),
        mention("a2", 3, "Wombles", "ORG", None, None, "unlinked", A2),
    ],
    "actors": [actor("USA", "United States", "country"), actor("IRQ", "Iraq", "country"),
               actor("person:tony-blair", "Tony Blair", "person", source="model"),
               actor("person:blair", "Blair", "person", source="model")],
    "runs": [run("r1")],
}


@pytest.fixture(scope="session")
def fixture_lake(tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("fixture_lake"))
    staged = {name: [lake.stage(name, to_table(rows, TABLES[name]), "r1", "p0")] for name, rows in ROWS.items()}
    lake.commit("r1", staged, date(2026, 1, 7))
    warehouse.refresh(lake, Settings().sql_dir)
    return lake


@pytest.fixture(scope="session")
def fixture_db(fixture_lake):
    con = duckdb.connect(str(fixture_lake.duckdb_path), read_only=True)
    yield con
    con.close()
