"""Convert a pre-Delta lake (Parquet files listed by ``lake/_manifest.json``) into Delta tables."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.lake import OLD_MANIFEST, PARTITION, PARTITIONED_TABLES, Lake, conform, write_durable, to_stored
from transforms.schemas import TABLES

RUN = "migrated"


def _day(rel: str) -> date:
    part = next(p for p in Path(rel).parts if p.startswith(f"{PARTITION}="))
    return date.fromisoformat(part.split("=", 1)[1])


def migrate(lake: Lake) -> dict[str, int]:
    """Move ``lake/`` aside to ``lake.pre-delta/``, write its live rows as Delta tables and publish them with
    the latest run's ``runs`` row; returns rows per table. The old folder is left for the user to delete.

    Raises:
        FileNotFoundError: the lake holds no pre-Delta manifest.
    """
    manifest = lake.dir / OLD_MANIFEST
    if not manifest.exists():
        raise FileNotFoundError(f"no pre-Delta lake at {lake.dir} (no {OLD_MANIFEST}); nothing to migrate")
    listed = json.loads(manifest.read_text())["tables"]
    old = lake.dir.with_name("lake.pre-delta")
    os.replace(lake.dir, old)
    counts = {}
    with lake.writing():
        staged_signatures, bands = [], []
        for table in TABLES:
            if table == "runs":
                continue
            added = []
            for n, rel in enumerate(listed.get(table, [])):
                rows = conform(pq.read_table(old / rel), TABLES[table])
                counts[table] = counts.get(table, 0) + rows.num_rows
                staged = lake.stage(table, rows, RUN, f"{table}-{n:05d}")
                if staged is None:
                    continue
                if table == "signatures":
                    staged_signatures.append(staged)
                    continue
                added.append(lake.place(table, staged, RUN, _day(rel) if table in PARTITIONED_TABLES else date.today()))
            if table == "signatures":
                bands = lake.write_bands(staged_signatures, RUN, date.today())
                added = [lake.place(table, rel, RUN, date.today()) for rel in staged_signatures]
            if table == "signature_bands":
                added = bands
            if added:
                lake.commit_table(table, added)
        runs = pa.concat_tables([conform(pq.read_table(old / rel), TABLES["runs"]) for rel in listed.get("runs", [])]
                                or [TABLES["runs"].empty_table()])
        counts["runs"] = runs.num_rows
        versions = lake.current_versions()
        versions["runs"] += 1
        field = TABLES["runs"].field("table_versions")
        latest = pc.max(runs.column("finished_at")).as_py() if runs.num_rows else None
        pins = [list(versions.items()) if t == latest else None for t in runs.column("finished_at").to_pylist()]
        if runs.num_rows:
            runs = runs.set_column(runs.column_names.index(field.name), field, pa.array(pins, field.type))
            path = lake.table_path("runs") / f"{RUN}-runs.parquet"
            write_durable(to_stored("runs", runs), path)
            lake.commit_table("runs", [path])
    return counts
