"""flows.duck: in-memory databases opened ahead of their use, each handed out once, none left behind."""

import os
import threading

import duckdb
import pytest

from flows import duck


@pytest.fixture(autouse=True)
def nothing_ahead():
    duck.discard()
    yield
    duck.discard()


def _ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "newslake-duckdb-ahead"]


def test_connect_hands_out_the_database_opened_ahead_once():
    duck.open_ahead()
    ahead = duck._AHEAD.result(timeout=30)
    with duck.connect() as con:
        assert con is ahead
        assert con.execute("select current_setting('enable_progress_bar')").fetchone()[0] is False
    assert duck._AHEAD is None
    with duck.connect() as again:  # nothing ahead: opened now, another database
        assert again is not ahead


def test_each_connection_is_a_database_of_its_own():
    duck.open_ahead()
    with duck.connect() as first:
        first.execute("create table t as select 1 as x")
        first.execute("set memory_limit = '100MB'")
        duck.open_ahead()
        with duck.connect(threads=1) as second:
            assert second.execute("select count(*) from duckdb_tables() where table_name = 't'").fetchone()[0] == 0
            assert second.execute("select current_setting('threads')").fetchone()[0] == 1
            assert second.execute("select current_setting('memory_limit')").fetchone()[0] != first.execute(
                "select current_setting('memory_limit')").fetchone()[0]


def test_open_ahead_twice_opens_one():
    duck.open_ahead()
    first = duck._AHEAD
    duck.open_ahead()
    assert duck._AHEAD is first


def test_ahead_closes_what_was_not_taken():
    with duck.ahead():
        ahead = duck._AHEAD.result(timeout=30)
    assert duck._AHEAD is None and not _ahead_threads()
    with pytest.raises(duckdb.ConnectionException):
        ahead.execute("select 1")


def test_a_failed_open_ahead_leaves_connect_to_open_one(monkeypatch):
    def broken(*args, **kwargs):
        raise duckdb.IOException("no memory for a database")

    real = duckdb.connect
    monkeypatch.setattr(duck.duckdb, "connect", broken)
    duck.open_ahead()
    with pytest.raises(duckdb.IOException):
        duck._AHEAD.result(timeout=30)
    monkeypatch.setattr(duck.duckdb, "connect", real)
    with duck.connect() as con:
        assert con.execute("select 42").fetchone() == (42,)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_takes_its_parents_database():
    duck.open_ahead()
    parents = duck._AHEAD.result(timeout=30)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its copy of the parent's database is set aside, and connect opens its own
        code = 1
        try:
            os.close(read)
            with duck.connect() as con:
                ok = duck._INHERITED and con is not parents and con.execute("select 7").fetchone() == (7,)
            os.write(write, b"ok" if ok else b"no")
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        said = fh.read()
    os.waitpid(pid, 0)
    assert said == b"ok"
    with duck.connect() as con:  # the parent still has its own
        assert con is parents
