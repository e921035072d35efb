"""A run's working folder: prepared articles handed from the prepare stage to the analyse stage."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

WORK = "_work"


class RunScratch:
    """``DIR/_work/<run_id>/``: written by mapped tasks (on any worker sharing the lake's file system),
    removed when the run ends; a killed run's folder is removed by the next run."""

    def __init__(self, root: Path, run_id: str):
        self.dir = Path(root) / WORK / run_id

    def write(self, part: str, table: pa.Table) -> None:
        """Stage one batch's prepared articles; writing the same part again replaces it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.dir / f"{part}.parquet"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)

    def read(self, part: str, ids: list[str]) -> dict[str, dict]:
        """The prepared rows of these article ids from one batch, by id."""
        table = pq.read_table(self.dir / f"{part}.parquet")
        rows = table.filter(pc.is_in(table.column("article_id"), value_set=pa.array(ids, pa.string()))).to_pylist()
        return {r["article_id"]: r for r in rows}

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
