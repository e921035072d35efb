"""benchmarks/timeline.py: the stage told by the lake folder, and the per-stage summary of a sampled tree."""

from benchmarks.timeline import Stage, summarise


def test_the_stage_follows_the_working_files_and_only_moves_forward(tmp_path):
    stage = Stage(tmp_path)
    assert stage.now() == "starting"
    work = tmp_path / "_work" / "run1"
    (work / "accounts").mkdir(parents=True)
    assert stage.now() == "starting"
    (work / "accounts" / "p00000.parquet").touch()
    assert stage.now() == "reading files"
    (work / "resolved").mkdir()
    (work / "resolved" / "resolve.duckdb").touch()
    assert stage.now() == "resolve"
    (work / "resolved" / "keep.parquet").touch()
    (work / "resolved" / "resolve.duckdb").unlink()
    assert stage.now() == "analysing articles"
    (tmp_path / "lake" / "_staging" / "run1" / "files").mkdir(parents=True)
    assert stage.now() == "commit"
    part = tmp_path / "lake" / "articles" / "ingest_date=2026-11-29"
    part.mkdir(parents=True)
    (part / ".compacted-1.parquet.9-1.tmp").touch()
    assert stage.now() == "compact"
    (part / ".compacted-1.parquet.9-1.tmp").unlink()
    assert stage.now() == "commit"
    (work / "resolved" / "keep.parquet").unlink()
    assert stage.now() == "commit"
    for p in sorted(work.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    work.rmdir()
    assert stage.now() == "refresh"


def test_summary_per_stage_and_the_peak_with_its_parts():
    rows = [
        {"t": 0.0, "pid": 1, "role": "run", "pss_mb": 100.0, "stage": "starting"},
        {"t": 0.0, "pid": 2, "role": "worker", "pss_mb": 50.0, "stage": "starting"},
        {"t": 0.5, "pid": 1, "role": "run", "pss_mb": 120.0, "stage": "commit"},
        {"t": 0.5, "pid": 2, "role": "worker", "pss_mb": 70.0, "stage": "commit"},
        {"t": 1.0, "pid": 1, "role": "run", "pss_mb": 180.0, "stage": "commit"},
    ]
    summary = summarise(rows)
    assert (summary["peak_mb"], summary["peak_t"], summary["peak_stage"]) == (190, 0.5, "commit")
    assert summary["peak_parts"] == ["run 1: 120", "worker 2: 70"]
    assert summary["stages"] == {
        "starting": {"from_s": 0.0, "to_s": 0.0, "tree_mb": 150, "run_mb": 100, "workers_mb": {2: 50}},
        "commit": {"from_s": 0.5, "to_s": 1.0, "tree_mb": 190, "run_mb": 180, "workers_mb": {2: 70}},
    }
