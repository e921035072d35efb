"""A run's working folder: what the prepare stage hands to the run-wide duplicate decision (file rows and
prepared articles), and what that decision hands to the analyse and commit stages (the articles to keep,
the final file rows), so that none of it is held whole in the run's own process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

WORK = "_work"
ACCOUNTS = "accounts"  # one file per prepare batch: its file rows before the decision (``transforms.batch.ACCOUNT``)
RESOLVED = "resolved"  # the duplicate decision's working database and its outputs
KEEP_ROWS = 10_000  # rows per row group of the keep list: an analyse task reads the groups holding its range
# a staged batch lives seconds, written once and read once or twice: plain pages (no compression, no dictionary of
# distinct texts and random signatures) cost a fifth of the CPU to write and half to read, for half as many bytes again
# (DuckDB 2.0.0 answers a pushed-down ``IS NULL`` wrongly on such a string column when its non-null values are all
# equal, see flows.lake.parquet_options: the duplicate decision filters its staged batches on equality only)
PLAIN = {"compression": "none", "use_dictionary": False}


class RunScratch:
    """``DIR/_work/<run_id>/``: written by mapped tasks (on any worker sharing the lake's file system),
    removed when the run ends; a killed run's folder is removed by the next run."""

    def __init__(self, root: Path, run_id: str):
        self.dir = Path(root) / WORK / run_id

    def write(self, part: str, table: pa.Table) -> None:
        """Stage one batch's prepared articles; writing the same part again replaces it."""
        _replace(self.dir / f"{part}.parquet", table)

    def clear_part(self, part: str) -> None:
        """Remove the pieces of prepared articles staged under one batch's part (``<part>-NNNN``), before the batch is
        prepared again: another pass may stage fewer pieces, and every piece left is read as staged."""
        for piece in self.dir.glob(f"{part}-*.parquet"):
            piece.unlink(missing_ok=True)

    def write_account(self, part: str, table: pa.Table) -> None:
        """Stage one batch's file rows (``ACCOUNT``); writing the same part again replaces it."""
        _replace(self.dir / ACCOUNTS / f"{part}.parquet", table)

    def account_paths(self, parts: list[str]) -> list[Path]:
        """The staged file rows of these prepare batches."""
        return [self.dir / ACCOUNTS / f"{part}.parquet" for part in parts]

    def article_paths(self) -> list[Path]:
        """Every staged file of prepared articles."""
        return sorted(self.dir.glob("*.parquet"))

    @property
    def files_path(self) -> Path:
        """The run's final file rows (``files`` columns), in input order, written by the duplicate decision."""
        return self.dir / RESOLVED / "files.parquet"

    @property
    def keep_path(self) -> Path:
        """The articles the run writes (``n``, part, article_id, duplicate_of, analyse), in input order."""
        return self.dir / RESOLVED / "keep.parquet"

    def read_keep(self, start: int, stop: int) -> list[dict]:
        """Rows ``start`` to ``stop - 1`` of the keep list (only the row groups holding them are read, picked by
        the statistics of ``n``; Arrow's dataset layer, which ``filters=`` goes through, costs a task more)."""
        file = pq.ParquetFile(self.keep_path)
        meta, column = file.metadata, file.schema_arrow.get_field_index("n")
        groups = [g for g in range(meta.num_row_groups) if _may_hold(meta.row_group(g).column(column).statistics, start, stop)]
        rows = file.read_row_groups(groups, use_threads=False).to_pylist() if groups else []
        return sorted((r for r in rows if start <= r["n"] < stop), key=lambda r: r["n"])

    def read(self, part: str, ids: list[str]) -> pa.Table:
        """The prepared rows of these article ids from one batch, in the batch's order."""
        table = pq.read_table(self.dir / f"{part}.parquet", use_threads=False)
        wanted = set(ids)
        return table.take(pa.array([i for i, aid in enumerate(table.column("article_id").to_pylist()) if aid in wanted], pa.int64()))

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            self.dir.parent.rmdir()
        except OSError:
            pass

    @staticmethod
    def clear(root: Path) -> None:
        """Remove every run's working folder (call only while holding the lake's write lock)."""
        shutil.rmtree(Path(root) / WORK, ignore_errors=True)


def _may_hold(stats, start: int, stop: int) -> bool:
    """Whether a row group whose column has these statistics may hold a value in [start, stop)."""
    return stats is None or not stats.has_min_max or (stats.min < stop and stats.max >= start)


def _replace(target: Path, table: pa.Table) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, **PLAIN)
    os.replace(tmp, target)
