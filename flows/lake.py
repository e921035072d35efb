"""The lake on disk: one Delta Lake table per table, a run committed table by table and then published by
its ``runs`` row, which records the version of every table the run left."""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.transaction import AddAction
from deltalake._internal import RemoveAction

from flows import duck
from flows.storage import is_remote
from transforms.dedup import MINHASH, SHA1_SHINGLES, band_keys
from transforms.schemas import TABLES

if TYPE_CHECKING:
    from transforms.batch import KnownFile

# tables rewritten whole at each commit (small dimensions); the others only grow
REPLACED_TABLES = frozenset({"actors", "source_lines"})
PARTITIONED_TABLES = frozenset({"articles", "sentences", "mentions", "files"})
ARTICLE_TABLES = ("articles", "sentences", "mentions", "signatures", "signature_bands")
# every table but ``runs``, in the order a run commits them; ``runs`` comes last and publishes the run
DATA_TABLES = tuple(t for t in TABLES if t != "runs")
COMMIT_THREADS = 4  # tables committed at once (each a thread: starting one costs 1-2 ms here)
# compaction sorts merged files by these keys, so Parquet min/max statistics prune key lookups
SORT_KEYS = {
    "articles": ["article_id"],
    "sentences": ["article_id", "sentence_id"],
    "mentions": ["article_id", "mention_id"],
    "actors": ["actor_id"],
    "files": ["path", "run_id"],
    "runs": ["run_id"],
    "signatures": ["article_id"],
    "signature_bands": ["band_key", "article_id"],
    "source_lines": ["source_name", "line"],
}
PARTITION = "ingest_date"
STAGING = "_staging"
OLD_MANIFEST = "_manifest.json"
COMPACT_FILES = 32
FILE_COLUMNS = ["path", "run_id", "record", "sha256", "status", "article_id", "size", "seen_at", "etag"]  # what current_files reads (etag last)
# what current_files reads of a path's account without its articles: a record number only marks an appended read,
# a status only tells deleted, unchanged and read apart (etag last)
ACCOUNT_COLUMNS = ["path", "run_id", "case when status = 'unchanged' and record is not null then 0 end as record", "sha256",
                   "case when status in ('unchanged', 'deleted') then status else 'read' end as status", "null::VARCHAR as article_id",
                   "size", "seen_at", "etag"]
_LAST_ACCOUNT: list = []  # the last look-up of ``known_files(..., articles=False)`` in this process: (key, result)
REPEATS_SKIPPED = "status <> 'unchanged' or record is not null"  # the ``unchanged`` rows that only repeat an earlier account
LITERAL_KEYS = 256  # a look-up of more keys than this joins a table of them (2,225 literals: 112 ms to look up, 50 ms joined)
TARGET_FILE_BYTES = 32 * 1024 * 1024
ROW_GROUP_ROWS = 16 * 1024
# the columns written with a dictionary of their values: strings that repeat (codes, names, statuses, the run); and
# every string column that may be null (see parquet_options). Ids, texts, offsets, counts and hashes hardly repeat
# in a file: a dictionary of them is built and then given up for plain pages, and the random signatures lose to it
# in bytes too (BBC politics' staged parts: a fifth less CPU to write, 9% fewer bytes, the signatures a third fewer)
DICTIONARY_COLUMNS = frozenset({"source_name", "language", "nlp_status", "encoding", "run_id", "label", "actor_id", "role",
                                "link_method", "type", "country_code", "parent", "affiliation", "source", "status", "reason",
                                "model"})
# a new lake's tables being created in the background (``Lake.writing``), by the lake's folder: this process's only
_CREATING: dict[Path, Future] = {}
_CREATING_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_CREATING.clear)  # a forked child has no thread creating them
MERGE_MEMORY = "128MB"  # compaction sorts a merged file's rows within this (DuckDB spills past it)


def _bins(rows: list[dict]) -> list[list[dict]]:
    """Small files (add-action rows) in path order, cut into runs of about ``TARGET_FILE_BYTES``: each
    is merged on its own, so compaction holds one target file's rows at a time, not a whole partition's."""
    bins: list[list[dict]] = [[]]
    size = 0
    for row in sorted(rows, key=lambda r: r["path"]):
        if bins[-1] and size + row["size_bytes"] > TARGET_FILE_BYTES:
            bins.append([])
            size = 0
        bins[-1].append(row)
        size += row["size_bytes"]
    return bins


class LakeBusy(RuntimeError):
    """Another run holds the lake's write lock."""


class DamagedLake(RuntimeError):
    """Data files the latest run's table versions name are missing or damaged."""


class OldLakeFormat(RuntimeError):
    """The lake folder holds the pre-Delta format (Parquet files listed by ``_manifest.json``)."""


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table written under an older schema, with columns added since then as nulls, cast to ``schema``."""
    for f in schema:
        if f.name not in table.column_names:
            if not f.nullable:
                raise ValueError(f"Parquet file lacks required column {f.name!r}")
            table = table.append_column(f.name, pa.nulls(table.num_rows, f.type))
    return table.select(schema.names).cast(schema)


def _unsigned_to_signed(t: pa.DataType) -> pa.DataType:
    if pa.types.is_list(t) and t.value_type == pa.uint64():
        return pa.list_(pa.int64())
    return pa.int64() if t == pa.uint64() else t


def stored_schema(table: str) -> pa.Schema:
    """The columns of a table's Parquet files: the declared schema with uint64 held as int64 (same bits;
    Delta has no unsigned types)."""
    return pa.schema([f.with_type(_unsigned_to_signed(f.type)) for f in TABLES[table]])


def delta_schema(table: str) -> pa.Schema:
    """The Delta table's schema: the stored columns plus the ``ingest_date`` partition column where partitioned."""
    schema = stored_schema(table)
    return schema.append(pa.field(PARTITION, pa.date32())) if table in PARTITIONED_TABLES else schema


def _reinterpret(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_list(target):
            flat = chunk.values.view(target.value_type)
            chunks.append(pa.ListArray.from_arrays(chunk.offsets, flat, mask=chunk.is_null() if chunk.null_count else None))
        else:
            chunks.append(chunk.view(target))
    return pa.chunked_array(chunks, target)


def to_stored(table: str, rows: pa.Table) -> pa.Table:
    """Rows cast to the declared schema, then to the stored one (uint64 bits as int64)."""
    rows = rows.cast(TABLES[table])
    for i, (declared, stored) in enumerate(zip(TABLES[table], stored_schema(table))):
        if declared.type != stored.type:
            rows = rows.set_column(i, stored, _reinterpret(rows.column(i), stored.type))
    return rows


def from_stored(table: str, rows: pa.Table) -> pa.Table:
    """Stored rows (a subset of the columns) back in the declared types."""
    for i, name in enumerate(rows.column_names):
        declared = TABLES[table].field(name)
        if rows.schema.field(name).type != declared.type:
            rows = rows.set_column(i, declared, _reinterpret(rows.column(i), declared.type))
    return rows


def merge_sorted(table: str, paths: list[Path], target: Path, spill: Path) -> None:
    """One durable Parquet file of these files' rows sorted by the table's lookup keys. A table whose
    columns are all plain (the article tables and ``files``) is sorted by DuckDB within ``MERGE_MEMORY``
    (spilling to ``spill``) and written a slice at a time; others (small tables) in memory."""
    stored = stored_schema(table)
    present = set().union(*(pq.read_schema(p).names for p in paths))
    plain = all(pa.types.is_string(f.type) or pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type)
                or pa.types.is_boolean(f.type) or pa.types.is_floating(f.type)
                or (pa.types.is_list(f.type) and pa.types.is_integer(f.type.value_type)) for f in stored)
    if plain and set(stored.names) <= present:
        try:
            return _merge_in_duckdb(table, paths, target, spill)
        except duckdb.OutOfMemoryException:  # rows too wide to sort within the limit: sort them in memory
            pass
        finally:
            shutil.rmtree(spill, ignore_errors=True)
    merged = pa.concat_tables([conform(pq.read_table(p), stored) for p in paths])
    write_durable(merged.sort_by([(k, "ascending") for k in SORT_KEYS[table]]), target)


def _merge_in_duckdb(table: str, paths: list[Path], target: Path, spill: Path) -> None:
    stored = stored_schema(table)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{time.time_ns()}.tmp")
    with duckdb.connect() as con:
        for setting in (f"memory_limit = '{MERGE_MEMORY}'", "threads = 1", "TimeZone = 'UTC'", "enable_progress_bar = false",
                        f"temp_directory = {_sql_list([str(spill)])}"):
            con.execute(f"set {setting}")
        rel = con.sql(f"select {', '.join(stored.names)} from read_parquet([{_sql_list(str(p) for p in paths)}], union_by_name = true, "
                      f"hive_partitioning = false) order by {', '.join(SORT_KEYS[table])}")
        try:
            with pq.ParquetWriter(tmp, stored, **parquet_options(stored)) as writer:
                for batch in rel.to_arrow_reader(ROW_GROUP_ROWS):
                    writer.write_table(pa.Table.from_batches([batch]).cast(stored), row_group_size=ROW_GROUP_ROWS)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    _fsync_path(tmp)
    os.replace(tmp, target)
    _fsync_path(target.parent)


def parquet_options(schema: pa.Schema) -> dict:
    """How the lake writes a data file of this schema: zstd; a dictionary for ``DICTIONARY_COLUMNS`` and for every
    string column that may be null. DuckDB 2.0.0 answers ``IS NULL`` wrongly on a plain-encoded string column
    whose non-null values are all equal (one near-duplicate's ``duplicate_of`` among nulls: every row matched,
    measured), and reads the same column right with a dictionary."""
    return {"compression": "zstd",
            "use_dictionary": [f.name for f in schema if f.name in DICTIONARY_COLUMNS or (f.nullable and pa.types.is_string(f.type))]}


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(rows: pa.Table, path: Path, sync_folder: bool = True) -> None:
    """Write a Parquet file beside its name, fsync it, rename it into place and fsync the folder (not with
    ``sync_folder`` false: a staged part, whose name only matters once ``Lake.place`` has moved it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{time.time_ns()}.tmp")
    pq.write_table(rows, tmp, row_group_size=ROW_GROUP_ROWS, **parquet_options(rows.schema))
    _fsync_path(tmp)
    os.replace(tmp, path)
    if sync_folder:
        _fsync_path(path.parent)


def _file_problem(path: Path, size: int, rows: int | None, deep: bool) -> str | None:
    """What is wrong with one data file against its Delta log entry, or None."""
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    if actual != size:
        return f"{actual:,} bytes, the log recorded {size:,}"
    if deep:
        try:
            found = pq.ParquetFile(path).metadata.num_rows
        except Exception as e:  # noqa: BLE001 (any failure to read the footer is the finding)
            return f"unreadable: {' '.join(str(e).split())}"
        if rows is not None and found != rows:
            return f"{found:,} rows, the log recorded {rows:,}"
    return None


def _runs_rows(path: str) -> list[dict]:
    """The run ids, recorded table versions and MinHash schemes of one ``runs`` data file (none recorded: a file
    without the column; a scheme not recorded: None)."""
    data = pq.ParquetFile(path)
    names = data.schema_arrow.names
    if "table_versions" not in names:
        return []
    rows = data.read(columns=[c for c in ("run_id", "table_versions", "minhash_scheme") if c in names]).to_pylist()
    return [{"minhash_scheme": None, **r} for r in rows]


def _sql_list(values: Iterable) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(int(v)) for v in values)


class _OneDatabase:
    """A database of ``flows.duck`` opened at its first use, for several look-ups (``Lake.looking_up``)."""

    def __init__(self):
        self.con: duckdb.DuckDBPyConnection | None = None

    def get(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            self.con = duck.connect()
        return self.con

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


class Lake:
    """``root/lake/<table>/`` Delta tables; ``runs`` rows name the table versions each run left.

    Readers (the DuckDB views, :meth:`read`, the lookups) see the versions the latest ``runs`` row
    records, so a run is all-or-nothing for them; a run that died between its table commits is rolled
    back by the next :meth:`writing`.

    Args:
        root: the lake folder (holds ``lake/`` and ``newslake.duckdb``).
        retention_seconds: how long files dropped from the tables stay on disk for open readers.
        compact_files: a table with more files than this is compacted at the end of a run.
    """

    def __init__(self, root: Path, retention_seconds: float = 3600, compact_files: int = COMPACT_FILES):
        self.root = Path(root)
        self.retention_seconds = retention_seconds
        self.compact_files = compact_files
        self.dir = self.root / "lake"
        self.duckdb_path = self.root / "newslake.duckdb"
        self._open: dict[str, DeltaTable] = {}
        self._runs_read: tuple[int, dict, dict] | None = None  # (runs version, run_versions and schemes at it)
        self._looking_up = threading.local()  # the database of the look-ups inside ``looking_up`` (per thread)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_open": {}, "_runs_read": None, "_looking_up": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _looking_up=threading.local())

    def table_path(self, table: str) -> Path:
        """The folder of a table's Delta log and data files."""
        return self.dir / table

    def check_format(self) -> None:
        """Raise :class:`OldLakeFormat` with the command that converts a pre-Delta lake."""
        if (self.dir / OLD_MANIFEST).exists():
            raise OldLakeFormat(f"{self.root} holds a pre-Delta lake ({self.dir / OLD_MANIFEST}); "
                                f"convert it with: newslake migrate --lake {self.root}")

    def _delta(self, table: str) -> DeltaTable | None:
        """The table at its latest version (opened once per Lake, then brought up to date when its log
        holds a later commit), or None."""
        dt = self._open.get(table)
        if dt is not None:
            if self._has_later(table, dt.version()):
                dt.update_incremental()
            return dt
        if self._creating():
            return None  # a new lake's table, being made: it has no rows yet
        path = self.table_path(table)
        if not (path / "_delta_log").exists():
            return None
        self._open[table] = dt = DeltaTable(path)
        return dt

    def _has_later(self, table: str, version: int) -> bool:
        """Whether the table's log holds a commit after ``version``: every commit writes the next version's
        JSON file (put-if-absent), so one stat answers what reading the log again would (a run reads a
        table's version dozens of times; each reread lists and parses its log)."""
        return (self.table_path(table) / "_delta_log" / f"{version + 1:020d}.json").exists()

    def _at(self, table: str, version: int) -> DeltaTable:
        dt = self._delta(table)
        return dt if dt is not None and dt.version() == version else DeltaTable(self.table_path(table), version=version)

    def current_versions(self) -> dict[str, int]:
        """The latest committed version of every existing table (what a raw Delta reader sees)."""
        out = {}
        for table in TABLES:
            dt = self._delta(table)
            if dt is not None:
                out[table] = dt.version()
        return out

    def run_versions(self) -> dict[str, dict[str, int]]:
        """Table versions recorded by every run that recorded them: run_id -> {table: version}. Read once per
        version of the ``runs`` table (a run asks for the latest run's versions dozens of times; each read opens
        every ``runs`` file, and a version's rows never change)."""
        dt = self._delta("runs")
        if dt is None:
            return {}
        return {run_id: dict(versions) for run_id, versions in self._runs(dt)[1].items()}

    def _runs(self, dt: DeltaTable) -> tuple[int, dict[str, dict[str, int]], dict[str, str | None]]:
        """(version, table versions by run, MinHash scheme by run) of the ``runs`` table at its latest version."""
        if self._runs_read is None or self._runs_read[0] != dt.version():
            rows = [r for path in dt.file_uris() for r in _runs_rows(path)]  # a few small files: Arrow's dataset costs ~9 ms more
            self._runs_read = (dt.version(), {r["run_id"]: dict(r["table_versions"]) for r in rows if r["table_versions"]},
                               {r["run_id"]: r["minhash_scheme"] for r in rows})
        return self._runs_read

    def minhash_scheme(self) -> str:
        """How this lake's signatures are made (``transforms.dedup.MINHASH_SCHEMES``), so that a run signs its
        articles alike: the scheme its latest run recorded; SHA-1 shingles for a lake of runs from before runs
        recorded one; a lake without runs takes the current one (``MINHASH``)."""
        dt = self._delta("runs")
        if dt is None or not (runs := self._runs(dt))[2]:
            return MINHASH
        latest = self.latest_run()
        return runs[2].get(latest) or SHA1_SHINGLES

    def runs_newest_first(self) -> list[tuple[str, dict[str, int]]]:
        """Every run with the table versions it recorded, the latest published (highest ``runs`` version) first."""
        return sorted(self.run_versions().items(), key=lambda item: item[1]["runs"], reverse=True)

    def latest_run(self) -> str | None:
        """The id of the run readers see (the latest published one), or None in a lake without runs."""
        return next((run_id for run_id, _ in self.runs_newest_first()), None)

    def versions(self, run_id: str | None = None) -> dict[str, int]:
        """The table versions a run left (default: the latest run); empty when no run has committed.

        Raises:
            KeyError: no run ``run_id`` recorded table versions.
        """
        self.check_format()
        if run_id is None:
            return next((versions for _, versions in self.runs_newest_first()), {})
        runs = self.run_versions()
        if run_id not in runs:
            raise KeyError(f"no run {run_id!r} in this lake; see `newslake runs`")
        return runs[run_id]

    def files(self, table: str, versions: dict[str, int] | None = None) -> list[str]:
        """Absolute paths of a table's data files at the pinned version (default: the latest run's)."""
        versions = self.versions() if versions is None else versions
        if table not in versions:
            return []
        return sorted(self._at(table, versions[table]).file_uris())

    def row_count(self, table: str) -> int:
        """How many rows a table holds as the latest run left it, from its files' Parquet footers."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files(table))

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """A table's rows as the latest run left them, only ``columns`` read from disk (declared types;
        empty with the declared schema when it has none)."""
        schema = TABLES[table]
        wanted = pa.schema([schema.field(c) for c in columns]) if columns else schema
        paths = self.files(table)
        if not paths:
            return wanted.empty_table()
        stored = pa.schema([stored_schema(table).field(c) for c in wanted.names])
        parts = []
        for p in paths:
            present = [c for c in stored.names if c in pq.read_schema(p).names]
            parts.append(conform(pq.read_table(p, columns=present), stored))
        return from_stored(table, pa.concat_tables(parts))

    def _lookup(self, table: str, columns: list[str], key: str, values: list, where: str = "true", distinct: bool = False) -> pa.Table:
        """Rows of ``table`` whose ``key`` is one of ``values`` (and that meet ``where``; with ``distinct``, each
        distinct row once): a DuckDB scan of the pinned files with the key filter pushed into the Parquet
        reader, so only the key column is read in full."""
        paths = self.files(table)
        if not paths or not values:
            stored = stored_schema(table)  # a column given as an expression ("... as name") is typed null
            return pa.schema([stored.field(c) if c in stored.names else pa.field(c.rsplit(" as ", 1)[-1], pa.null())
                              for c in columns]).empty_table()
        shared = getattr(self._looking_up, "database", None)
        with duck.connect() if shared is None else nullcontext(shared.get()) as con:
            if len(values) > LITERAL_KEYS:  # parsing thousands of literals costs more than the scan: a table of them
                con.register("wanted_keys", pa.table({"k": pa.array(values, stored_schema(table).field(key).type)}))
                wanted = "select k from wanted_keys"
            else:
                wanted = _sql_list(values)
            sql = (f"select {'distinct ' if distinct else ''}{', '.join(columns)} from read_parquet([{_sql_list(paths)}], union_by_name = true) "
                   f"where {key} in ({wanted}) and ({where})")
            try:
                return con.sql(sql).to_arrow_table()
            finally:
                if shared is not None and len(values) > LITERAL_KEYS:
                    con.unregister("wanted_keys")

    @contextmanager
    def looking_up(self):
        """The block's look-ups of the lake (on this thread) on one in-memory DuckDB database, opened at the first
        look-up that needs one, instead of a database each (opening one costs 25-35 ms here, see ``flows.duck``)."""
        if getattr(self._looking_up, "database", None) is not None:
            yield
            return
        database = _OneDatabase()
        self._looking_up.database = database
        try:
            yield
        finally:
            self._looking_up.database = None
            database.close()

    def _file_rows(self, key: str, values: list, where: str = "true", columns: list[str] = FILE_COLUMNS, distinct: bool = False) -> list[dict]:
        """The ``files`` rows whose ``key`` is one of ``values``, with the columns ``current_files`` reads."""
        try:
            return self._lookup("files", columns, key, values, where, distinct).to_pylist()
        except duckdb.BinderException:  # every files part predates the etag column
            return self._lookup("files", columns[:-1] + ["null as etag"], key, values, where, distinct).to_pylist()

    def file_history(self, paths: Iterable[str], repeats: bool = True) -> list[dict]:
        """The ``files`` rows of these paths only (path, run_id, record, sha256, status, article_id, size, seen_at,
        etag); without ``repeats``, not the ``unchanged`` rows that only repeat an earlier account (one per
        path and no-op run: what ``current_files`` reads past)."""
        return self._file_rows("path", sorted(set(paths)), "true" if repeats else REPEATS_SKIPPED)

    def known_files(self, paths: Iterable[str], articles: bool = True) -> dict[str, KnownFile]:
        """What the lake last made of these paths (hash and articles of the latest run that read each). Without
        ``articles``, their article ids are left out (empty) and the rows of one path and run are first made one
        in DuckDB: a dump's hundreds of thousands of records are then a row or two here."""
        from transforms.batch import current_files  # not for the read-only commands, which never need it

        if articles:
            return current_files(self.file_history(paths, repeats=False))
        wanted = sorted(set(paths))
        # the same look-up over the same files of the table gives the same account: a run asks twice (choosing
        # where its tasks run, then in its flow), which on a no-op rerun of thousands of files is most of its work
        key = (str(self.root), tuple(self.files("files")), tuple(wanted))
        if not (_LAST_ACCOUNT and _LAST_ACCOUNT[0][0] == key):
            _LAST_ACCOUNT[:] = [(key, current_files(self._file_rows("path", wanted, REPEATS_SKIPPED, ACCOUNT_COLUMNS, distinct=True)))]
        return {path: replace(known, article_ids=set()) for path, known in _LAST_ACCOUNT[0][1].items()}

    def known_under(self, folders: Iterable[str]) -> dict[str, KnownFile]:
        """What the lake last made of every path it knows inside these folders (or equal to these paths)."""
        from transforms.batch import current_files

        paths = self.files("files")
        prefixes = sorted({f if is_remote(f) else str(Path(f).expanduser().resolve()) for f in folders})
        if not paths or not prefixes:
            return {}
        under = " or ".join(f"path = {_sql_list([p])} or starts_with(path, {_sql_list([p.rstrip('/') + '/'])})" for p in prefixes)
        with duck.connect() as con:
            source = f"read_parquet([{_sql_list(paths)}], union_by_name = true) where {under}"
            try:
                rows = con.sql(f"select {', '.join(FILE_COLUMNS)} from {source}").to_arrow_table().to_pylist()
            except duckdb.BinderException:  # every files part predates the etag column
                rows = con.sql(f"select {', '.join(FILE_COLUMNS[:-1])}, null as etag from {source}").to_arrow_table().to_pylist()
        return current_files(rows)

    def files_carrying(self, article_ids: Iterable[str]) -> list[dict]:
        """The ``files`` rows that name one of these articles (path, run_id, record, sha256, status, article_id, size, etag)."""
        return self._file_rows("article_id", sorted(set(article_ids)))

    def existing_articles(self, ids: Iterable[str]) -> set[str]:
        """Which of these article ids the lake already holds."""
        rows = self._lookup("articles", ["article_id"], "article_id", sorted(set(ids)))
        return set(rows.column("article_id").to_pylist())

    def signature_candidates(self, keys: Iterable[int]) -> dict[str, np.ndarray]:
        """MinHash signatures of the lake's articles that share at least one LSH band key with ``keys``."""
        bands = self._lookup("signature_bands", ["article_id"], "band_key", sorted(set(keys)))
        ids = sorted(set(bands.column("article_id").to_pylist()))
        rows = self._lookup("signatures", ["article_id", "minhash"], "article_id", ids)
        minhash = from_stored("signatures", rows).column("minhash")
        return {aid: np.asarray(mh, dtype=np.uint64) for aid, mh in zip(rows.column("article_id").to_pylist(),
                                                                         minhash.to_numpy(zero_copy_only=False))}

    def source_lines(self, sources: Iterable[str] | None = None) -> list[dict]:
        """The ``source_lines`` rows (boilerplate lines) of these sources (of every source: None), read with Arrow: a
        small table that each commit rewrites whole, and reads whole to do so (a DuckDB database costs ~12 ms to open
        and close)."""
        rows = self.read("source_lines", ["source_name", "line", "n_articles"])
        if sources is None:
            return rows.to_pylist()
        return rows.filter(pc.is_in(rows.column("source_name"), value_set=pa.array(sorted(set(sources)), pa.string()))).to_pylist()

    def busy(self) -> bool:
        """Whether another run holds the write lock now (a probe: it takes and drops the lock at once)."""
        try:
            fd = os.open(self.root / ".lock", os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def free_within(self, seconds: float, poll: float = 0.2) -> bool:
        """Whether the write lock is free now or frees up within ``seconds`` (polled, never taken)."""
        deadline = time.monotonic() + seconds
        while self.busy():
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(poll, max(deadline - time.monotonic(), 0)))
        return True

    def damaged(self, versions: dict[str, int] | None = None, deep: bool = False) -> list[dict]:
        """Data files of the pinned versions (default: the latest run's) that are missing or not the size
        the Delta log recorded, and with ``deep`` those whose Parquet footer cannot be read or counts other
        rows than the log: one {table, path, problem} per file."""
        versions = self.versions() if versions is None else versions
        out = []
        for table, version in sorted(versions.items()):
            if table not in TABLES:
                continue
            adds = pa.table(self._at(table, version).get_add_actions(flatten=True)).select(["path", "size_bytes", "num_records"])
            for add in adds.to_pylist():
                path = self.table_path(table) / unquote(add["path"])
                if problem := _file_problem(path, add["size_bytes"], add["num_records"], deep):
                    out.append({"table": table, "path": str(path), "problem": problem})
        return out

    def last_intact_run(self) -> str | None:
        """The latest run whose data files are all present with their recorded sizes."""
        return next((run_id for run_id, versions in self.runs_newest_first() if not self.damaged(versions)), None)

    def restore(self, run_id: str) -> dict[str, int]:
        """Make ``run_id`` the latest run again: its ``runs`` version, then every table back to the version
        it recorded (Delta RESTORE: later runs stay in each table's history). Call while holding the lock.

        Raises:
            KeyError: no run ``run_id``.
            DamagedLake: files of that run's versions are gone (vacuumed or damaged).
        """
        target = self.versions(run_id)
        if bad := self.damaged(target):
            raise DamagedLake(f"run {run_id} cannot be restored: {len(bad):,} of its data files are missing or damaged, "
                              f"e.g. {bad[0]['path']} ({bad[0]['problem']})")
        if self.current_versions().get("runs") != target["runs"]:
            self._delta("runs").restore(target["runs"])
            self._sync_log("runs", self._delta("runs").version())
        return self.recover()

    @contextmanager
    def writing(self, intact: bool = True):
        """Hold the lake's single-writer lock for a run; first roll back what a dead run left half-committed
        and clear its staging area. With ``intact``, refuse (DamagedLake) a lake whose latest run names
        data files that are missing or truncated: a run would build on rows that cannot be read."""
        self.check_format()
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LakeBusy(f"another newslake run is writing to {self.root}") from None
            if not any((self.table_path(t) / "_delta_log").exists() for t in TABLES):
                self._create_tables_behind()  # a new lake: nothing to recover or check
            else:
                self.recover()
                if intact and (bad := self.damaged()):
                    raise DamagedLake(
                        f"the lake at {self.root} is damaged: {len(bad):,} data file(s) of its latest run are missing or "
                        f"truncated, e.g. {bad[0]['path']} ({bad[0]['problem']}); nothing was written. List them with "
                        f"`newslake check --lake {self.root}` and go back to the last intact run with `newslake restore`")
            try:
                yield self
            except BaseException:
                self._tables_created(raise_errors=False)  # no creation outlives the lock; the run's error is the one raised
                raise
            self._tables_created()
        finally:
            os.close(fd)

    def _create_tables_behind(self) -> None:
        """Start making a new lake's tables on a thread of their own, so that a run's first stages go ahead meanwhile
        (made side by side, they cost a run's serial path 20 ms, and 40-70 ms beside its first task). Until they are
        made, every table reads as absent (``_delta``: a new lake's tables have no rows), and whatever writes a table
        waits for them (``_tables_created``). Call only while holding the write lock."""
        shutil.rmtree(self.dir / STAGING, ignore_errors=True)
        future: Future = Future()

        def create() -> None:
            try:
                self._make_tables()
            except BaseException as e:  # noqa: BLE001 (raised where the tables are needed, see _tables_created)
                future.set_exception(e)
            else:
                future.set_result(None)

        with _CREATING_LOCK:
            _CREATING[self.dir] = future
        threading.Thread(target=create, name="newslake-new-tables", daemon=True).start()

    def _creating(self) -> bool:
        """Whether this lake's tables are being made by this process now."""
        future = _CREATING.get(self.dir)
        return future is not None and not future.done()

    def _tables_created(self, raise_errors: bool = True) -> None:
        """Wait for the tables being made in the background (``_create_tables_behind``), if any; raise what
        making them raised (unless not ``raise_errors``)."""
        future = _CREATING.get(self.dir)
        if future is None:
            return
        try:
            future.result()
        except BaseException:
            if raise_errors:
                raise
        finally:
            with _CREATING_LOCK:
                if _CREATING.get(self.dir) is future:
                    del _CREATING[self.dir]

    def recover(self) -> dict[str, int]:
        """Restore every table a dead run committed past the latest run's versions; returns
        {table: version restored to}. Call only while holding the write lock."""
        self._ensure_tables()
        pinned = self.versions()
        restored = {}
        for table, version in self.current_versions().items():
            want = pinned.get(table, 0)
            if version <= want:
                continue
            dt = self._delta(table)
            last = dt.history(1)[0]
            if last["operation"] == "RESTORE" and str(last["operationParameters"].get("version")) == str(want):
                continue
            dt.restore(want)
            self._sync_log(table, self._delta(table).version())
            restored[table] = want
        shutil.rmtree(self.dir / STAGING, ignore_errors=True)
        return restored

    def _ensure_tables(self) -> None:
        """Create the tables a new lake lacks (side by side: each creation mostly waits on the disk),
        and add columns declared since to the others (once those being made in the background are made)."""
        self._tables_created()
        self._make_tables()

    def _make_tables(self) -> None:
        missing = [t for t in TABLES if not (self.table_path(t) / "_delta_log").exists()]
        if missing:
            with ThreadPoolExecutor(len(missing)) as pool:
                list(pool.map(self._create_table, missing))
        for table in TABLES:
            if table not in missing:
                self._add_new_columns(table)

    def _create_table(self, table: str) -> None:
        created = DeltaTable.create(self.table_path(table), delta_schema(table), mode="ignore",
                                    partition_by=[PARTITION] if table in PARTITIONED_TABLES else None)
        self._sync_log(table, 0)
        self._open[table] = created  # opened by its creation: opening it again costs a run on a new lake 1-2 ms a table

    def _add_new_columns(self, table: str) -> None:
        """Columns declared since the table was created (``actors.parent``) added to its Delta schema,
        nullable, so Delta readers see them too; older files read them as nulls (``conform``)."""
        dt = self._delta(table)
        have = {f.name for f in dt.schema().fields}
        missing = [f for f in delta_schema(table) if f.name not in have]
        if missing:
            dt.alter.add_columns(DeltaSchema.from_arrow(pa.schema([f.with_nullable(True) for f in missing])).fields)
            self._sync_log(table, self._delta(table).version())

    def _sync_log(self, table: str, version: int) -> None:
        log = self.table_path(table) / "_delta_log"
        for path in log.iterdir():
            if path.name.startswith(f"{version:020d}") or path.name == "_last_checkpoint":
                _fsync_path(path)
        _fsync_path(log)

    def stage(self, table: str, rows: pa.Table, run_id: str, part: str) -> str | None:
        """Write one durable Parquet part into the run's staging area; returns its path relative to the
        lake (the same arguments give the same path, so a retried part overwrites itself)."""
        if rows.num_rows == 0:
            return None
        rel = Path(STAGING) / run_id / table / f"{part}.parquet"
        write_durable(to_stored(table, rows), self.dir / rel, sync_folder=False)  # its data is durable; its folder is synced once placed
        return str(rel)

    def stage_file(self, table: str, source: Path, run_id: str, part: str) -> str | None:
        """Stage the rows of a Parquet file (in the declared columns) as one part, a row group at a time."""
        reader = pq.ParquetFile(source)
        if reader.metadata.num_rows == 0:
            return None
        rel = Path(STAGING) / run_id / table / f"{part}.parquet"
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{time.time_ns()}.tmp")
        with pq.ParquetWriter(tmp, stored_schema(table), **parquet_options(stored_schema(table))) as writer:
            for group in range(reader.num_row_groups):
                rows = reader.read_row_group(group, columns=TABLES[table].names)
                writer.write_table(to_stored(table, rows), row_group_size=ROW_GROUP_ROWS)
        _fsync_path(tmp)
        os.replace(tmp, path)
        return str(rel)

    def commit_table(self, table: str, added: list[Path], removed: list[dict] = (), data_change: bool = True) -> int:
        """Commit one table: add these data files (already durable inside the table folder), remove these
        add-action rows, in one Delta transaction; returns the new version."""
        self._tables_created()
        root = self.table_path(table)
        now = int(time.time() * 1000)
        actions = []
        for path in added:
            rel = path.relative_to(root).as_posix()
            parts = {PARTITION: path.parent.name.split("=", 1)[1]} if table in PARTITIONED_TABLES else {}
            stats = json.dumps({"numRecords": pq.ParquetFile(path).metadata.num_rows})
            actions.append(AddAction(path=rel, size=path.stat().st_size, partition_values=parts, modification_time=now,
                                     data_change=data_change, stats=stats))
        for row in removed:
            parts = {PARTITION: str(row[f"partition.{PARTITION}"])} if table in PARTITIONED_TABLES else None
            actions.append(RemoveAction(path=row["path"], data_change=data_change, deletion_timestamp=now,
                                        size=row["size_bytes"], partition_values=parts))
        dt = self._delta(table)
        dt.create_write_transaction(actions, mode="append", schema=delta_schema(table),
                                    partition_by=[PARTITION] if table in PARTITIONED_TABLES else None)
        version = self._delta(table).version()
        self._sync_log(table, version)
        return version

    def _live_files(self, table: str) -> list[dict]:
        return pa.table(self._delta(table).get_add_actions(flatten=True)).to_pylist()

    def place(self, table: str, rel: str, run_id: str, day: date, sync: bool = True) -> Path:
        """Move a staged part into its table folder (and partition); returns its new path. With ``sync``
        false the caller fsyncs the folder (once for all the parts it places there)."""
        folder = self.table_path(table) / (f"{PARTITION}={day.isoformat()}" if table in PARTITIONED_TABLES else "")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{run_id}-{Path(rel).name}"
        os.replace(self.dir / rel, target)
        if sync:
            _fsync_path(folder)
        return target

    def _without_articles(self, table: str, run_id: str, retired: set[str]) -> tuple[list[Path], list[dict]]:
        """Copy-on-write of the files holding rows of retired articles: (rewritten files, files they replace).
        Files whose article_id statistics cannot hold a retired id are not opened."""
        wanted = pa.array(sorted(retired), pa.string())
        lo, hi = min(retired), max(retired)
        added, removed = [], []
        for n, row in enumerate(self._live_files(table)):
            path = self.table_path(table) / row["path"]
            meta = pq.ParquetFile(path).metadata
            col = meta.schema.names.index("article_id")
            stats = [meta.row_group(g).column(col).statistics for g in range(meta.num_row_groups)]
            if all(s is not None and s.has_min_max and (s.max < lo or s.min > hi) for s in stats):
                continue
            ids = pq.read_table(path, columns=["article_id"]).column("article_id")
            mask = pc.is_in(ids, value_set=wanted)
            if not pc.any(mask).as_py():
                continue
            removed.append(row)
            kept = pq.read_table(path).filter(pc.invert(mask))
            if kept.num_rows:
                target = path.with_name(f"{run_id}-rw{n:05d}.parquet")
                write_durable(kept, target)
                added.append(target)
        return added, removed

    def write_bands(self, staged_signatures: list[str], run_id: str, day: date) -> list[Path]:
        """The ``signature_bands`` file of a run that staged signatures but not their bands: one row per
        article per LSH band, sorted by band key (an ingest stages the bands with the signatures)."""
        rows = []
        for rel in staged_signatures:
            sigs = from_stored("signatures", pq.read_table(self.dir / rel))
            for aid, mh in zip(sigs.column("article_id").to_pylist(), sigs.column("minhash").to_numpy(zero_copy_only=False)):
                rows += [(key, aid) for key in band_keys(np.asarray(mh, dtype=np.uint64))]
        if not rows:
            return []
        table = pa.table({"band_key": pa.array([r[0] for r in rows], pa.int64()), "article_id": [r[1] for r in rows]})
        table = to_stored("signature_bands", table).sort_by([(k, "ascending") for k in SORT_KEYS["signature_bands"]])
        path = self.table_path("signature_bands") / f"{run_id}-bands.parquet"
        write_durable(table, path)
        return [path]

    def commit(self, run_id: str, staged: dict[str, list[str]], day: date, retired: set[str] = frozenset()) -> dict[str, int]:
        """Commit a run: each table in turn (``retired`` article ids lose their rows in the same per-table
        transaction), then compaction of tables past ``compact_files`` files, then the run's ``runs`` row
        recording every table's version, which publishes the run. Returns those versions."""
        self.check_format()
        staged = {t: [r for r in rels if r] for t, rels in staged.items()}
        if not staged.get("runs"):
            raise ValueError(f"run {run_id} staged no `runs` row: the runs row is what publishes a run")
        self._ensure_tables()
        staged_bands = [] if staged.get("signature_bands") else self.write_bands(staged.get("signatures", []), run_id, day)

        def commit_one(table: str) -> None:
            added = [self.place(table, rel, run_id, day, sync=False) for rel in staged.get(table, [])]
            for folder in {path.parent for path in added}:
                _fsync_path(folder)
            if table == "signature_bands" and staged_bands:
                added = staged_bands
            removed: list[dict] = []
            if table in REPLACED_TABLES and added:
                removed = self._live_files(table)
            elif retired and table in ARTICLE_TABLES:
                rewritten, removed = self._without_articles(table, run_id, set(retired))
                added += rewritten
            if added or removed:
                self.commit_table(table, added, removed)

        # side by side: each table's transaction is its own (the runs row below is what publishes them all), and each
        # mostly waits on the disk (fsync) or runs in delta-rs without the GIL
        with ThreadPoolExecutor(COMMIT_THREADS, thread_name_prefix="newslake-commit") as pool:
            list(pool.map(commit_one, DATA_TABLES))  # a table with nothing to add or remove commits nothing
        replaced = [t for t in REPLACED_TABLES if staged.get(t)]
        compacted = self.compact()
        versions = self.current_versions()
        versions["runs"] += 1
        rows = pa.concat_tables([pq.read_table(self.dir / rel) for rel in staged["runs"]])
        field = TABLES["runs"].field("table_versions")
        rows = rows.set_column(rows.column_names.index(field.name), field, pa.array([list(versions.items())] * rows.num_rows, field.type))
        path = self.table_path("runs") / f"{run_id}-run.parquet"
        write_durable(rows, path)
        self.commit_table("runs", [path])
        self.vacuum(sorted(set(compacted) | set(replaced)))
        shutil.rmtree(self.dir / STAGING / run_id, ignore_errors=True)
        return versions

    def compact(self, force: bool = False) -> list[str]:
        """Merge each table's small files (per partition, sorted by its lookup keys) when it holds more than
        ``compact_files`` files, or whenever it has small files to merge with ``force``; the merged files
        replace them in one transaction that changes no data. Returns the tables compacted."""
        done = []
        for table in TABLES:
            dt = self._delta(table)
            count = len(dt.file_uris()) if dt is not None else 0  # counted without making a row of each (most tables are not due)
            if not count or (not force and count <= self.compact_files):
                continue
            live = self._live_files(table)
            groups: dict[str, list[dict]] = {}
            for row in live:
                if row["size_bytes"] < TARGET_FILE_BYTES:
                    groups.setdefault(str(row.get(f"partition.{PARTITION}", "")), []).append(row)
            added, removed = [], []
            for part, rows in [(p, b) for p in sorted(groups) for b in _bins(groups[p])]:
                if len(rows) < 2:
                    continue
                root = self.table_path(table)
                folder = root / (f"{PARTITION}={part}" if table in PARTITIONED_TABLES else "")
                target = folder / f"compacted-{time.time_ns()}.parquet"
                merge_sorted(table, [root / r["path"] for r in rows], target, self.dir / STAGING / "merge-spill")
                added.append(target)
                removed += rows
            if added:
                self.commit_table(table, added, removed, data_change=False)
                done.append(table)
        return done

    def repin(self) -> dict[str, int]:
        """Point the latest run's ``runs`` row at every table's current version (after a compaction, which
        changes no rows), so the views stop reading files that vacuum will delete; returns the versions."""
        latest = self.versions()
        if not latest:
            return {}
        runs = self.read("runs")
        versions = self.current_versions()
        versions["runs"] += 1
        pinned = [dict(v) if v else None for v in runs.column("table_versions").to_pylist()]
        field = TABLES["runs"].field("table_versions")
        repinned = [list(versions.items()) if v == latest else (list(v.items()) if v else None) for v in pinned]
        runs = runs.set_column(runs.column_names.index(field.name), field, pa.array(repinned, field.type))
        path = self.table_path("runs") / f"repinned-{time.time_ns()}.parquet"
        write_durable(to_stored("runs", runs), path)
        self.commit_table("runs", [path], self._live_files("runs"), data_change=False)
        return versions

    def vacuum(self, tables: Iterable[str], full: bool = False) -> int:
        """Delete files these tables dropped more than ``retention_seconds`` ago (rounded up to whole hours,
        as Delta's vacuum counts them; with ``full``, also files no version ever listed); returns how many."""
        hours = math.ceil(self.retention_seconds / 3600)
        deleted = 0
        for table in tables:
            deleted += len(self._delta(table).vacuum(retention_hours=hours, dry_run=False, full=full,
                                                                      enforce_retention_duration=False))
        return deleted
