"""Row builders for the Delta lake tests: tiny articles with their sentences, mentions and signatures, and a run row."""

from datetime import date, datetime, timezone

import numpy as np

from flows.lake import Lake
from transforms.dedup import MINHASH
from transforms.schemas import TABLES, to_table

T0 = datetime(2026, 1, 7, 9, tzinfo=timezone.utc)


def article(aid: str, run_id: str, text: str = "Iraq said.") -> dict:
    return {"article_id": aid, "source_uri": f"/in/{aid}.txt", "source_name": "wire", "title": None, "text": text,
            "published_at": None, "language": "en", "nlp_status": "analysed", "duplicate_of": None, "n_sentences": 1,
            "n_mentions": 1, "n_words": len(text.split()), "boilerplate_chars": 0, "encoding": "utf-8", "ingested_at": T0,
            "run_id": run_id}


def signature(aid: str, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64 - 1, size=120, dtype=np.uint64)


def article_tables(aids: list[str], run_id: str) -> dict[str, list[dict]]:
    """One article per id, each with one sentence "Iraq said." and one mention of IRQ, its signature and files row."""
    return {
        "articles": [article(a, run_id) for a in aids],
        "sentences": [{"article_id": a, "sentence_id": 1, "start_char": 0, "end_char": 10, "text": "Iraq said."} for a in aids],
        "mentions": [{"article_id": a, "sentence_id": 1, "mention_id": 1, "start_char": 0, "end_char": 4, "text": "Iraq",
                      "label": "GPE", "actor_id": "IRQ", "role": None, "link_method": "dictionary"} for a in aids],
        "signatures": [{"article_id": a, "minhash": signature(a, int(a.encode().hex(), 16) % 2**32)} for a in aids],
        "files": [{"run_id": run_id, "path": f"/in/{a}.txt", "record": None, "size": 10, "sha256": f"sha-{a}", "status": "ingested",
                   "reason": None, "article_id": a, "encoding": "utf-8", "seen_at": T0, "etag": None} for a in aids],
    }


IRQ = {"actor_id": "IRQ", "name": "Iraq", "type": "country", "country_code": "IRQ", "parent": None, "affiliation": None, "source": "seed",
       "wikidata_qid": "Q796", "valid_from": None, "valid_to": None}


def run_row(run_id: str, files_seen: int = 0, articles: int = 0, at: datetime = T0) -> dict:
    return {"run_id": run_id, "started_at": at, "finished_at": at, "files_seen": files_seen, "records_seen": files_seen,
            "articles_retired": 0, "articles_written": articles, "sentences_written": articles, "mentions_written": articles,
            "model": "test", "table_versions": None, "minhash_scheme": MINHASH}


def stage_all(lake: Lake, run_id: str, tables: dict[str, list[dict]], part: str = "p0", at: datetime = T0) -> dict[str, list[str]]:
    """Stage every non-empty table of ``tables`` plus the run's ``runs`` row; returns the staged paths."""
    staged = {name: [lake.stage(name, to_table(rows, TABLES[name]), run_id, part)] for name, rows in tables.items() if rows}
    row = run_row(run_id, len(tables.get("files", [])), len(tables.get("articles", [])), at)
    staged["runs"] = [lake.stage("runs", to_table([row], TABLES["runs"]), run_id, "run")]
    return staged


def commit_run(lake: Lake, run_id: str, tables: dict[str, list[dict]], retired: set[str] = frozenset(), day: date = date(2026, 1, 7)) -> dict[str, int]:
    """Stage and commit one run; returns the table versions it recorded."""
    at = datetime.combine(day, T0.timetz())
    return lake.commit(run_id, stage_all(lake, run_id, tables, at=at), day, retired)
