"""In-memory DuckDB databases for a run's queries, opened ahead of their use.

Opening an in-memory DuckDB database costs 25-35 ms here (DuckDB 2.0 registers the functions of its built-in
extensions, ICU's collations and time zones among them, for every database), and a run opens one for each
look-up of the lake and for its duplicate decision, all on its serial path. ``open_ahead`` opens the next one
in a background thread while the run does something else (DuckDB releases the GIL while it opens: the run's
thread kept 94% of its speed, measured), and ``connect`` hands it out, or opens one there and then when none
was opened ahead. Every ``connect`` gives a database of its own: nothing one query leaves (tables, settings,
memory limits) reaches another.

A database opened ahead belongs to the process that opened it (a forked child keeps the copy it inherits
untouched and opens its own) and lives until ``connect`` takes it or ``discard`` closes it: the ingest flow
opens one ahead where a query is coming and discards what is left when it ends, so no thread of this module
outlives a run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

import duckdb

_LOCK = threading.Lock()
_AHEAD: Future | None = None  # the database being opened, by this process
_INHERITED: list = []  # a parent's database ahead, copied by fork: kept, never used nor closed (its threads are not here)


def _forget_parents() -> None:
    global _AHEAD, _LOCK
    _LOCK = threading.Lock()
    if _AHEAD is not None:
        _INHERITED.append(_AHEAD)
        _AHEAD = None


os.register_at_fork(after_in_child=_forget_parents)


def open_ahead() -> None:
    """Start opening a database for the next ``connect`` in a background thread; nothing when one is already
    open or opening in this process."""
    global _AHEAD
    with _LOCK:
        if _AHEAD is not None:
            return
        future: Future = Future()
        _AHEAD = future
    threading.Thread(target=_open, args=(future,), name="newslake-duckdb-ahead", daemon=True).start()


def _open(future: Future) -> None:
    try:
        future.set_result(duckdb.connect())
    except BaseException as e:  # noqa: BLE001 (handed to the caller of connect, which opens one itself)
        future.set_exception(e)


def _take() -> duckdb.DuckDBPyConnection | None:
    """The database opened ahead in this process (waiting for it if it is still opening), or None."""
    global _AHEAD
    with _LOCK:
        ahead, _AHEAD = _AHEAD, None
    if ahead is None:
        return None
    try:
        return ahead.result()
    except Exception:  # noqa: BLE001 (opening failed in the background: connect opens one and raises what it raises)
        return None


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with its progress bar off (and at most ``threads`` threads): the one opened
    ahead when there is one, else opened now. Close it after use (``with duck.connect() as con``)."""
    con = _take() or duckdb.connect()
    con.execute("set enable_progress_bar = false")
    if threads is not None:
        con.execute(f"set threads = {int(threads)}")
    return con


def discard() -> None:
    """Close the database opened ahead in this process and not taken (waiting for it to open first)."""
    con = _take()
    if con is not None:
        con.close()


@contextmanager
def ahead() -> Iterator[None]:
    """A database opened ahead now (``open_ahead``), and the one left untaken closed at the end (``discard``)."""
    open_ahead()
    try:
        yield
    finally:
        discard()
