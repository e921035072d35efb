"""The one declaration of every lake table: columns, types and grain."""

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

# one row per distinct article (normalised content): article_id
ARTICLES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("source_name", pa.string()),
        pa.field("title", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("published_at", TS),
        pa.field("language", pa.string(), nullable=False),
        pa.field("nlp_status", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("n_sentences", pa.int32(), nullable=False),
        pa.field("n_mentions", pa.int32(), nullable=False),
        pa.field("n_words", pa.int32(), nullable=False),
        pa.field("boilerplate_chars", pa.int32(), nullable=False),
        pa.field("encoding", pa.string()),
        pa.field("ingested_at", TS, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

# one row per sentence: article_id, sentence_id (1-based within the article)
SENTENCES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("sentence_id", pa.int32(), nullable=False),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)

# one row per entity mention: article_id, mention_id (1-based within the article)
MENTIONS = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("sentence_id", pa.int32(), nullable=False),
        pa.field("mention_id", pa.int32(), nullable=False),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("actor_id", pa.string()),
        pa.field("role", pa.string()),
        pa.field("link_method", pa.string(), nullable=False),
    ]
)

# one row per actor: actor_id
ACTORS = pa.schema(
    [
        pa.field("actor_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("country_code", pa.string()),
        pa.field("parent", pa.string()),
        pa.field("affiliation", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("wikidata_qid", pa.string()),
        pa.field("valid_from", pa.date32()),
        pa.field("valid_to", pa.date32()),
    ]
)

# one row per input file per run, or per line of a JSON-lines file: run_id, path, record
FILES = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("record", pa.int32()),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("sha256", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("article_id", pa.string()),
        pa.field("encoding", pa.string()),
        pa.field("seen_at", TS, nullable=False),
        pa.field("etag", pa.string()),  # an object in object storage: its ETag when read (null for local files)
    ]
)

# one row per run: run_id
RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS, nullable=False),
        pa.field("files_seen", pa.int64(), nullable=False),
        pa.field("records_seen", pa.int64()),
        pa.field("articles_retired", pa.int64()),
        pa.field("articles_written", pa.int64(), nullable=False),
        pa.field("sentences_written", pa.int64(), nullable=False),
        pa.field("mentions_written", pa.int64(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        # the version of every lake table this run left (filled by Lake.commit): what readers and time travel read
        pa.field("table_versions", pa.map_(pa.string(), pa.int64())),
        # how the run's MinHash signatures were made (transforms.dedup.MINHASH_SCHEMES); null: runs from before it was recorded
        pa.field("minhash_scheme", pa.string()),
    ]
)

# one row per article: article_id (MinHash of 5-word shingles, for near-duplicate search)
SIGNATURES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("minhash", pa.list_(pa.uint64()), nullable=False),
    ]
)

# one row per article per LSH band of its signature: band_key, article_id (written by Lake.commit from
# ``signatures``; near-duplicate candidates are a lookup by band key, not a load of every signature)
SIGNATURE_BANDS = pa.schema(
    [
        pa.field("band_key", pa.int64(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
    ]
)

# one row per source per line repeated across its articles (treated as boilerplate): source_name, line
SOURCE_LINES = pa.schema(
    [
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("line", pa.string(), nullable=False),
        pa.field("n_articles", pa.int64(), nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "sentences": SENTENCES,
    "mentions": MENTIONS,
    "actors": ACTORS,
    "files": FILES,
    "runs": RUNS,
    "signatures": SIGNATURES,
    "signature_bands": SIGNATURE_BANDS,
    "source_lines": SOURCE_LINES,
}

FILE_STATUSES = ("ingested", "unchanged", "duplicate", "near_duplicate", "non_english", "rejected", "skipped", "deleted")


def to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table from row dicts, cast to the declared schema (fails loudly on drift)."""
    missing = [f.name for f in schema if rows and f.name not in rows[0]]
    if missing:
        raise ValueError(f"rows lack columns {missing}")
    return pa.Table.from_pylist(rows, schema=schema)


def same_rows(a: list[dict], b: list[dict], schema: pa.Schema) -> bool:
    """Whether two lists of rows hold the same rows, in any order, once cast to ``schema``."""
    if len(a) != len(b):
        return False
    try:
        left, right = to_table(a, schema).to_pylist(), to_table(b, schema).to_pylist()
    except (ValueError, pa.ArrowException):  # a column missing on one side (an older table): not the same
        return False
    return sorted(left, key=repr) == sorted(right, key=repr)
