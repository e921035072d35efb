"""The DuckDB file: views from ``sql/`` over the table versions the latest run left, rebuilt atomically;
and in-memory connections pinned to an earlier run (time travel)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from flows import duck, sqlproject
from flows.lake import PARTITIONED_TABLES, Lake
from transforms.schemas import TABLES

# DuckDB spills the mart aggregations to disk past this (with 1 GB, on a 1M-article lake: a 1.3 GB peak instead of
# ~4.9 GB; 512 MB since the end of a 1 GB dump's commit, exporting the marts, held the run's peak memory)
EXPORT_MEMORY_LIMIT = "512MB"
# marts' queries run at once (they share the memory limit): one a core; a small lake's are each one thread's work, and
# more of them than cores only contend (BBC politics' marts on two cores, medians of six: 97-106 ms with two, 118-126
# with four)
EXPORT_THREADS = max(2, os.cpu_count() or 2)
SHARED_MENTIONS = 100_000  # up to this many mentions in the lake, what several marts read is computed once (_export_marts)
SPILL = "newslake.duckdb.marts.tmp"  # DIR/SPILL: where the marts' database spills past its memory limit
VIEW_MARK = "newslake sql sha256 "  # a view's comment: the hash of the SQL it was created from (create_views)
MANIFEST = "_inputs.json"  # DIR/marts/: each mart file's inputs, so an unchanged mart is not exported again


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_map(t):
        return f"MAP({_duck_type(t.key_type)}, {_duck_type(t.item_type)})"
    return {pa.string(): "VARCHAR", pa.int32(): "INTEGER", pa.int64(): "BIGINT", pa.float64(): "DOUBLE",
            pa.bool_(): "BOOLEAN", pa.date32(): "DATE"}[t]


def source_relation(lake: Lake, table: str, versions: dict[str, int]) -> str:
    """SQL for a table's rows at its pinned version: read_parquet over that version's files (a column
    added since they were written, such as ``actors.parent``, read as typed nulls), or a typed empty relation."""
    if table not in TABLES:
        raise ValueError(f"unknown lake table {table!r} in a staging view")
    paths = lake.files(table, versions)
    if not paths:
        return empty_relation(table)
    listed = ", ".join(_sql_literal(p) for p in paths)
    if table in PARTITIONED_TABLES:
        relation = f"read_parquet([{listed}], union_by_name = true, hive_partitioning = true, hive_types = {{'ingest_date': DATE}})"
    else:
        relation = f"read_parquet([{listed}], union_by_name = true)"
    declared, present = set(TABLES[table].names), set()
    for p in paths:  # a lake written by this code has every column in its first file: one footer read
        present |= set(pq.read_schema(p).names)
        if declared <= present:
            return relation
    cols = [f.name if f.name in present else f"cast(null as {_duck_type(f.type)}) as {f.name}" for f in TABLES[table]]
    if table in PARTITIONED_TABLES:
        cols.append("ingest_date")
    return f"(select {', '.join(cols)} from {relation})"


def empty_relation(table: str) -> str:
    """SQL for no rows of a lake table, typed as its rows are (what a table without files reads as)."""
    if table not in TABLES:
        raise ValueError(f"unknown lake table {table!r} in a staging view")
    cols = [f"cast(null as {_duck_type(f.type)}) as {f.name}" for f in TABLES[table]]
    if table in PARTITIONED_TABLES:
        cols.append("cast(null as DATE) as ingest_date")
    return f"(select {', '.join(cols)} where false)"


def relations(lake: Lake, versions: dict[str, int]) -> Callable[[str], str]:
    """``source_relation`` of each lake table at ``versions``, made once per table."""
    made: dict[str, str] = {}

    def relation(table: str) -> str:
        if table not in made:
            made[table] = source_relation(lake, table, versions)
        return made[table]

    return relation


def create_views(con: duckdb.DuckDBPyConnection, lake: Lake, sql_dir: Path, versions: dict[str, int],
                 relation: Callable[[str], str] | None = None) -> list[str]:
    """Create every view of ``sql/`` on ``con`` in dependency order, reading the lake tables at ``versions``;
    returns the view names in the order created. A view ``con`` holds already is kept when its SQL (with
    the pinned files it names) is what it was created from, marked in its comment, and no view it reads
    was recreated with other columns: a no-op run changes the views over ``files`` and ``runs`` only.
    Views of ``con`` that ``sql/`` no longer defines are dropped.

    Raises:
        sqlproject.SqlProjectError: an unknown ref, a cycle, a bad header, or SQL DuckDB refuses (one line naming the file).
    """
    con.execute("set parquet_metadata_cache = true")
    relation = relation or relations(lake, versions)
    created: list[str] = []
    con.execute("begin transaction")  # one commit (one write-ahead log flush) for all the views, not one each
    marks = dict(con.execute("select view_name, comment from duckdb_views() where not internal and schema_name = 'main' "
                             "and database_name = current_database()").fetchall())
    views = sqlproject.build_order(sqlproject.load_views(sql_dir))
    before = _columns(con) if marks else {}
    retyped: set[str] = set()  # views recreated with other columns than before: the views over them are recreated too
    unchecked: set[str] = set()  # views recreated whose columns are not compared yet: all at once, when a view reads one
    for view in views:
        try:
            if unchecked.intersection(view.refs):
                after = _columns(con)
                retyped |= {name for name in unchecked if after.get(name) != before.get(name)}
                unchecked.clear()
            sql = view.sql(relation)
            mark = VIEW_MARK + hashlib.sha256(sql.encode()).hexdigest()
            if marks.get(view.name) == mark and retyped.isdisjoint(view.refs):
                created.append(view.name)
                continue
            con.execute(f"create or replace view {view.name} as {sql}")
            con.execute(f"comment on view {view.name} is {_sql_literal(mark)}")
        except duckdb.Error as e:
            con.execute("rollback")
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise sqlproject.SqlProjectError(f"{sqlproject.shown(view.path)}: {first}") from e
        if view.name in marks:
            unchecked.add(view.name)
        created.append(view.name)
    for name in sorted(set(marks) - set(created)):
        con.execute(f'drop view "{name}"')
    con.execute("commit")
    return created


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Every view's column names and types, as the catalog recorded them: one scan of ``duckdb_columns()`` (about
    3 ms here, for one view or all; ``pragma_table_info`` would bind the view again, reading the files it names,
    which may be gone: a lake restored to an earlier run)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for view, column, kind in con.execute("select table_name, column_name, data_type from duckdb_columns() where schema_name = 'main' "
                                          "and database_name = current_database() order by table_name, column_index").fetchall():
        found.setdefault(view, []).append((column, kind))
    return found


BUILDING = "building"  # the catalog name of the DuckDB file being built, attached to the refresh's database
TEMPLATE = "template"  # the catalog name of a views template being written (``_save_template``)
ONLY_VIEWS = f"""select (select count(*) from duckdb_tables() where database_name = '{BUILDING}')
                + (select count(*) from duckdb_sequences() where database_name = '{BUILDING}')
                + (select count(*) from duckdb_schemas() where not internal and schema_name <> 'main' and database_name = '{BUILDING}')
                + (select count(*) from duckdb_views() where not internal and schema_name <> 'main' and database_name = '{BUILDING}')
                = 0"""


def _attach_building(con: duckdb.DuckDBPyConnection, lake: Lake, tmp: Path, template: Path | None = None) -> Path | None:
    """Attach ``tmp`` to ``con`` as ``BUILDING`` and make it the connection's default: a copy of the lake's DuckDB
    file to be updated (of ``template`` when the lake has none) when that file opens and holds nothing but views in
    its main schema (what ``refresh`` builds), else a new file. Returns the file copied, None for a new file.
    Attached to a database already open, not opened on its own: a DuckDB database costs 25-35 ms to open here,
    an attached file a few."""
    for path in (tmp, Path(f"{tmp}.wal")):
        path.unlink(missing_ok=True)
    source = lake.duckdb_path if lake.duckdb_path.exists() or template is None else template
    try:
        shutil.copyfile(source, tmp)
        con.execute(f"attach {_sql_literal(str(tmp))} as {BUILDING}")
    except (OSError, duckdb.Error):
        pass
    else:
        try:
            if con.execute(ONLY_VIEWS).fetchone()[0]:
                con.execute(f"use {BUILDING}")
                return source
        except duckdb.Error:
            pass
        con.execute(f"detach {BUILDING}")
    for path in (tmp, Path(f"{tmp}.wal")):
        path.unlink(missing_ok=True)
    con.execute(f"attach {_sql_literal(str(tmp))} as {BUILDING}")
    con.execute(f"use {BUILDING}")
    return None


def _build_views(con: duckdb.DuckDBPyConnection, lake: Lake, tmp: Path, sql_dir: Path, versions: dict[str, int],
                 relation: Callable[[str], str], template: Path | None = None) -> tuple[list[str], Path | None]:
    """The views of ``sql/`` in ``tmp`` (``_attach_building``), checkpointed and detached; returns their names and the
    file they were built from (None: a new one)."""
    source = _attach_building(con, lake, tmp, template)
    try:
        created = create_views(con, lake, sql_dir, versions, relation)
        con.execute("checkpoint")
    finally:
        con.execute("use memory")
        con.execute(f"detach {BUILDING}")
    return created, source


def template_path(cache_dir: Path, views: dict[str, sqlproject.View]) -> Path:
    """Where ``cache_dir`` keeps the views template of this SQL (``refresh``): named by everything its views are
    made from, with every lake table read as no rows, and by the DuckDB version that writes the file."""
    digest = hashlib.sha256(f"duckdb {duckdb.__version__}\0{VIEW_MARK}\0".encode())
    for view in sqlproject.build_order(views):
        digest.update(f"{view.name}\0{view.sql(empty_relation)}\0".encode())
    return cache_dir / f"views-{digest.hexdigest()[:16]}.duckdb"


def _save_template(con: duckdb.DuckDBPyConnection, lake: Lake, built: Path, template: Path, sql_dir: Path) -> None:
    """Keep a copy of the DuckDB file just built as the views template: its staging views over no rows
    (``empty_relation``), every other view as it is. Written beside, then renamed; a cache that cannot be
    written is skipped."""
    tmp = template.with_name(f".{template.name}.{os.getpid()}.tmp")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, tmp)
        con.execute(f"attach {_sql_literal(str(tmp))} as {TEMPLATE}")
        try:
            con.execute(f"use {TEMPLATE}")
            create_views(con, lake, sql_dir, {}, empty_relation)
            con.execute("checkpoint")
        finally:
            con.execute("use memory")
            con.execute(f"detach {TEMPLATE}")
        os.replace(tmp, template)
    except (OSError, duckdb.Error):
        tmp.unlink(missing_ok=True)


def refresh(lake: Lake, sql_dir: Path, export_marts: bool = True, cache_dir: Path | None = None,
            mentions: int | None = None, on_export: dict[str, Callable[[Path], None]] | None = None) -> list[str]:
    """Rebuild ``newslake.duckdb`` over the table versions the latest run recorded, beside the old file (a copy
    of it, whose unchanged views are kept: ``create_views``); export the marts to ``DIR/marts/`` (unless
    ``export_marts`` is false: their cost grows with the lake); swap both in.

    The views and the marts are made side by side, on two connections of one in-memory database: the new file
    attached to one (``_build_views``), the marts computed in memory on the other (``_export_marts``), on a
    thread of their own. DuckDB releases the GIL, and each of the two is mostly one thread's work.

    ``mentions``: the lake's mentions, when the caller has counted them (else counted here, from the footers).

    A lake without a DuckDB file starts from the views template of ``cache_dir`` (when given): the views of the
    same SQL over no rows, kept from an earlier refresh, so that only the staging views (the ones naming the
    lake's files) are made again and the others are not bound afresh (DuckDB binds a view whole, every view
    under it included: 31 views, some 150 ms here). The first refresh of a SQL without a template writes one.

    ``on_export``: marts exported before the others, each one's function called with its file as soon as it is written,
    before it is in place (it is renamed when the views are done, or removed if they fail): read it there and then.

    Returns the view names. Readers in other processes holding the old file open keep reading it;
    new connections see the new views. Each mart file is replaced by a rename, never half-written.
    """
    lake.root.mkdir(parents=True, exist_ok=True)
    tmp = lake.duckdb_path.with_name(lake.duckdb_path.name + ".building")
    versions = lake.versions()
    views = sqlproject.load_views(sql_dir)
    template = template_path(cache_dir, views) if cache_dir is not None else None
    new_lake_file = not lake.duckdb_path.exists()  # started from the template, unless it cannot be used
    relation = relations(lake, versions)
    for table in sorted({t for view in views.values() for t in view.sources}):
        relation(table)  # made here, once: both threads read them
    small = export_marts and (lake.row_count("mentions") if mentions is None else mentions) <= SHARED_MENTIONS
    # one database (opened ahead by an ingest): the DuckDB file attached on one connection, the marts in memory on another
    with duck.connect(threads=1 if small else None) as db, ThreadPoolExecutor(1, thread_name_prefix="newslake-marts") as side:
        marts = side.submit(_export_marts, db.cursor(), lake, views, relation, small, on_export) if export_marts else None
        try:
            with db.cursor() as con:
                created, source = _build_views(con, lake, tmp, sql_dir, versions, relation, template)
        except BaseException:
            if marts is not None:
                for staged, _ in _outcome(marts)[0]:
                    staged.unlink(missing_ok=True)
            raise
        exported, inputs = marts.result() if marts is not None else ([], {})
        os.replace(tmp, lake.duckdb_path)
        for staged, target in exported:
            os.replace(staged, target)
        if exported:
            _write_manifest(lake, inputs)
        if template is not None and (not template.exists() or (new_lake_file and source is None)):
            _save_template(db, lake, lake.duckdb_path, template, sql_dir)  # none yet, or one that could not be used
    return created


def _outcome(future) -> tuple[list[tuple[Path, Path]], dict[str, str]]:
    """What a marts export left, once it is done: its (written, target) pairs, none if it failed."""
    try:
        return future.result()
    except Exception:  # noqa: BLE001 (the views' error is the one raised)
        return [], {}


def connect(lake: Lake, as_of: str | None = None, sql_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the lake's DuckDB file; with ``as_of``, an in-memory connection whose
    views read the lake as run ``as_of`` left it (``sql_dir`` holds the view definitions).

    Raises:
        KeyError: no run ``as_of``.
        FileNotFoundError: no DuckDB file, or files of that run's versions were vacuumed.
    """
    if as_of is not None:
        versions = lake.versions(as_of)
        missing = [p for t in TABLES for p in lake.files(t, versions) if not Path(p).exists()]
        if missing:
            raise FileNotFoundError(f"run {as_of} can no longer be read: {len(missing)} of its files were vacuumed "
                                    f"(compacted away more than NEWSLAKE_RETENTION_SECONDS ago), e.g. {missing[0]}")
        con = duckdb.connect()
        create_views(con, lake, sql_dir, versions)
        return con
    if not lake.duckdb_path.exists():
        raise FileNotFoundError(f"no DuckDB file at {lake.duckdb_path}; run `newslake ingest` first")
    return duckdb.connect(str(lake.duckdb_path), read_only=True)


def data_tests(lake: Lake, sql_dir: Path, as_of: str | None = None) -> dict[str, int]:
    """Run the data tests generated from every view's grain declaration and every ``sql/tests/assert_*.sql``
    (on the lake as run ``as_of`` left it, if given): rule name -> number of offending rows (0 = pass)."""
    tests = sqlproject.generated_tests(sqlproject.load_views(sql_dir)) | sqlproject.assertion_tests(sql_dir)
    with connect(lake, as_of, sql_dir) as con:
        return {name: con.execute(f"select count(*) from ({sql})").fetchone()[0] for name, sql in tests.items()}


def mart_inputs(views: dict[str, sqlproject.View], name: str, relation) -> str:
    """A fingerprint of everything a view reads: its SQL and that of every view under it, with each lake
    table resolved by ``relation`` (the data files of the pinned version), so equal fingerprints mean
    equal rows."""
    digest = hashlib.sha256()
    for view in sorted(sqlproject.upstream(views, name) | {name}):
        digest.update(f"{view}\0{views[view].sql(relation)}\0".encode())
    return digest.hexdigest()


def mart_path(lake: Lake, name: str) -> Path:
    """Where ``refresh`` exports mart ``name``: ``DIR/marts/<name>.parquet``."""
    return lake.root / "marts" / f"{name}.parquet"


def _manifest_path(lake: Lake) -> Path:
    return lake.root / "marts" / MANIFEST


def _read_manifest(lake: Lake) -> dict[str, str]:
    try:
        data = json.loads(_manifest_path(lake).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(lake: Lake, inputs: dict[str, str]) -> None:
    """Record what each exported mart file was computed from (written beside, then renamed)."""
    path = _manifest_path(lake)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(inputs, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _export_marts(con: duckdb.DuckDBPyConnection, lake: Lake, views: dict[str, sqlproject.View], relation: Callable[[str], str],
                  small: bool, on_export: dict[str, Callable[[Path], None]] | None = None) -> tuple[list[tuple[Path, Path]], dict[str, str]]:
    """Write each aggregate mart whose inputs changed since its file was written, ordered by its key, beside
    ``DIR/marts/<view>.parquet``; returns (written, target) pairs to swap in, and every mart's inputs.

    The marts are computed in the in-memory database of ``con`` (closed here). On a ``small`` lake (at most
    ``SHARED_MENTIONS`` mentions) every view that two or more of the marts read is computed once, as a table (the
    mentions with their actors, the articles, ...): a small lake's marts cost DuckDB's fixed cost per query and
    per Parquet read, paid once for what they share instead of by each (BBC politics: 230 ms of CPU where each
    mart reading the views cost 510), and one thread a query spends less than two. A larger lake's marts read
    the views, each query streaming under the memory limit. The marts of ``on_export`` go first, and each one's function
    is called with its written file (see ``refresh``)."""
    (lake.root / "marts").mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(lake)
    pairs, inputs, marts = [], {}, []
    for view in views.values():
        if not view.exported:
            continue
        target = mart_path(lake, view.name)
        inputs[view.name] = mart_inputs(views, view.name, relation)
        if previous.get(view.name) == inputs[view.name] and target.exists():
            continue
        marts.append(view)
        pairs.append((target.with_name(f".{target.name}.tmp"), target))
    readers = _readers(views, [m.name for m in marts])
    with con:
        if not marts:
            return pairs, inputs
        con.execute(f"set memory_limit = '{EXPORT_MEMORY_LIMIT}'")
        con.execute(f"set temp_directory = {_sql_literal(str(lake.root / SPILL))}")
        jobs = [(view.name, f"create {'table' if small and len(readers[view.name]) >= 2 else 'view'} {view.name} as {view.sql(relation)}",
                 set(view.refs)) for view in sqlproject.build_order(views) if view.name in readers]
        jobs += [(f"{COPY}{m.name}", f"copy (select * from ({m.sql(relation)}) order by {', '.join(m.key)}) to {_sql_literal(str(tmp))} "
                  "(format parquet, compression zstd)", set(m.refs)) for m, (tmp, _) in zip(marts, pairs)]
        on_export = on_export or {}
        written = {f"{COPY}{m.name}": (on_export[m.name], tmp) for m, (tmp, _) in zip(marts, pairs) if m.name in on_export}
        first = {name for job in written for name in sqlproject.upstream(views, job.removeprefix(COPY))} | set(written)
        jobs.sort(key=lambda job: job[0] not in first)  # stable: what those marts read, then they, then the rest, each in order
        _run_graph(con, jobs, EXPORT_THREADS, done=lambda job: written[job][0](written[job][1]) if job in written else None)
    return pairs, inputs


COPY = "copy "  # the name of a mart's export among the jobs of ``_run_graph`` (no view is named so)


def _run_graph(con: duckdb.DuckDBPyConnection, jobs: list[tuple[str, str, set[str]]], threads: int,
               done: Callable[[str], None] | None = None) -> None:
    """Run each (name, sql, names it reads) job once the jobs it reads are done, each on a cursor of its own, at most
    ``threads`` at once (in the order given, of those ready): a mart's export starts as soon as what it reads is made,
    not after everything every mart reads (BBC politics: 12 shared tables, 45-55 ms one after the other, then 13 copies).
    A small mart's query mostly waits (planning, opening files, writing). The first job that fails stops the rest and
    is raised once those running are done. ``done`` is called with each job's name as it succeeds (on this thread)."""
    waiting = {name: (sql, {d for d in reads if d != name}) for name, sql, reads in jobs}
    known = set(waiting)
    for _, reads in waiting.values():
        reads &= known  # a lake table or a view made earlier: nothing to wait for
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max(1, min(threads, len(jobs))), thread_name_prefix="newslake-marts") as pool:
        try:
            while waiting or running:
                for name in [n for n, (_, reads) in waiting.items() if not reads][: threads - len(running)]:
                    running[pool.submit(_run, con.cursor(), waiting.pop(name)[0])] = name
                if not running:
                    raise RuntimeError(f"marts' views read each other in a cycle: {', '.join(sorted(waiting))}")
                finished_jobs, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished_jobs:
                    finished = running.pop(future)
                    future.result()
                    if done is not None:
                        done(finished)
                    for _, reads in waiting.values():
                        reads.discard(finished)
        finally:
            for future in running:
                future.cancel()


def _readers(views: dict[str, sqlproject.View], marts: list[str]) -> dict[str, set[str]]:
    """Every view that ``marts`` read, directly or through other views, with the marts that read it."""
    readers: dict[str, set[str]] = {}
    for mart in marts:
        for name in sqlproject.upstream(views, mart):
            readers.setdefault(name, set()).add(mart)
    return readers


def _run(cursor: duckdb.DuckDBPyConnection, sql: str) -> None:
    with cursor:
        cursor.execute(sql)
