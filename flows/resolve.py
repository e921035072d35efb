"""The run-wide duplicate decision over the staged prepare batches, in DuckDB within a memory limit: the
decisions of ``transforms.batch.resolve`` (exact duplicates of the lake or an earlier record, then
near-duplicates through shared LSH band keys, in input order), with no per-record state in the run's process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows import duck
from flows.lake import Lake, _sql_list
from flows.scratch import KEEP_ROWS, RESOLVED, RunScratch
from transforms.batch import ANALYSED_LANGUAGES, PENDING, SAME_TEXT, accounted_batches, resolve
from transforms.schemas import FILES, to_table

# DuckDB spills joins, aggregations and sorts to the scratch folder past the first limit; a decision that
# cannot be made within it (rows too wide to spill) is made again within the next
MEMORY_LIMITS = ("128MB", "1GB")
FETCH_ROWS = 20_000  # rows handed from DuckDB to the Parquet writers at a time
# a decision over fewer staged file rows is made in this process by the decision's definition (``transforms.batch.resolve``):
# the run's rows and signatures are small, and DuckDB's cost per statement is most of the decision (BBC politics' 417
# rows, in one process: 27-45 ms in memory, 80-83 in DuckDB); a larger run is decided in DuckDB within a memory limit
IN_MEMORY_ROWS = 5_000
NEAR = "'near-duplicate of ' || near || ' (estimated similarity ' || printf('%.2f', sim) || ')'"  # rounds as Python's f"{sim:.2f}"
# the keep list: the articles the run writes, numbered in input order (analyse tasks take ranges of ``n``)
KEEP = pa.schema([pa.field("n", pa.int64(), nullable=False), pa.field("part", pa.string(), nullable=False),
                  pa.field("article_id", pa.string(), nullable=False), pa.field("duplicate_of", pa.string()),
                  pa.field("analyse", pa.bool_(), nullable=False)])


@dataclass
class Resolved:
    """What the decision hands back: counts only; the file rows and the keep list are in the run's scratch."""

    records: int = 0
    kept: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _relation(paths: Iterable, columns: str, empty: str) -> str:
    """SQL reading these Parquet files, or a typed empty relation when there are none."""
    listed = _sql_list(str(p) for p in paths)
    return f"(select {columns} from read_parquet([{listed}], filename = true))" if listed else f"(select {empty} where false)"


def resolve_staged(lake: Lake, scratch: RunScratch, parts: list[str], threshold: float, run_id: str, now: datetime) -> Resolved:
    """Decide every pending record of these prepare batches (in their order), write the run's file rows and
    keep list to ``scratch`` and return the counts (see ``_resolve``), within the first memory limit that suffices."""
    for n, limit in enumerate(MEMORY_LIMITS):
        try:
            return _resolve(lake, scratch, parts, threshold, run_id, now, limit)
        except duckdb.OutOfMemoryException:
            if n == len(MEMORY_LIMITS) - 1:
                raise
    raise AssertionError("unreachable")


def _resolve(lake: Lake, scratch: RunScratch, parts: list[str], threshold: float, run_id: str, now: datetime, limit: str) -> Resolved:
    """Decide every pending record of these prepare batches (in their order), write the run's file rows and
    keep list to ``scratch`` and return the counts.

    Exact duplicates: a record whose article the lake holds, or an earlier record of the run carries.
    Near-duplicates: among the other articles, one whose signature shares an LSH band key with an article of
    the lake or an earlier one of the run at estimated Jaccard similarity ``threshold`` or more; it names the
    most similar (ties: the smallest id).
    """
    work = scratch.dir / RESOLVED
    work.mkdir(parents=True, exist_ok=True)
    if not parts:
        pq.write_table(FILES.empty_table(), scratch.files_path)
        pq.write_table(KEEP.empty_table(), scratch.keep_path)
        return Resolved()
    metas = [pq.ParquetFile(p).metadata for p in scratch.account_paths(parts)]  # read once: statistics and row counts
    if not _may_be_pending(metas):  # nothing to decide (a no-op rerun, say): the accounts are the file rows
        resolved = _files_as_accounted(scratch, parts, run_id, now)
        pq.write_table(KEEP.empty_table(), scratch.keep_path)
        return resolved
    if sum(meta.num_rows for meta in metas) < IN_MEMORY_ROWS:
        return _resolve_in_memory(lake, scratch, parts, threshold, run_id, now)
    accounts = _relation(scratch.account_paths(parts), "*", "null::INTEGER as batch, null::INTEGER as seq, null::VARCHAR as status")
    english = _sql_list(ANALYSED_LANGUAGES)
    # one in-memory database, opened ahead by the flow (flows.duck: 25-35 ms to open here): its tables spill to the
    # scratch folder past the limit as a file's would
    with duck.connect() as con:
        _limit(con, work, limit)
        lake_articles = _relation(lake.files("articles"), "article_id", "null::VARCHAR as article_id")
        con.execute(f"""create table new as
                        with cand as (select (batch::BIGINT << 32) | seq as pos, article_id, language, part
                                      from {accounts} where status = '{PENDING}'),
                        firsts as (select article_id, min(pos) as pos, arg_min(language, pos) as language,
                                   arg_min(part, pos) as part from cand group by article_id)
                        select * from firsts anti join {lake_articles} l using (article_id)""")
        if con.execute("select count(*) from new").fetchone()[0]:
            _near_duplicates(con, lake, scratch, threshold)
        else:  # nothing new (nothing pending, or only the lake's articles): no near-duplicate to look for
            con.execute("create table best as select null::VARCHAR as x, null::VARCHAR as y, null::DOUBLE as sim where false")

        def noted(reason: str) -> str:
            return f"case when a.reason is null or a.reason = '' then {reason} else {reason} || '; ' || a.reason end"

        con.execute(f"""create view decided as
            select *, case when status <> '{PENDING}' then reason
                           when decision = 'duplicate' then {noted(_sql_list([SAME_TEXT]))}
                           when decision = 'near_duplicate' then {noted(NEAR)}
                           when decision = 'non_english' then {noted("'language ' || a.language || ': kept, not analysed'")}
                           else reason end as decided_reason
            from (select a.*, (a.batch::BIGINT << 32) | a.seq as pos, b.y as near, b.sim,
                         case when a.status <> '{PENDING}' then a.status
                              when n.pos is distinct from ((a.batch::BIGINT << 32) | a.seq) then 'duplicate'
                              when b.x is not null then 'near_duplicate'
                              when a.language not in ({english}) then 'non_english'
                              else 'ingested' end as decision
                  from {accounts} a left join new n on a.article_id = n.article_id left join best b on b.x = a.article_id) a""")
        resolved = _write_files(con, scratch, run_id, now)
        keep = con.sql(f"""select row_number() over (order by n.pos) - 1 as n, n.part, n.article_id, b.y as duplicate_of,
                                      n.language in ({english}) as analyse
                               from new n left join best b on b.x = n.article_id order by n.pos""").to_arrow_reader(FETCH_ROWS)
        resolved.kept = _write(keep, scratch.keep_path, KEEP)
    return resolved


def _resolve_in_memory(lake: Lake, scratch: RunScratch, parts: list[str], threshold: float, run_id: str, now: datetime) -> Resolved:
    """``_resolve`` of a small run, in this process: the staged accounts and the signatures of their pending articles
    read whole, the lake asked which of those articles it holds and for the signatures sharing a band with them, and
    ``transforms.batch.resolve`` (the definition of the decision) making it; the same file rows and keep list."""
    accounts = pa.concat_tables([pq.ParquetFile(p).read(use_threads=False) for p in scratch.account_paths(parts)])
    rows = accounts.sort_by([("batch", "ascending"), ("seq", "ascending")]).to_pylist()
    pending = [n for n, r in enumerate(rows) if r["status"] == PENDING]
    wanted: dict[str, set[str]] = {}
    for n in pending:
        wanted.setdefault(rows[n]["part"], set()).add(rows[n]["article_id"])
    signatures: dict[tuple[str, str], tuple[np.ndarray, list[int]]] = {}
    for part, ids in wanted.items():
        staged = pq.ParquetFile(scratch.dir / f"{part}.parquet").read(["article_id", "minhash", "bands"], use_threads=False)
        minhash = staged.column("minhash").combine_chunks()  # each row's values a slice of one array (not a Python int each)
        values, offsets = minhash.values.to_numpy(zero_copy_only=False).astype(np.uint64, copy=False), minhash.offsets.to_numpy()
        for n, (aid, bands) in enumerate(zip(staged.column("article_id").to_pylist(), staged.column("bands").to_pylist())):
            if aid in ids:
                signatures[(part, aid)] = (values[offsets[n] : offsets[n + 1]], bands)
    ids = {rows[n]["article_id"] for n in pending}
    with lake.looking_up():  # the lake's answers from one database (opened ahead by the flow)
        in_lake = lake.existing_articles(ids) if ids else set()
        new = ids - in_lake
        keys = {k for (_, aid), (_, bands) in signatures.items() if aid in new for k in bands}
        lake_signatures = {aid: sig for aid, sig in lake.signature_candidates(keys).items() if aid not in new} if keys else {}
    decided = resolve(accounted_batches(rows, signatures), in_lake, lake_signatures, threshold, run_id, now)
    files = to_table(decided.file_rows, FILES) if decided.file_rows else FILES.empty_table()
    pq.write_table(files, scratch.files_path, row_group_size=KEEP_ROWS)
    keep = [{"n": n, "part": k.part, "article_id": k.article_id, "duplicate_of": k.duplicate_of, "analyse": k.analyse}
            for n, k in enumerate(decided.keep)]
    pq.write_table(to_table(keep, KEEP) if keep else KEEP.empty_table(), scratch.keep_path, row_group_size=KEEP_ROWS)
    counts = Counter(r["status"] for r in decided.file_rows)
    return Resolved(records=len(decided.file_rows), kept=len(keep), statuses=dict(sorted(counts.items())))


def _near_duplicates(con: duckdb.DuckDBPyConnection, lake: Lake, scratch: RunScratch, threshold: float) -> None:
    """The table ``best``: each article of ``new`` (x) whose signature shares an LSH band key with an article
    of the lake or an earlier one of the run at estimated similarity ``threshold`` or more, with the most
    similar of them (y; ties: the smallest id) and that similarity (sim)."""
    prepared = _relation(scratch.article_paths(), "article_id, minhash::BIGINT[] as minhash, bands, parse_filename(filename, true) as part",
                         "null::VARCHAR as article_id, null::BIGINT[] as minhash, null::BIGINT[] as bands, null::VARCHAR as part")
    con.execute(f"create view run_prepared as select p.* from {prepared} p semi join new n using (article_id, part)")
    con.execute("create table nb as select article_id, pos, unnest(bands) as key from run_prepared join new using (article_id, part)")
    lake_bands = _relation(lake.files("signature_bands"), "band_key as key, article_id", "null::BIGINT as key, null::VARCHAR as article_id")
    con.execute(f"create table lb as select distinct key, article_id from {lake_bands} semi join nb using (key)")
    con.execute("""create table shared as select key from (select key from nb union all select key from lb)
                   group by key having count(*) > 1""")
    con.execute("""create table pairs as
                   with x as (select * from nb semi join shared using (key)),
                   m as (select key, article_id, pos from x union all select key, article_id, -1 as pos from lb semi join shared using (key))
                   select distinct x.article_id as x, x.pos as xpos, m.article_id as y
                   from x join m on x.key = m.key and m.pos < x.pos and m.article_id <> x.article_id""")
    lake_sigs = _relation(lake.files("signatures"), "article_id, minhash", "null::VARCHAR as article_id, null::BIGINT[] as minhash")
    con.execute(f"""create table sig as
                    select article_id, minhash from run_prepared semi join (select x as article_id from pairs union select y from pairs) using (article_id)
                    union all
                    select article_id, any_value(minhash) from {lake_sigs} semi join (select y as article_id from pairs) using (article_id)
                    anti join new using (article_id) group by article_id""")
    con.execute("""create table scored as
                   select x, y, len(list_filter(range(1, len(a) + 1), lambda i: a[i] = b[i]))::DOUBLE / len(a) as sim
                   from (select p.x, p.y, sx.minhash as a, sy.minhash as b from pairs p
                         join sig sx on sx.article_id = p.x join sig sy on sy.article_id = p.y)""")
    con.execute("""create table best as select x, y, sim from scored where sim >= $threshold
                   qualify row_number() over (partition by x order by sim desc, y) = 1""", {"threshold": float(threshold)})


def _may_be_pending(metas: list[pq.FileMetaData]) -> bool:
    """Whether any of the staged accounts with this Parquet metadata may hold a pending record, by the
    statistics of their status column (every row group whose statistics are missing may)."""
    for meta in metas:
        column = meta.schema.names.index("status")
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(column).statistics
            if meta.row_group(group).num_rows and (stats is None or not stats.has_min_max or stats.min <= PENDING <= stats.max):
                return True
    return False


def _files_as_accounted(scratch: RunScratch, parts: list[str], run_id: str, now: datetime) -> Resolved:
    """The run's file rows when nothing is pending: the staged accounts in input order, each status its
    decision (what ``_write_files`` makes of them then), to the scratch folder; the counts."""
    accounts = pa.concat_tables([pq.read_table(p) for p in scratch.account_paths(parts)]).sort_by([("batch", "ascending"), ("seq", "ascending")])
    counts = pc.value_counts(accounts.column("status")).to_pylist()
    resolved = Resolved(statuses={c["values"]: c["counts"] for c in sorted(counts, key=lambda c: c["values"])})
    resolved.records = accounts.num_rows
    n = accounts.num_rows
    files = accounts.append_column("run_id", pa.array([run_id] * n, pa.string())).append_column(
        "seen_at", pa.array([now] * n, FILES.field("seen_at").type))
    pq.write_table(files.select(FILES.names).cast(FILES), scratch.files_path, row_group_size=KEEP_ROWS)
    return resolved


def _limit(con: duckdb.DuckDBPyConnection, work, limit: str) -> None:
    for setting in (f"memory_limit = '{limit}'", f"temp_directory = {_sql_list([str(work / 'spill')])}"):
        con.execute(f"set {setting}")


def _write_files(con: duckdb.DuckDBPyConnection, scratch: RunScratch, run_id: str, now: datetime) -> Resolved:
    """The run's file rows, in input order, from the view ``decided``, to the scratch folder; the counts (of the
    rows as they are written: a second query of the view would decide every row again)."""
    counts: Counter[str] = Counter()

    def extend(batch: pa.RecordBatch) -> pa.Table:
        counts.update({c["values"]: c["counts"] for c in pc.value_counts(batch.column("status")).to_pylist()})
        return _with_run(batch, run_id, now)

    files = con.sql("""select path, record, size, sha256, decision as status, decided_reason as reason, article_id, encoding, etag
                       from decided order by pos""").to_arrow_reader(FETCH_ROWS)
    records = _write(files, scratch.files_path, FILES, extend)
    return Resolved(records=records, statuses=dict(sorted(counts.items())))


def _with_run(batch: pa.RecordBatch, run_id: str, now: datetime) -> pa.Table:
    n = batch.num_rows
    table = pa.Table.from_batches([batch])
    return table.append_column("run_id", pa.array([run_id] * n, pa.string())).append_column("seen_at", pa.array([now] * n, FILES.field("seen_at").type))


def _write(reader: pa.RecordBatchReader, path, schema: pa.Schema, extend=None) -> int:
    """Stream DuckDB's record batches into one Parquet file of ``schema``; returns the rows written."""
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            table = extend(batch) if extend else pa.Table.from_batches([batch])
            writer.write_table(table.select(schema.names).cast(schema), row_group_size=KEEP_ROWS)
            rows += batch.num_rows
    return rows


def carried(scratch: RunScratch, ids: set[str]) -> set[str]:
    """Which of these article ids the run's own file rows carry."""
    if not ids:
        return set()
    with duck.connect() as con:
        wanted = pa.table({"article_id": pa.array(sorted(ids), pa.string())})
        con.register("wanted", wanted)
        rows = con.execute(f"select distinct article_id from read_parquet({_sql_list([str(scratch.files_path)])}) semi join wanted using (article_id)")
        return {r[0] for r in rows.fetchall()}
