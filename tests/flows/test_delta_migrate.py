"""A lake of the pre-Delta format (Parquet files listed by _manifest.json) converted by `newslake migrate`."""

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
from typer.testing import CliRunner

from flows.cli import app
from flows.lake import Lake
from tests.flows.delta_rows import IRQ, article_tables, run_row
from transforms.schemas import TABLES, to_table


def old_lake(root):
    """Two old runs: r1 wrote a1 and a2, r2 wrote a3; the manifest lists their files."""
    listed = {}
    for run, aids, day in (("r1", ["a1", "a2"], "2026-01-07"), ("r2", ["a3"], "2026-01-08")):
        tables = {**article_tables(aids, run), "runs": [{**run_row(run, len(aids), len(aids)),
                                                          "finished_at": datetime(2026, 1, int(day[-2:]), tzinfo=timezone.utc)}]}
        if run == "r2":
            tables["actors"] = [IRQ]
        for name, rows in tables.items():
            rel = f"{name}/ingest_date={day}/{run}-b0.parquet" if name in ("articles", "sentences", "mentions", "files") else f"{name}/{run}-b0.parquet"
            (root / "lake" / rel).parent.mkdir(parents=True, exist_ok=True)
            table = to_table(rows, TABLES[name])
            if name == "runs":
                table = table.drop_columns(["table_versions"])
            pq.write_table(table, root / "lake" / rel)
            listed.setdefault(name, []).append(rel)
    (root / "lake" / "_manifest.json").write_text(json.dumps({"version": 1, "tables": listed}))


def test_an_old_lake_is_refused_then_migrated(tmp_path):
    old_lake(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(app, ["query", "select 1", "--as-of", "r1", "--lake", str(tmp_path)])
    assert refused.exit_code == 1 and "newslake migrate --lake" in refused.output
    done = runner.invoke(app, ["migrate", "--lake", str(tmp_path)])
    assert done.exit_code == 0, done.output
    lake = Lake(tmp_path)
    assert sorted(lake.read("articles", ["article_id"]).column("article_id").to_pylist()) == ["a1", "a2", "a3"]
    assert lake.read("signature_bands").num_rows == 60
    assert sorted(lake.read("runs", ["run_id"]).column("run_id").to_pylist()) == ["r1", "r2"]
    assert set(lake.run_versions()) == {"r2"}
    out = runner.invoke(app, ["query", "select ingest_date::varchar, count(*) from articles group by 1 order by 1",
                              "--lake", str(tmp_path), "-f", "csv"])
    assert out.output.splitlines()[1:] == ["2026-01-07,2", "2026-01-08,1"]
    assert (tmp_path / "lake.pre-delta" / "_manifest.json").exists()
