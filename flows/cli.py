"""The ``newslake`` command line: ingest raw news, query the lake, look at actors."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from flows.lake import Lake
from flows.settings import Settings

app = typer.Typer(
    help="newslake: raw news texts -> Parquet tables -> DuckDB views.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)

LakeOpt = Annotated[Optional[Path], typer.Option("--lake", help="Lake folder (default: data, or NEWSLAKE_LAKE).")]


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _print_rows(columns: list[str], rows: list[tuple], fmt: Format, title: str | None = None) -> None:
    if fmt is Format.csv:
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(columns)
        w.writerows(rows)
    elif fmt is Format.json:
        print(json.dumps([dict(zip(columns, r)) for r in rows], default=str, indent=1))
    else:
        t = Table(title=title)
        for c in columns:
            t.add_column(c, justify="right" if rows and isinstance(rows[0][columns.index(c)], (int, float)) else "left")
        for r in rows:
            t.add_row(*["" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in r])
        out.print(t)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files, folders (searched recursively) or globs; default seeds/articles.")] = None,
    lake: LakeOpt = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per Prefect task.")] = None,
    model: Annotated[Optional[str], typer.Option(help="spaCy pipeline name (NEWSLAKE_MODEL).")] = None,
) -> None:
    """Ingest raw news files into the lake with the Prefect flow, then refresh the DuckDB views.

    Example: newslake ingest ../shared/corpora/bbc/politics --lake data
    """
    settings = Settings.load(lake=lake, batch_size=batch_size, model=model)
    from flows.prefect_env import configure

    configure(settings.prefect_home)
    from flows import ingest as ingest_module

    paths = paths or [str(settings.seeds_dir / "articles")]
    try:
        summary = _run_with_progress(ingest_module, paths, settings)
    except (FileNotFoundError, RuntimeError) as e:
        _fail(str(e))
    s = summary["statuses"]
    err.print(
        f"[green]done[/green] run {summary['run_id']}: {summary['files_seen']:,} files seen "
        f"({', '.join(f'{v:,} {k}' for k, v in sorted(s.items())) or 'none'}); "
        f"{summary['articles']:,} articles, {summary['sentences']:,} sentences, {summary['mentions']:,} mentions written "
        f"in {summary['seconds']:.1f} s ({summary['words_per_second']:,} words/s) -> {summary['lake']}"
    )


def _run_with_progress(ingest_module, paths: list[str], settings: Settings) -> dict:
    if not err.is_terminal:
        return ingest_module.ingest_flow(paths, settings)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=err) as bar:
        task_id = bar.add_task("files", total=None)
        ingest_module.progress_hook = lambda done, total: bar.update(task_id, completed=done, total=total)
        try:
            return ingest_module.ingest_flow(paths, settings)
        finally:
            ingest_module.progress_hook = None


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the lake's DuckDB views.")],
    lake: LakeOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Run read-only SQL against the lake's DuckDB file.

    Example: newslake query "select * from mentions_per_actor limit 5" --format csv
    """
    import duckdb

    from flows import warehouse

    try:
        with warehouse.connect(Lake(Settings.load(lake=lake).lake)) as con:
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchall() if columns else []
    except FileNotFoundError as e:
        _fail(str(e))
    except duckdb.Error as e:
        _fail(str(e).strip())
    _print_rows(columns, rows, format)


@app.command()
def actors(
    lake: LakeOpt = None,
    top: Annotated[int, typer.Option("--top", "-n", help="How many actors.")] = 20,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """The mentions-per-actor table, most mentioned first.

    Example: newslake actors --top 10
    """
    from flows import warehouse

    try:
        with warehouse.connect(Lake(Settings.load(lake=lake).lake)) as con:
            cur = con.execute("select * from mentions_per_actor limit ?", [top])
            columns, rows = [d[0] for d in cur.description], cur.fetchall()
    except FileNotFoundError as e:
        _fail(str(e))
    _print_rows(columns, rows, format, title="mentions per actor")


@app.command()
def check(lake: LakeOpt = None) -> None:
    """Run the SQL data tests (sql/tests/assert_*.sql) against the lake; exit 1 if any rule breaks.

    Example: newslake check --lake data
    """
    from flows import warehouse

    settings = Settings.load(lake=lake)
    try:
        results = warehouse.data_tests(Lake(settings.lake), settings.sql_dir)
    except FileNotFoundError as e:
        _fail(str(e))
    _print_rows(["rule", "offending_rows"], sorted(results.items()), Format.table, title="data tests")
    if any(results.values()):
        raise typer.Exit(1)


@app.command()
def refresh(lake: LakeOpt = None) -> None:
    """Rebuild the DuckDB views over the lake without ingesting (after moving the lake or editing sql/).

    Example: newslake refresh --lake /mnt/news/data
    """
    from flows import warehouse

    settings = Settings.load(lake=lake)
    views = warehouse.refresh(Lake(settings.lake), settings.sql_dir)
    err.print(f"{len(views)} views rebuilt in {Lake(settings.lake).duckdb_path}")


if __name__ == "__main__":
    app()
