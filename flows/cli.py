"""The ``newslake`` command line: ingest raw news, query the lake, look at actors."""

from __future__ import annotations

import json
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from flows.lake import Lake
from flows.settings import Settings
from transforms.paths import escape_path

app = typer.Typer(
    help="newslake: raw news texts -> Parquet tables -> DuckDB views.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


def consoles() -> tuple[Console, Console]:
    """The consoles of standard output and standard error (a child of the warm process makes its own: rich
    decides colours and width when a console is made)."""
    return Console(width=None if sys.stdout.isatty() else 160), Console(stderr=True)


out_console, err = consoles()

LakeOpt = Annotated[Optional[Path], typer.Option("--lake", help="Lake folder (default: data, or NEWSLAKE_LAKE).")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Answer from the lake as this run left it (run ids: `newslake runs`).")]


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


EX_TEMPFAIL = 75  # sysexits.h: try again later (the lake is busy)


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, however narrow the terminal
    raise typer.Exit(code)


def _settings(**overrides) -> Settings:
    try:
        return Settings.load(**overrides)
    except ValueError as e:
        _fail(str(e))


def _param(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise typer.BadParameter(f"{text!r} is not NAME=VALUE")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value


def _lake(settings: Settings) -> Lake:
    return Lake(settings.lake, settings.retention_seconds, settings.compact_files)


def _read(lake: Path | None, sql: str, params: dict | list | None = None, as_of: str | None = None):
    """Run read-only SQL on the lake's DuckDB file, or on the lake as run ``as_of`` left it; an Arrow
    table, or a clean error and exit 1."""
    import duckdb

    from flows import warehouse
    from flows.lake import OldLakeFormat
    from flows.sqlproject import SqlProjectError

    settings = _settings(lake=lake)
    try:
        with warehouse.connect(_lake(settings), as_of, settings.sql_dir) as con:
            relation = con.sql(sql, params=params or None)
            if relation is None:  # a statement without rows (SET, PRAGMA, ...)
                import pyarrow as pa

                return pa.table({"result": ["ok"]})
            return relation.to_arrow_table()
    except (FileNotFoundError, OldLakeFormat, SqlProjectError) as e:
        _fail(str(e))
    except KeyError as e:
        _fail(e.args[0])
    except duckdb.Error as e:
        _fail(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)


def _named(lake: Path | None, name: str, params: dict | None = None, as_of: str | None = None):
    """Run the named query ``sql/queries/<name>.sql`` like ``_read``; parameters it declares and ``params``
    lacks bind as null."""
    from flows import sqlproject

    try:
        sql, bound = sqlproject.bind(_settings(lake=lake).sql_dir, name, params)
    except sqlproject.SqlProjectError as e:
        _fail(str(e))
    return _read(lake, sql, bound, as_of)


def _emit(result, fmt: Format, out: Path | None = None, title: str | None = None) -> None:
    """Print a result as an aligned table, CSV or JSON, or write it to ``out`` (format from its suffix)."""
    if out is not None and fmt is Format.table:
        fmt = {".csv": Format.csv, ".json": Format.json, ".parquet": Format.parquet}.get(out.suffix.lower(), Format.csv)
    if fmt is Format.parquet:
        if out is None:
            _fail("--format parquet needs --out FILE")
        import pyarrow.parquet as pq

        pq.write_table(result, out)
    elif fmt is Format.csv:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(result.column_names)
        w.writerows(tuple(r.values()) for r in result.to_pylist())
        _write(buf.getvalue(), out)
    elif fmt is Format.json:
        _write(json.dumps(result.to_pylist(), default=str, indent=1, ensure_ascii=False) + "\n", out)
    else:
        t = Table(title=title, show_lines=False)
        numeric = [_is_numeric(result.schema.field(c).type) for c in result.column_names]
        for c, num in zip(result.column_names, numeric):
            t.add_column(c, justify="right" if num else "left", overflow="fold")
        for row in result.to_pylist():
            t.add_row(*[_cell(v) for v in row.values()])
        out_console.print(t)
        return
    if out is not None:
        err.print(f"{result.num_rows:,} rows written to {out}")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return str(v)


def _is_numeric(t) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


@app.command()
def ingest(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files, folders (recursive) or globs, local or s3://; default seeds/articles.")] = None,
    lake: LakeOpt = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Records per read task (a file read whole counts one) and articles per analyse task.")] = None,
    model: Annotated[Optional[str], typer.Option(help="spaCy pipeline name (NEWSLAKE_MODEL).")] = None,
    nlp: Annotated[Optional[str], typer.Option("--nlp", help="model (the spaCy entity recogniser) or dictionary "
                                                        "(phrase matching of the curated actors only, no model; NEWSLAKE_NLP).")] = None,
    runner: Annotated[Optional[str], typer.Option(help="auto (Dask when the new input is large, helpers forked from this process "
                                                       "when it is not tiny), dask or local (one thread) (NEWSLAKE_RUNNER).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes of the local Dask cluster (NEWSLAKE_WORKERS; default: the CPU count).")] = None,
    dask_address: Annotated[Optional[str], typer.Option(help="Run on an existing Dask cluster: its scheduler, "
                                                             "tcp://HOST:PORT (NEWSLAKE_DASK_ADDRESS).")] = None,
    wait: Annotated[float, typer.Option(help="When another run is writing to the lake, wait up to this many seconds for it (default: exit 75 at once).")] = 0,
    prune: Annotated[bool, typer.Option("--prune", help="Files the lake knows under PATHS that no longer exist: "
                                                         "account them 'deleted' and retire their articles.")] = False,
    rehash: Annotated[bool, typer.Option("--rehash", help="Read and hash every file, even those whose size and status-change "
                                                           "time show them unchanged since the run that hashed them (NEWSLAKE_REHASH).")] = False,
) -> None:
    """Ingest raw news files into the lake with the Prefect flow, then refresh the DuckDB views.

    Exits 75 (try again later) when another run is writing to the lake.

    Example: newslake ingest ../shared/corpora/bbc/politics --lake data
    """
    from flows.discover import missing_paths
    from flows.lake import LakeBusy
    from flows.storage import StorageError

    settings = _settings(lake=lake, batch_size=batch_size, model=model, nlp=nlp, runner=runner, workers=workers, dask_address=dask_address,
                         rehash=rehash or None)
    paths = paths or [str(settings.seeds_dir / "articles")]
    try:
        missing = missing_paths(paths)
    except StorageError as e:  # no credentials, access denied, endpoint unreachable, ...
        _fail(str(e))
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    paths = [escape_path(p) for p in paths]  # the flow's parameters go to Prefect as JSON: no undecodable bytes
    store = _lake(settings)
    try:
        free = store.free_within(wait)  # say so at once, before Prefect starts a flow run that would fail
        before = store.latest_run()
    except OSError as e:
        _fail(f"cannot use the lake at {settings.lake}: {_one_line(e)}")
    if not free:
        _fail(f"another newslake run is writing to {settings.lake}" + (f" (waited {wait:g} s)" if wait else ""), EX_TEMPFAIL)
    from flows.prefect_env import configure

    # the command reports how the run ended in one line; the run's own log, tracebacks included, is in
    # the Prefect UI of a real server (PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=ERROR shows it here too)
    configure(settings.prefect_home, console_level="CRITICAL")
    import duckdb

    from flows.lifecycle import guarded_run

    try:
        with guarded_run():
            summary = _run_with_progress(paths, settings, prune)
    except LakeBusy as e:
        _fail(str(e), EX_TEMPFAIL)
    except (OSError, duckdb.Error) as e:  # the disk is full, a folder unwritable, ...: say what readers see now
        _fail(str(e) if isinstance(e, FileNotFoundError) and e.errno is None else _write_failure(e, store, before))
    except RuntimeError as e:
        _fail(str(e))
    s = summary["statuses"]
    err.print(
        f"[green]done[/green] run {summary['run_id']}: {summary['files_seen']:,} files seen "
        f"({', '.join(f'{v:,} {k}' for k, v in sorted(s.items())) or 'none'}); "
        f"{summary['articles']:,} articles, {summary['sentences']:,} sentences, {summary['mentions']:,} mentions written "
        f"in {summary['seconds']:.1f} s ({summary['words_per_second']:,} words/s) -> {summary['lake']}"
        + (f"; {summary['retired']:,} replaced articles retired" if summary["retired"] else "")
    )
    if summary["set_aside"]:
        err.print(f"set aside by name (NEWSLAKE_EXCLUDE): {', '.join(Path(p).name for p in summary['set_aside'][:5])}"
                  + (" ..." if len(summary["set_aside"]) > 5 else ""))
    if summary["failed"]:
        err.print(f"{summary['failed']:,} articles could not be analysed (kept, nlp_status 'failed: <error>'); list them with: "
                  f"newslake query failed_articles --lake {summary['lake']}")
    if s.get("rejected"):
        err.print(f"{s['rejected']:,} rejected; see them with: newslake account --lake {summary['lake']}")
    if not summary["marts_exported"]:
        err.print(f"marts not exported: the lake holds more than {settings.mart_max_mentions:,} mentions "
                  f"(NEWSLAKE_MART_MAX_MENTIONS); export them with: newslake refresh --lake {summary['lake']}")


def _one_line(e: BaseException) -> str:
    """An exception as one line: an OS error's message and file, else its text."""
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename else e.strerror
    return " ".join(str(e).split()) or type(e).__name__


def _write_failure(e: BaseException, store, before: str | None) -> str:
    """One line on a run that failed while writing: the error, and whether the run was published."""
    after = store.latest_run()
    if after == before:
        return f"{_one_line(e)}; the run was not committed and the lake reads as before it"
    return (f"{_one_line(e)}; run {after} was committed, but the DuckDB views still show the run before it: "
            f"rebuild them with `newslake refresh --lake {store.root}`")


def _run_with_progress(paths: list[str], settings: Settings, prune: bool = False) -> dict:
    """Run the flow with a progress bar on a terminal, or a plain line per step otherwise."""
    from flows.runner import run

    started = time.perf_counter()
    if not err.is_terminal:
        def log_line(stage: str, done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            print(f"ingest: {stage} {done:,}/{total:,} ({done / total if total else 1:.0%}), {elapsed:.0f} s",
                  file=sys.stderr, flush=True)

        return run(paths, settings, log_line, prune)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task_id = bar.add_task("starting Prefect", total=None)

        def update(stage: str, done: int, total: int) -> None:
            if bar.tasks[task_id].description != stage:
                bar.reset(task_id)
            bar.update(task_id, description=stage, completed=done, total=total)

        return run(paths, settings, update, prune)


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv, json, or parquet (with --out).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file (format from its suffix: .csv, .json, .parquet).")]


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the lake's DuckDB views, or the name of a query in "
                                            "sql/queries/; $name placeholders take --param values.")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="NAME=VALUE bound to $NAME (repeatable; "
                                                                            "whole and decimal numbers bind as numbers).")] = None,
    lake: LakeOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Run read-only SQL, or a named query of sql/queries/, against the lake's DuckDB file. Values go in as
    bound parameters, never pasted into SQL; a named query's parameters left out bind as null.

    Example: newslake query "select * from mentions_per_actor where actor_type = $t order by mentions desc limit 5" --param t=person --format csv

    Example: newslake query top_actors -p top=5 -p type=person
    """
    params = dict(_param(p) for p in param or [])
    named = sql.isidentifier() and (_settings(lake=lake).sql_dir / "queries" / f"{sql}.sql").exists()
    _emit(_named(lake, sql, params, as_of) if named else _read(lake, sql, params, as_of), format, out)


@app.command()
def actors(
    lake: LakeOpt = None,
    top: Annotated[int, typer.Option("--top", "-n", help="How many actors.")] = 20,
    type: Annotated[Optional[str], typer.Option("--type", "-t", help="Only this actor type (country, person, ...).")] = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """The mentions-per-actor table, most mentioned first.

    Example: newslake actors --top 10 --type person
    """
    _emit(_named(lake, "top_actors", {"type": type, "top": top}, as_of), format, out, title="mentions per actor")


class PairOrder(str, Enum):
    articles = "articles"
    npmi = "npmi"
    jaccard = "jaccard"


@app.command()
def cooccurrence(
    lake: LakeOpt = None,
    actor: Annotated[Optional[str], typer.Option("--actor", "-a", help="Only pairs with this actor (id or name).")] = None,
    top: Annotated[int, typer.Option("--top", "-n", help="How many pairs.")] = 20,
    by: Annotated[PairOrder, typer.Option("--by", help="Rank by articles together, npmi or jaccard.")] = PairOrder.articles,
    min_articles: Annotated[int, typer.Option("--min-articles", help="Pairs seen together in at least this many articles.")] = 2,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Which actors appear together, with association scores (npmi, jaccard).

    Example: newslake cooccurrence --by npmi --min-articles 5 --top 15
    """
    params = {"min_articles": min_articles, "actor": actor, "by": by.value, "top": top}
    _emit(_named(lake, "top_pairs", params, as_of), format, out, title="actor co-occurrence")


class Grain(str, Enum):
    day = "day"
    week = "week"
    month = "month"


@app.command()
def timeline(
    actor: Annotated[str, typer.Argument(help="Actor id or name (USA, 'Tony Blair').")],
    lake: LakeOpt = None,
    by: Annotated[Grain, typer.Option("--by", help="day, week or month.")] = Grain.day,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
) -> None:
    """Mentions of one actor over time (published date where known, else ingest date).

    Example: newslake timeline "Tony Blair" --by month
    """
    result = _named(lake, "actor_timeline", {"period": by.value, "actor": actor}, as_of)
    if result.num_rows == 0:
        _fail(f"no mentions of {actor!r}; try `newslake actors` for ids and names")
    if format is Format.table and out is None:
        peak = max(result.column("mentions").to_pylist())
        bars = ["█" * max(1, round(30 * m / peak)) for m in result.column("mentions").to_pylist()]
        import pyarrow as pa

        result = result.append_column("", pa.array(bars))
    _emit(result, format, out, title=f"{actor} by {by.value}")


@app.command()
def account(
    lake: LakeOpt = None,
    run: Annotated[Optional[str], typer.Option("--run", help="Run id (default: the latest run).")] = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """How a run accounted for its inputs: files per status, then every rejected file with its reason.

    Example: newslake account --lake data
    """
    _emit(_named(lake, "run_account", {"run": run}, as_of), format, title="files by status")
    rejected = _named(lake, "rejected_files", {"run": run}, as_of)
    if rejected.num_rows:
        _emit(rejected, format, title="rejected")


@app.command()
def report(
    lake: LakeOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="HTML file to write (default: DIR/report.html).")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write a self-contained offline HTML report: top actors, mentions over time, co-occurrence heat-map,
    the latest run's file account and data-quality checks.

    Example: newslake report --lake data --out report.html
    """
    from flows import report as report_module

    settings = _settings(lake=lake)
    target = out or settings.lake / "report.html"
    from flows.sqlproject import SqlProjectError

    try:
        report_module.write_report(_lake(settings), settings.sql_dir, target, as_of)
    except (FileNotFoundError, SqlProjectError) as e:
        _fail(str(e))
    except KeyError as e:
        _fail(e.args[0])
    err.print(f"report written to {target}")


@app.command()
def serve(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files, folders or globs to ingest at each run; default seeds/articles.")] = None,
    cron: Annotated[str, typer.Option("--cron", help="Cron schedule, e.g. '0 * * * *' for hourly.")] = "0 * * * *",
    timezone: Annotated[str, typer.Option("--timezone", help="Time zone of the cron schedule.")] = "UTC",
    lake: LakeOpt = None,
    port: Annotated[int, typer.Option("--port", help="Port of the local Prefect server started when PREFECT_API_URL is unset.")] = 4200,
) -> None:
    """Run the ingest flow on a cron schedule with Prefect until stopped (Ctrl-C).

    Uses the Prefect server at PREFECT_API_URL, or starts one on 127.0.0.1:PORT (its UI shows the
    runs). Example: newslake serve ../news --cron "*/15 * * * *" --lake data
    """
    settings = _settings(lake=lake)
    from flows import serve as serve_module

    try:
        server = serve_module.ensure_server(settings, port)
    except RuntimeError as e:
        _fail(str(e))
    from flows.prefect_env import configure

    configure(settings.prefect_home)
    paths = [escape_path(p) for p in paths or [str(settings.seeds_dir / "articles")]]
    deployment = serve_module.build_deployment(paths, settings, cron, timezone)
    api = os.environ["PREFECT_API_URL"]
    err.print(f"serving '{deployment.name}' on cron '{cron}' ({timezone}) -> lake {settings.lake}")
    err.print(f"Prefect API {api}; watch runs in the UI at {api.removesuffix('/api')}/runs")
    from prefect import serve as prefect_serve

    try:
        prefect_serve(deployment)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


server_app = typer.Typer(help="A Prefect server in the background, reused by every later command (fast small runs, one UI).",
                          no_args_is_help=True)
app.add_typer(server_app, name="server")


@server_app.command("start")
def server_start(
    host: Annotated[str, typer.Option("--host", help="Address to bind; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port of the API and UI.")] = 4200,
) -> None:
    """Start a Prefect server in the background (or find the one already running) and print its address,
    and a warm process that later commands are forked from (NEWSLAKE_WARM=0: none).

    Later `newslake` commands report to it instead of starting a temporary server each (seconds saved per
    command); their runs show in its UI. Stop both with `newslake server stop`.
    """
    from flows import prefect_env, warm

    settings = _settings()
    home = prefect_env.home(settings.prefect_home)
    try:
        state = prefect_env.start_server(home, host, port, nice=settings.server_nice)
    except RuntimeError as e:
        _fail(str(e))
    out_console.print(f"Prefect server running (pid {state['pid']}): API {state['api_url']}, "
                      f"UI {state['api_url'].removesuffix('/api')}; log {state['log']}")
    if not settings.warm:
        return
    try:
        record = warm.start(home)
    except RuntimeError as e:
        err.print(f"[yellow]warning:[/yellow] {e}; commands start in a process of their own", soft_wrap=True)
        return
    out_console.print(f"warm process running (pid {record['pid']}): later commands run in processes forked from it; "
                      f"log {home / 'warm.log'}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the background Prefect server and the warm process started by `newslake server start`."""
    from flows import prefect_env, warm

    home = prefect_env.home(_settings().prefect_home)
    if warm.stop(home):
        out_console.print("stopped the warm process")
    state = prefect_env.stop_server(home)
    out_console.print(f"stopped the Prefect server at {state['api_url']}" if state else "no background Prefect server was running")


@server_app.command("status")
def server_status() -> None:
    """Say which Prefect API the next run reports to and whether commands run in the warm process; exit 1 when
    no background server is running."""
    from flows import prefect_env, warm

    settings = _settings()
    home = prefect_env.home(settings.prefect_home)
    url = prefect_env.running_server(home)
    out_console.print(warm.status(home)[1], soft_wrap=True)
    if os.environ.get("PREFECT_API_URL"):
        out_console.print(f"runs report to PREFECT_API_URL={os.environ['PREFECT_API_URL']}")
    elif url:
        out_console.print(f"runs report to the background server at {url}")
    else:
        out_console.print("no background server: each run starts a temporary one (newslake server start)")
        raise typer.Exit(1)


@app.command()
def check(lake: LakeOpt = None, as_of: AsOfOpt = None) -> None:
    """Check that the lake's data files are intact, then run the SQL data tests (generated from every view's
    grain declaration, and sql/tests/assert_*.sql) against the lake; exit 1 if a file is damaged or a rule breaks.

    Example: newslake check --lake data
    """
    from flows import warehouse
    from flows.sqlproject import SqlProjectError

    settings = _settings(lake=lake)
    store = _lake(settings)
    import pyarrow as pa

    try:
        bad = store.damaged(store.versions(as_of), deep=True)
    except KeyError as e:
        _fail(e.args[0])
    if bad:
        for b in bad:
            typer.echo(f"damaged: {b['table']} {b['path']}: {b['problem']}")
        intact = store.last_intact_run()
        _fail(f"{len(bad):,} data file(s) of the lake are missing or damaged; "
              + (f"go back to the last intact run with: newslake restore {intact} --lake {store.root}" if intact
                 else "no run of this lake is intact: rebuild it by ingesting the inputs into a new lake"))
    try:
        results = warehouse.data_tests(store, settings.sql_dir, as_of)
    except (FileNotFoundError, SqlProjectError) as e:
        _fail(str(e))
    except KeyError as e:
        _fail(e.args[0])

    _emit(pa.table({"rule": list(sorted(results)), "offending_rows": [results[k] for k in sorted(results)]}), Format.table, title="data tests")
    if any(results.values()):
        raise typer.Exit(1)


@app.command()
def restore(run_id: Annotated[str, typer.Argument(help="The run to go back to (see `newslake runs`).")], lake: LakeOpt = None) -> None:
    """Make an earlier run the latest again: every table back to the version that run left (Delta RESTORE),
    then the views. Later runs stay in each table's history; their input files count as new again, so the
    next ingest reads them afresh. The way back from damaged data files (`newslake check` names them).

    Example: newslake restore 20240125T100000Z-1a2b3c --lake data
    """
    from flows import warehouse
    from flows.lake import DamagedLake, LakeBusy

    settings = _settings(lake=lake)
    store = _lake(settings)
    try:
        with store.writing(intact=False):
            restored = store.restore(run_id)
            warehouse.refresh(store, settings.sql_dir, cache_dir=settings.cache_dir)
    except KeyError as e:
        _fail(e.args[0])
    except LakeBusy as e:
        _fail(str(e), EX_TEMPFAIL)
    except DamagedLake as e:
        _fail(str(e))
    err.print(f"restored run {run_id}: {len(restored):,} table(s) rolled back; views rebuilt in {store.duckdb_path}")


@app.command()
def refresh(lake: LakeOpt = None) -> None:
    """Rebuild the DuckDB views over the lake without ingesting (after moving the lake or editing sql/).

    Example: newslake refresh --lake /mnt/news/data
    """
    from flows import warehouse
    from flows.sqlproject import SqlProjectError

    settings = _settings(lake=lake)
    try:
        views = warehouse.refresh(_lake(settings), settings.sql_dir, cache_dir=settings.cache_dir)
    except SqlProjectError as e:
        _fail(str(e))
    err.print(f"{len(views)} views rebuilt in {Lake(settings.lake).duckdb_path}; marts written to {Lake(settings.lake).root / 'marts'}")


@app.command()
def runs(lake: LakeOpt = None, format: FormatOpt = Format.table, out: OutOpt = None) -> None:
    """Every run with its counts, newest first; any run id works with --as-of on the read commands.

    Example: newslake runs --lake data
    """
    _emit(_named(lake, "run_list"), format, out, title="runs")


@app.command()
def compact(lake: LakeOpt = None) -> None:
    """Merge every table's small files now, point the views at the merged files, and delete files dropped
    more than NEWSLAKE_RETENTION_SECONDS ago (runs do this by themselves past NEWSLAKE_COMPACT_FILES files).

    Example: newslake compact --lake data
    """
    from flows import warehouse
    from flows.lake import DamagedLake, LakeBusy, OldLakeFormat

    settings = _settings(lake=lake)
    store = _lake(settings)
    try:
        with store.writing():
            before = {t: len(store.files(t)) for t in store.current_versions()}
            compacted = store.compact(force=True)
            if compacted:
                store.repin()
            deleted = store.vacuum(before, full=True)
            after = {t: len(store.files(t)) for t in before}
            warehouse.refresh(store, settings.sql_dir, cache_dir=settings.cache_dir)
    except (LakeBusy, OldLakeFormat, DamagedLake) as e:
        _fail(str(e))
    import pyarrow as pa

    _emit(pa.table({"table": list(before), "files_before": list(before.values()), "files_after": [after[t] for t in before]}),
          Format.table, title="compaction")
    err.print(f"{len(compacted)} tables compacted; {deleted:,} dropped files older than {settings.retention_seconds} s deleted")


@app.command()
def migrate(lake: LakeOpt = None) -> None:
    """Convert a lake of the pre-Delta format (Parquet files listed by lake/_manifest.json) into Delta tables.

    Example: newslake migrate --lake data
    """
    from flows import warehouse
    from flows.migrate import migrate as convert

    settings = _settings(lake=lake)
    try:
        counts = convert(_lake(settings))
    except (FileNotFoundError, RuntimeError) as e:
        _fail(str(e))
    warehouse.refresh(_lake(settings), settings.sql_dir, cache_dir=settings.cache_dir)
    err.print(f"migrated {settings.lake}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))


if __name__ == "__main__":
    app()
