"""A run's working folder: what the prepare stage hands to the run-wide duplicate decision (file rows and
prepared articles), and what that decision hands to the analyse and commit stages (the articles to keep,
the final file rows), so that none of it is held whole in the run's own process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

WORK = "_work"
ACCOUNTS = "accounts"  # one file per prepare batch: its file rows before the decision (``transforms.batch.ACCOUNT``)
RESOLVED = "resolved"  # the duplicate decision's working database and its outputs
KEEP_ROWS = 10_000  # rows per row group of the keep list: an analyse task reads the groups holding its range
# a staged batch lives seconds, written once and read once or twice: plain pages (no compression, no dictionary of
# distinct texts and random signatures) cost a fifth of the CPU to write and half to read, for half as many bytes again
PLAIN = {"compression": "none", "use_dictionary": False}


class RunScratch:
    """``DIR/_work/<run_id>/``: written by mapped tasks (on any worker sharing the lake's file system),
    removed when the run ends; a killed run's folder is removed by the next run."""

    def __init__(self, root: Path, run_id: str):
        self.dir = Path(root) / WORK / run_id

    def write(self, part: str, table: pa.Table) -> None:
        """Stage one batch's prepared articles; writing the same part again replaces it."""
        _replace(self.dir / f"{part}.parquet", table)

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
        """Rows ``start`` to ``stop - 1`` of the keep list (only the row groups holding them are read)."""
        table = pq.read_table(self.keep_path, filters=[("n", ">=", start), ("n", "<", stop)])
        return table.sort_by("n").to_pylist()

    def read(self, part: str, ids: list[str]) -> pa.Table:
        """The prepared rows of these article ids from one batch."""
        table = pq.read_table(self.dir / f"{part}.parquet")
        return table.filter(pc.is_in(table.column("article_id"), value_set=pa.array(ids, pa.string())))

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


def _replace(target: Path, table: pa.Table) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, **PLAIN)
    os.replace(tmp, target)
