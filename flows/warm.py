"""The ``newslake`` command's entry point, and the warm process that runs commands without paying for
Python's start, the imports and the NLP pipeline's load every time (the fork-server pattern of
Android's zygote or Gradle's daemon).

``newslake server start`` also starts the warm process (``python -m flows.warm serve``): it imports what
an ingest needs, loads the pipelines ``flows.ingest.warm_up`` loads for the default settings, holds no
thread but its main one, and waits on a Unix socket in PREFECT_HOME. The entry point (``main``) imports
only the standard library: when a warm process is recorded, alive and compatible (same Python and
start-up flags, same code by the sizes and times of ``flows/``, ``transforms/`` and ``sql/``, same
installed packages by the site-packages folders' times, the same values of the environment variables
read at import), it sends the warm process its argv, working folder, environment, umask, resource
limits and its stdin, stdout and stderr (``SCM_RIGHTS``); the warm process forks a child that takes them
all on and runs the same typer app, and reports the child's exit status. Otherwise, or with
``NEWSLAKE_WARM=0``, the command runs in its own process as it always did (the cold path).

The client forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the child; a client that dies (``kill -9``)
closes the connection, which the child takes as a SIGTERM (an ingest stops as a SIGTERM stops it:
nothing committed, its processes ended, the lake free).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

RECORD = "newslake-warm.json"  # in PREFECT_HOME, beside the background server's record: pid, socket, compatibility
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE_DIRS = ("flows", "transforms", "sql")
COLD_COMMANDS = {"server", "serve"}  # they manage or outlive processes: always in a process of their own
# read at import or start-up by Python or a library, and not taken up again by a forked child: must be equal
STARTUP_ENV = ("HOME", "XDG_CACHE_HOME", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "LD_PRELOAD")
STARTUP_ENV_PREFIXES = ("PYTHON", "LC_")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
LIMITS = ("RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_STACK")
HEADER = struct.Struct("!I")


def main() -> None:
    """The ``newslake`` command: in a child of a compatible warm process, else in this process."""
    code = run_warm(sys.argv)
    if code is None:
        from flows.cli import app

        app()
    sys.exit(code)


# ---------------------------------------------------------------------------------------------- the client

def run_warm(argv: list[str]) -> int | None:
    """Run the command in a child of the warm process; its exit code, or None when it cannot go warm (nothing
    was run then)."""
    why, record = _compatible(argv)
    if record is None:
        _say(f"cold: {why}")
        return None
    try:
        return _through(record, argv)
    except KeyboardInterrupt:  # before the child's pid came: a child already forked sees the connection close
        return 130


def _through(record: dict, argv: list[str]) -> int | None:
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(record["socket"])
        request = json.dumps(_request(argv)).encode()
        socket.send_fds(sock, [HEADER.pack(len(request))], [0, 1, 2])
        sock.sendall(request)
        replies = sock.makefile("rb")
        first = replies.readline()
    except OSError as e:
        _say(f"cold: the warm process cannot be reached ({e})")
        return None
    if not first:
        _say("cold: the warm process refused the command")
        return None
    child = json.loads(first)["pid"]
    _say(f"warm: pid {child}, forked from the warm process {record['pid']}")
    for sig in FORWARDED:
        signal.signal(sig, lambda signum, frame: _forward(child, signum))
    last = replies.readline()
    if not last:
        print("newslake: the warm process ended before the command's exit status came", file=sys.stderr)
        return 1
    code = json.loads(last)["exit"]
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def _forward(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _say(line: str) -> None:
    if os.environ.get("NEWSLAKE_WARM_VERBOSE", "").strip().lower() in ("1", "true", "yes"):
        print(f"newslake: {line}", file=sys.stderr, flush=True)


def _compatible(argv: list[str]) -> tuple[str, dict | None]:
    """The warm process's record when this command can run there, else (why not, None)."""
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    if command in COLD_COMMANDS:
        return f"`{command}` always runs in its own process", None
    try:
        from flows.settings import Settings

        settings = Settings.load()
    except ValueError as e:
        return str(e), None  # the cold path says it properly
    if not settings.warm:
        return "NEWSLAKE_WARM is off", None
    home = os.environ.get("PREFECT_HOME") or str(settings.prefect_home)
    record = read_record(home)
    if record is None:
        return f"no warm process recorded in {home}", None
    if not alive(record.get("pid")):
        return "the recorded warm process is not running", None
    mine = startup()
    differs = [k for k in mine if record.get("startup", {}).get(k) != mine[k]]
    if differs:
        return f"the warm process differs in {', '.join(differs)}", None
    return "", record


def startup() -> dict:
    """What a forked child inherits from the warm process and cannot take up from the client: the Python,
    its flags, the code, the installed packages, the environment read at import. Stat calls only."""
    env = {k: v for k, v in os.environ.items() if k in STARTUP_ENV or k.startswith(STARTUP_ENV_PREFIXES)}
    return json.loads(json.dumps({  # as the record holds it: lists, not tuples
        "python": [sys.executable, sys.prefix, sys.version],
        "flags": [list(sys.flags), sorted(sys.warnoptions), sorted(map(str, sys._xoptions.items()))],
        "code": code_fingerprint(),
        "packages": [(p, os.stat(p).st_mtime_ns) for p in sys.path if p.endswith("-packages") and os.path.isdir(p)],
        "environment": sorted(env.items()),
    }))


def code_fingerprint(root: str = ROOT) -> list:
    """The package's folder and the path, size and modification time of every file under its code folders."""
    out: list = [root]
    stack = [os.path.join(root, d) for d in CODE_DIRS]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.name.endswith((".py", ".sql", ".csv", ".json", ".toml")):
                st = entry.stat()
                out.append([os.path.relpath(entry.path, root), st.st_size, st.st_mtime_ns])
    return out


def _request(argv: list[str]) -> dict:
    """What the child takes on from this process."""
    import resource

    umask = os.umask(0)
    os.umask(umask)
    streams = {}
    for name in ("stdin", "stdout", "stderr"):
        s = getattr(sys, name)
        streams[name] = None if s is None else {"encoding": s.encoding, "errors": s.errors,
                                                 "line_buffering": s.line_buffering, "write_through": getattr(s, "write_through", False)}
    return {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask, "streams": streams,
            "limits": {n: resource.getrlimit(getattr(resource, n)) for n in LIMITS if hasattr(resource, n)}}


# ------------------------------------------------------------------------------------- the warm process

def record_path(prefect_home) -> str:
    return os.path.join(str(prefect_home), RECORD)


def read_record(prefect_home) -> dict | None:
    """The warm process's record, if one was written."""
    try:
        with open(record_path(prefect_home), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


SOCKET = "newslake-warm.sock"
# native threads that libraries start at load (OpenBLAS's pool, jemalloc's background threads of Arrow and of
# deltalake) are left out in the warm process, which must hold one thread when it forks
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false",
              "_RJEM_MALLOC_CONF": "background_thread:false"}


def start(prefect_home, timeout: float = 180) -> dict:
    """Start the warm process for ``prefect_home`` in the background (its own session, its log in
    PREFECT_HOME/warm.log) and wait until it is ready; one already running with this code is reused, one
    with other code is replaced. Returns its record."""
    import subprocess
    import tempfile
    import time

    home = str(prefect_home)
    record = read_record(home)
    if record is not None and alive(record.get("pid")):
        if record.get("startup") == startup():
            return record
        stop(home)
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, SOCKET)
    if len(path.encode()) > 100:  # beyond what a Unix socket's address holds
        path = os.path.join(tempfile.mkdtemp(prefix="newslake-warm-"), SOCKET)
    env = {**os.environ, **ONE_THREAD, "PREFECT_HOME": home}
    env.pop("NEWSLAKE_RUN_TOKEN", None)
    log = os.path.join(home, "warm.log")
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flows.warm", "serve", home, path], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while (record := read_record(home)) is None or record.get("pid") != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the warm process did not start; see {log}")
        time.sleep(0.2)
    return record


def stop(prefect_home, grace: float = 10) -> dict | None:
    """Stop the warm process of ``prefect_home`` (commands it is running finish on their own); its record, or
    None when none was running."""
    import time

    record = read_record(prefect_home)
    try:
        os.unlink(record_path(prefect_home))
    except FileNotFoundError:
        pass
    if record is None or not alive(record.get("pid")):
        return None
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(record["pid"], sig)
        except ProcessLookupError:
            return record
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(record["pid"], os.WNOHANG)[0]:
                    return record
            except ChildProcessError:
                if not alive(record["pid"]):
                    return record
            time.sleep(0.1)
    return record


def status(prefect_home) -> tuple[dict | None, str]:
    """The warm process's record, if it is running, and a line on it: pid, memory, whether this client can use it."""
    record = read_record(prefect_home)
    if record is None or not alive(record.get("pid")):
        return None, "no warm process: commands start in a process of their own"
    try:
        with open(f"/proc/{record['pid']}/smaps_rollup", encoding="ascii") as fh:
            pss = next(int(line.split()[1]) for line in fh if line.startswith("Pss:")) // 1024
        memory = f", {pss:,} MB (PSS) while idle"
    except (OSError, StopIteration, ValueError):
        memory = ""
    why, usable = _compatible(["newslake", "ingest"])
    return record, (f"warm process {record['pid']}{memory} on {record['socket']}; "
                    + ("commands run in children forked from it" if usable else f"commands run cold: {why}"))


def alive(pid) -> bool:
    """Whether a process of this pid exists (and may be signalled by this user)."""
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def serve(prefect_home: str, socket_path: str) -> None:
    """The warm process: import and load, then fork a child per request until SIGTERM."""
    import gc
    import select
    import threading

    record = {"pid": os.getpid(), "socket": socket_path, "startup": startup()}  # the code as it is before importing it
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    old_umask = os.umask(0o177)  # the socket is this user's alone
    try:
        listener.bind(socket_path)
    finally:
        os.umask(old_umask)
    listener.listen(16)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    native = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else []
    if threading.active_count() != 1 or len(native) > 1:
        raise SystemExit(f"the warm process holds {max(threading.active_count(), len(native))} threads after loading; "
                         "forking it would not be safe")
    gc.collect()
    gc.freeze()  # what is loaded stays out of every collection: the children share its pages
    tmp = record_path(prefect_home) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    os.replace(tmp, record_path(prefect_home))
    print(f"warm process {os.getpid()} ready on {socket_path}", flush=True)
    children: dict[int, socket.socket] = {}
    try:
        while not stopping:
            try:
                ready, _, _ = select.select([listener, wake_r], [], [])
            except InterruptedError:
                continue
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                _reap(children)
            if listener in ready and not stopping:
                _accept(listener, children, (listener.fileno(), wake_r, wake_w, *(c.fileno() for c in children.values())))
    finally:
        if read_record(prefect_home) and read_record(prefect_home).get("pid") == os.getpid():
            os.unlink(record_path(prefect_home))
        listener.close()
        if os.path.exists(socket_path):
            os.unlink(socket_path)


def preload() -> None:
    """Import what the commands use and load what an ingest loads for the default settings, as a cold
    ``newslake ingest`` would (Prefect configured before it is imported). The list holds every package a
    seed ingest imported beyond flows.cli, flows.ingest and flows.runner."""
    from dataclasses import replace

    from flows.prefect_env import check_api_once, configure, heartbeatless, settings_built, share_tls_contexts
    from flows.settings import Settings

    settings = Settings.load()
    configure(settings.prefect_home, console_level="CRITICAL")
    import _strptime  # noqa: F401
    import zoneinfo  # noqa: F401

    import anyio._backends._asyncio  # noqa: F401
    import deltalake.fs  # noqa: F401
    import distributed  # noqa: F401
    import duckdb  # noqa: F401
    import fastapi  # noqa: F401
    import opentelemetry._logs  # noqa: F401
    import opentelemetry.metrics  # noqa: F401
    import pandas  # noqa: F401
    import prefect.flow_engine  # noqa: F401
    import prefect.task_engine  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401
    import prefect_dask  # noqa: F401
    import psutil  # noqa: F401
    import pyarrow.dataset  # noqa: F401
    import pyarrow.pandas_compat  # noqa: F401
    import pydantic.color  # noqa: F401
    import pytz  # noqa: F401
    import rich._emoji_codes  # noqa: F401
    import rich.progress  # noqa: F401
    import starlette.applications  # noqa: F401

    from prefect.settings import get_current_settings

    import flows.cli  # noqa: F401
    import flows.dask_runner  # noqa: F401
    import flows.lifecycle  # noqa: F401
    import flows.report  # noqa: F401
    import flows.warehouse  # noqa: F401
    from flows.ingest import learn_words, warm_up
    from flows.runner import _fork_workers, _threaded_ingest, task_threads
    from transforms.language import _detector

    _fork_workers()
    for workers in sorted({task_threads(1), task_threads(settings.workers)}):  # the flows a run's thread runner needs, their parameter schemas made
        _threaded_ingest(workers)
    for mode in ("dictionary", "model"):
        warm_up(replace(settings, nlp=mode))
    try:  # a helper forked from here would meet every word as new: a quarter of its analysis
        learn_words(replace(settings, nlp="dictionary"))
    except Exception:  # noqa: BLE001 (the pipeline does not load: the run that needs it reports why)
        pass
    _detector()  # lingua: warm_up leaves it to the first text that needs it (its load holds the GIL); here it stalls no run
    settings_built()
    heartbeatless(get_current_settings())  # the settings of a command-line run, made once for every child
    complete_models()
    warm_duckdb()
    share_tls_contexts()
    if os.environ.get("PREFECT_API_URL"):  # the background server (configure found it): children skip the version check
        try:  # and reuse the SSL context its client loaded
            check_api_once()
        except Exception:  # noqa: BLE001 (not answering, or another version: every run checks for itself, as without this)
            pass


def warm_duckdb() -> None:
    """Open an in-memory DuckDB database, write and read a Parquet file in it, and close it: what DuckDB sets
    up once per process (its Parquet reader and writer, their functions) is then in every child, whose first
    decision (``flows.resolve``) opened its database in 32 ms and ran its first query in 14, and now in 22 and 4
    (measured in children of a process that had and had not done this). Closing leaves no thread behind."""
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="newslake-warm-") as tmp, duckdb.connect(config={"threads": 1}) as con:
        path = os.path.join(tmp, "warm.parquet").replace("'", "''")
        con.execute(f"copy (select 1::BIGINT as n, 'x' as s, [1, 2]::BIGINT[] as l) to '{path}' (format parquet)")
        con.execute(f"select count(*), min(s), max(len(l)) from read_parquet(['{path}'], filename = true)").fetchall()


def complete_models() -> int:
    """Build Prefect's pydantic models whose build pydantic defers to their first use (a flow run's API models,
    its states, artifacts: 262 of them, 0.14 s), so that no forked child builds them again; returns how many."""
    import pydantic

    built, stack, seen = 0, [pydantic.BaseModel], set()
    while stack:
        for model in stack.pop().__subclasses__():
            if model in seen:
                continue
            seen.add(model)
            stack.append(model)
            if model.__module__.startswith("prefect") and not getattr(model, "__pydantic_complete__", True):
                try:
                    built += model.model_rebuild() is True
                except Exception:  # noqa: BLE001 (a model that cannot be built yet is built at its first use, as without this)
                    pass
    return built


def _accept(listener: socket.socket, children: dict, closing: tuple[int, ...]) -> None:
    """Take one request and fork its child; a request that cannot be read is dropped (the client goes cold).
    ``closing``: the descriptors the child closes (the listener, the wake-up pipe, other clients' connections)."""
    conn, _ = listener.accept()
    fds: list[int] = []
    try:
        conn.settimeout(10)
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", creds)[1] != os.getuid():
            raise OSError("a request from another user")
        head, fds, _, _ = socket.recv_fds(conn, HEADER.size, 3)
        if len(head) != HEADER.size or len(fds) != 3:
            raise OSError("a malformed request")
        (size,) = HEADER.unpack(head)
        body = bytearray()
        while len(body) < size:
            chunk = conn.recv(size - len(body))
            if not chunk:
                raise OSError("a request cut short")
            body += chunk
        request = json.loads(body)
        conn.settimeout(None)
    except (OSError, ValueError) as e:
        print(f"warm process: dropped {e}", file=sys.stderr, flush=True)
        for fd in fds:
            os.close(fd)
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = _child(conn, request, fds, closing)
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    children[pid] = conn
    try:
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    except OSError:
        pass  # the client is gone: the child sees it too


def _reap(children: dict) -> None:
    """Collect every child that has ended and report its exit status to its client."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        try:
            conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
        except OSError:
            pass
        conn.close()


def _child(conn: socket.socket, request: dict, fds: list[int], closing: tuple[int, ...]) -> int:
    """In the forked child: become the client's process (session, fds, folder, umask, limits, environment,
    argv, stdio), then run the typer app; its exit code."""
    import threading

    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in closing:
        os.close(fd)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    _limits(request.get("limits", {}))
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    _stdio(request["streams"])
    adopt_environment()

    def client_gone() -> None:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)  # as if the client's SIGTERM had come

    threading.Thread(target=client_gone, name="newslake-warm-client", daemon=True).start()
    from flows.cli import app

    try:
        app()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else _message(e.code))
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    return _finish(code)


def _message(text) -> int:
    print(text, file=sys.stderr)
    return 1


def _finish(code: int) -> int:
    """What the interpreter does at exit: wait for non-daemon threads, run the exit handlers, flush."""
    import atexit
    import threading

    try:
        threading._shutdown()
    except Exception:  # noqa: BLE001
        pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def _limits(limits: dict) -> None:
    import resource

    for name, (soft, hard) in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass  # above what the warm process may give: its own limit stays


def _stdio(streams: dict) -> None:
    """sys.stdin, stdout and stderr on fds 0-2 as the client's Python made them (encoding, errors, buffering)."""
    import io

    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        info = streams.get(name)
        if info is None:
            continue
        raw = open(fd, "rb" if fd == 0 else "wb", closefd=False)
        stream = io.TextIOWrapper(raw, encoding=info["encoding"], errors=info["errors"], newline="\n",
                                  line_buffering=info["line_buffering"], write_through=info["write_through"])
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def adopt_environment() -> None:
    """Take up the environment that a forked child was given where libraries read it at import: Dask's
    configuration, the consoles of the CLI and of rich. Prefect's settings and logging follow in
    ``prefect_env.configure``, which every command that runs a flow calls first, and only when the
    environment it leaves differs from the warm process's (usually it is the same)."""
    import dask.config
    import rich

    from flows import cli

    dask.config.refresh()
    rich._console = None
    cli.out_console, cli.err = cli.consoles()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
