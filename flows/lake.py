"""The Parquet lake on disk: staged writes, an atomic manifest commit, and reads of live files."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.dedup import band_keys
from transforms.schemas import TABLES

# tables rewritten whole at each commit (small dimensions); the others only grow
REPLACED_TABLES = frozenset({"actors", "source_lines"})
PARTITIONED_TABLES = frozenset({"articles", "sentences", "mentions", "files"})
ARTICLE_TABLES = ("articles", "sentences", "mentions", "signatures")
MANIFEST = "_manifest.json"


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table written under an older schema, with columns added since then as nulls, cast to ``schema``."""
    for f in schema:
        if f.name not in table.column_names:
            if not f.nullable:
                raise ValueError(f"Parquet file lacks required column {f.name!r}")
            table = table.append_column(f.name, pa.nulls(table.num_rows, f.type))
    return table.select(schema.names).cast(schema)


class LakeBusy(RuntimeError):
    """Another run holds the lake's write lock."""


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class Lake:
    """``root/lake/<table>/...parquet`` listed by ``root/lake/_manifest.json``; only listed files are live.

    A run writes into ``root/lake/_staging/<run_id>/`` and commits by moving its files into place
    and replacing the manifest in one rename, so readers see the previous run or this one, never half.
    """

    def __init__(self, root: Path, retention_seconds: float = 3600):
        self.root = Path(root)
        self.retention_seconds = retention_seconds
        self.dir = self.root / "lake"
        self.duckdb_path = self.root / "newslake.duckdb"

    def manifest(self) -> dict[str, list[str]]:
        """Live files per table, relative to ``self.dir``."""
        path = self.dir / MANIFEST
        if not path.exists():
            return {name: [] for name in TABLES}
        listed = json.loads(path.read_text())["tables"]
        return {name: listed.get(name, []) for name in TABLES}

    def files(self, table: str) -> list[Path]:
        """Absolute paths of a table's live Parquet files."""
        return [self.dir / rel for rel in self.manifest()[table]]

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """A table's live rows, only the ``columns`` asked for read from disk (empty with the declared
        schema when it has none)."""
        schema = TABLES[table]
        paths = self.files(table)
        if not paths:
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        wanted = pa.schema([schema.field(c) for c in columns]) if columns else schema
        parts = []
        for p in paths:
            present = [c for c in wanted.names if c in pq.read_schema(p).names]
            parts.append(conform(pq.read_table(p, columns=present), wanted))
        return pa.concat_tables(parts)

    def file_history(self, paths: Iterable[str]) -> list[dict]:
        """The ``files`` rows of these paths only (path, run_id, sha256, status, article_id)."""
        wanted = pa.array(sorted(set(paths)), pa.string())
        rows = self.read("files", ["path", "run_id", "sha256", "status", "article_id"])
        return rows.filter(pc.is_in(rows.column("path"), value_set=wanted)).to_pylist()

    def files_carrying(self, article_ids: Iterable[str]) -> list[dict]:
        """The ``files`` rows that name one of these articles (path, run_id, sha256, status, article_id)."""
        wanted = pa.array(sorted(set(article_ids)), pa.string())
        rows = self.read("files", ["path", "run_id", "sha256", "status", "article_id"])
        return rows.filter(pc.is_in(rows.column("article_id"), value_set=wanted)).to_pylist()

    def existing_articles(self, ids: Iterable[str]) -> set[str]:
        """Which of these article ids the lake already holds."""
        wanted = pa.array(sorted(set(ids)), pa.string())
        rows = self.read("articles", ["article_id"])
        return set(rows.filter(pc.is_in(rows.column("article_id"), value_set=wanted)).column("article_id").to_pylist())

    def signature_candidates(self, keys: Iterable[int]) -> dict[str, np.ndarray]:
        """MinHash signatures of the lake's articles that share at least one LSH band key with ``keys``."""
        wanted = set(keys)
        rows = self.read("signatures")
        out = {}
        for aid, mh in zip(rows.column("article_id").to_pylist(), rows.column("minhash").to_numpy(zero_copy_only=False)):
            sig = np.asarray(mh, dtype=np.uint64)
            if wanted.intersection(band_keys(sig)):
                out[aid] = sig
        return out

    def source_lines(self, sources: Iterable[str]) -> list[dict]:
        """The ``source_lines`` rows (boilerplate lines) of these sources."""
        wanted = pa.array(sorted(set(sources)), pa.string())
        rows = self.read("source_lines")
        return rows.filter(pc.is_in(rows.column("source_name"), value_set=wanted)).to_pylist()

    @contextmanager
    def writing(self):
        """Hold the lake's single-writer lock for a run."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LakeBusy(f"another newslake run is writing to {self.root}") from None
            try:
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def stage(self, table: str, rows: pa.Table, run_id: str, part: str) -> str | None:
        """Write one Parquet part for a run's staging area; returns its path relative to the lake."""
        if rows.num_rows == 0:
            return None
        rows = rows.cast(TABLES[table])
        rel = Path("_staging") / run_id / table / f"{part}.parquet"
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, path.with_suffix(".tmp"), compression="zstd")
        os.replace(path.with_suffix(".tmp"), path)
        return str(rel)

    def _without_articles(self, manifest: dict[str, list[str]], run_id: str, retired: set[str]) -> None:
        """Rewrite (copy on write) the live files holding rows of retired articles, in ``manifest``."""
        for table in ARTICLE_TABLES:
            kept = []
            for n, rel in enumerate(manifest[table]):
                path = self.dir / rel
                ids = pq.read_table(path, columns=["article_id"]).column("article_id")
                mask = pc.is_in(ids, value_set=pa.array(sorted(retired), pa.string()))
                if not pc.any(mask).as_py():
                    kept.append(rel)
                    continue
                rows = pq.read_table(path).filter(pc.invert(mask))
                if rows.num_rows:
                    new_rel = str(Path(rel).parent / f"{run_id}-rw{n:05d}.parquet")
                    pq.write_table(rows, self.dir / new_rel, compression="zstd")
                    kept.append(new_rel)
            manifest[table] = kept

    def _tombstones(self) -> dict[str, float]:
        path = self.dir / MANIFEST
        return json.loads(path.read_text()).get("retired_files", {}) if path.exists() else {}

    def commit(self, run_id: str, staged: dict[str, list[str]], day: date, retired: set[str] = frozenset()) -> dict[str, list[str]]:
        """Move a run's staged parts into place and publish them with one manifest rename.

        ``retired`` article ids (replaced by changed files) lose their rows in the same commit.
        Files the new manifest no longer lists stay on disk for ``retention_seconds`` (readers
        holding an older DuckDB snapshot still read them), then the garbage collector deletes them.
        """
        before = self.manifest()
        manifest = {k: list(v) for k, v in before.items()}
        if retired:
            self._without_articles(manifest, run_id, set(retired))
        for table, parts in staged.items():
            if not parts:
                continue
            moved = []
            for rel in parts:
                sub = Path(table) / f"ingest_date={day.isoformat()}" if table in PARTITIONED_TABLES else Path(table)
                target = sub / f"{run_id}-{Path(rel).name}"
                (self.dir / target).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.dir / rel, self.dir / target)
                moved.append(str(target))
            manifest[table] = moved if table in REPLACED_TABLES else manifest[table] + moved
        live = {rel for rels in manifest.values() for rel in rels}
        tombstones = {rel: t for rel, t in self._tombstones().items() if (self.dir / rel).exists()}
        now = time.time()
        for rels in before.values():
            for rel in rels:
                if rel not in live:
                    tombstones.setdefault(rel, now)
        tmp = self.dir / f"{MANIFEST}.tmp"
        body = {"version": 1, "run_id": run_id, "tables": manifest, "retired_files": tombstones}
        _fsync_write(tmp, json.dumps(body, indent=1).encode())
        os.replace(tmp, self.dir / MANIFEST)
        self.collect_garbage()
        return manifest

    def collect_garbage(self) -> int:
        """Delete staging leftovers, files no manifest ever listed (a crashed run's), and retired
        files older than ``retention_seconds``; returns how many files were deleted."""
        live = {rel for rels in self.manifest().values() for rel in rels}
        tombstones = self._tombstones()
        shutil.rmtree(self.dir / "_staging", ignore_errors=True)
        removed = 0
        now = time.time()
        for path in self.dir.glob("*/**/*.parquet"):
            rel = str(path.relative_to(self.dir))
            if rel in live or (rel in tombstones and now - tombstones[rel] < self.retention_seconds):
                continue
            path.unlink()
            removed += 1
        return removed
