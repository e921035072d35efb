"""Finding input files and reading their bytes."""

from __future__ import annotations

import errno
import fnmatch
import glob
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePath
from typing import BinaryIO

from flows import storage
from transforms.batch import KnownFile, Piece, RawFile, ReadOptions
from transforms.formats import compression, input_kind, jsonl_records, open_stream, scan_dump
from transforms.text import RejectedInput
from transforms.paths import escape_path, unescape_path

SPECIAL_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


def _exclusion(exclude: str) -> re.Pattern | None:
    """The comma-separated name patterns of ``exclude`` as one expression, matched against upper-cased names
    (so case-insensitively), or None when there are none: compiled once, not once per file."""
    patterns = [p.strip() for p in exclude.split(",") if p.strip()]
    return re.compile("|".join(fnmatch.translate(p.upper()) for p in patterns)) if patterns else None


def _excluded(name: str, patterns: re.Pattern | None) -> bool:
    return patterns is not None and patterns.match(name.upper()) is not None


def _kind(mode: int) -> str | None:
    """'a named pipe', 'a socket' or 'a device' for special files, else None."""
    return SPECIAL_KINDS.get(stat.S_IFMT(mode))


def _entries(folder: Path) -> Iterator[os.DirEntry | Path]:
    """Every entry under a folder but its subfolders, never entering a symbolic link to a folder (so
    a link loop ends); a folder that cannot be listed is given itself, as a path."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except FileNotFoundError:
            continue
        except OSError:
            yield current
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield entry


def local_path(path: str) -> str:
    """The operating-system path of a stored path (``transforms.paths``), for opening."""
    return os.fsdecode(unescape_path(path))


def _found(path: Path, special: bool, named: bool = False) -> list[str]:
    """The stored paths an entry in a link-free folder adds to the run: itself, and a link's target file.
    None when not named like an input (unless ``named``), or for a FIFO, socket or device or a link to
    one unless ``special``: callers that open every path would wait on a FIFO for ever."""
    try:
        info = path.lstat()
    except OSError:
        return []
    if stat.S_ISDIR(info.st_mode):
        return [escape_path(str(path))]  # a folder that cannot be listed
    if not named and input_kind(path.name) is None:
        return []
    if not stat.S_ISLNK(info.st_mode):
        return [escape_path(str(path))] if special or stat.S_ISREG(info.st_mode) else []
    try:
        target = path.stat()
    except OSError:
        return [escape_path(str(path))]  # dangling or a loop: read_file says which
    if _kind(target.st_mode) and not special:
        return []
    return [escape_path(str(path))] + ([escape_path(os.path.realpath(path))] if stat.S_ISREG(target.st_mode) else [])


def _found_entry(entry: os.DirEntry | Path, special: bool) -> list[str]:
    """``_found`` for what ``_entries`` gives: a regular file named like an input is known one from its
    folder's listing (the type the listing gives), without a status call; anything else is looked at."""
    if isinstance(entry, Path):
        return _found(entry, special)
    if input_kind(entry.name) is None:
        return []
    if entry.is_file(follow_symlinks=False):
        return [escape_path(entry.path)]
    return _found(Path(entry.path), special)


def discover_files(paths: list[str], exclude: str, special: bool = False) -> tuple[list[str], list[str]]:
    """Stored paths (``transforms.paths``) of every input file: files as given, folders searched
    recursively (for .txt, .html, .htm, .jsonl, .ndjson, .warc, each also .gz, and but .warc also .zst;
    symbolic links to folders are not followed), globs expanded; ``s3://`` URLs likewise (an object, a
    prefix, a glob). A symbolic link is an input of its own, and its target another.
    ``paths`` are in the stored form too (a UTF-8 path without a backslash is its own stored form).

    Files met in folders whose names match an ``exclude`` pattern (dataset READMEs, licences,
    hidden files) are set aside; files named explicitly never are. With ``special``, FIFOs, sockets
    and devices named like inputs are listed too (``read_file`` never opens them). Returns (inputs,
    set aside). Raises FileNotFoundError naming every path that matches nothing.
    """
    patterns = _exclusion(exclude)
    found: set[str] = set()
    skipped: set[str] = set()
    missing = []
    for raw in paths:
        if storage.is_remote(raw):
            if not _discover_remote(raw, patterns, found, skipped):
                missing.append(raw)
            continue
        given = local_path(raw)
        matches = [Path(m) for m in glob.glob(os.path.expanduser(given), recursive=True)] if glob.has_magic(given) else [Path(given).expanduser()]
        hits = 0
        for m in matches:
            if m.is_dir():
                for sub in _entries(Path(os.path.realpath(m))):
                    inputs = _found_entry(sub, special)
                    (skipped if _excluded(sub.name, patterns) else found).update(inputs)
                    hits += bool(inputs)
            elif m.is_file() or (special and m.exists() and _kind(m.stat().st_mode)):
                found.update(_found(Path(os.path.realpath(m.parent)) / m.name, special, named=True))
                hits += 1
        if not matches or (not hits and not any(m.is_dir() for m in matches)):
            missing.append(raw)
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    return sorted(found), sorted(skipped)


def _discover_remote(url: str, patterns: re.Pattern | None, found: set[str], skipped: set[str]) -> bool:
    """Add the objects a storage URL names to ``found`` (or ``skipped``, by name, when met under a prefix)
    by the rules of local files and folders; False when it names nothing."""
    try:
        objects, named = storage.list_objects(url)
    except FileNotFoundError:
        return False
    for obj in objects:
        name = obj.rsplit("/", 1)[-1]
        if obj in named:
            found.add(escape_path(obj))
        elif input_kind(name) is not None:
            (skipped if _excluded(name, patterns) else found).add(escape_path(obj))
    return True


def missing_paths(paths: list[str]) -> list[str]:
    """The given paths that are neither an existing file or folder nor a glob matching something (nor an
    object, non-empty prefix or matching glob in object storage: StorageError when that cannot be known)."""
    return [p for p in paths if not (storage.exists(p) if storage.is_remote(p) else glob.glob(os.path.expanduser(p), recursive=True)
                                     if glob.has_magic(p) else Path(p).expanduser().exists())]


def read_file(path: str, max_bytes: int, known: KnownFile | None = None) -> RawFile:
    """The bytes of the file at a stored path, or the reason they cannot be had: too large (then only
    hashed, in chunks), gone, changed while read, not a regular file, or a symbolic link (its target
    is an input of its own). An object in storage (``s3://``) that ``known`` shows unchanged (same
    ETag and size) is not downloaded."""
    if storage.is_remote(path):
        return replace(storage.read_object(local_path(path), max_bytes, known), path=path)
    local = local_path(path)
    try:
        info = os.lstat(local)
    except FileNotFoundError:
        return RawFile(path, 0, None, "cannot read: removed after the run found it")
    except OSError as e:
        return RawFile(path, 0, None, f"cannot read: {e.strerror or e}")
    if stat.S_ISLNK(info.st_mode):
        return _read_link(path, local)
    if stat.S_ISDIR(info.st_mode):
        return RawFile(path, 0, None, _folder_reason(local))
    if _kind(info.st_mode):
        return RawFile(path, 0, None, f"not a regular file ({_kind(info.st_mode)})")
    return _read_regular(path, local, max_bytes)


SETTLED_MARGIN_NS = 2_000_000_000  # status-change times within this of a run's start are not trusted (clock ticks)


def settled(path: str, known: KnownFile | None) -> bool:
    """Whether a local file read whole is known unchanged without reading it: a regular file (not a symbolic
    link) of the size the lake hashed, whose inode last changed (its ctime: any write, truncation, rename
    over it or metadata change sets it to the kernel's clock, and no tool can set it back, unlike the
    mtime) more than ``SETTLED_MARGIN_NS`` before the start of the run that read and hashed it. Anything
    else is read and hashed: objects in storage (their ETag decides), streamed dumps and archives (their
    planning hashes them), links, and files on a platform whose ctime is not a change time."""
    if known is None or known.size is None or known.seen_at is None or os.name != "posix":
        return False
    if storage.is_remote(path) or streamed(path):
        return False
    try:
        info = os.lstat(local_path(path))
    except OSError:
        return False
    read_at_ns = int(known.seen_at.timestamp()) * 1_000_000_000 + known.seen_at.microsecond * 1000
    return stat.S_ISREG(info.st_mode) and info.st_size == known.size and info.st_ctime_ns < read_at_ns - SETTLED_MARGIN_NS


def _folder_reason(local: str) -> str:
    """Why a folder among the inputs was not searched."""
    try:
        os.scandir(local).close()
    except OSError as e:
        return f"cannot search folder: {e.strerror or e}"
    return "a folder, not a file"


def _read_link(path: str, local: str) -> RawFile:
    """A symbolic link's account: a link to a file (read under the target's own path), or why not."""
    target = escape_path(os.path.realpath(local))
    try:
        info = os.stat(local)
    except FileNotFoundError:
        return RawFile(path, 0, None, f"dangling symbolic link: its target {target} does not exist")
    except OSError as e:
        return RawFile(path, 0, None, "symbolic link loop" if e.errno == errno.ELOOP else f"cannot read: {e.strerror or e}")
    if stat.S_ISDIR(info.st_mode):
        return RawFile(path, 0, None, f"symbolic link to a folder, not followed: {target}")
    if not stat.S_ISREG(info.st_mode):
        return RawFile(path, 0, None, f"symbolic link to {_kind(info.st_mode) or 'something else'}, not a regular file")
    return RawFile(path, info.st_size, None, link_to=target)


def open_input(path: str) -> tuple[BinaryIO, os.stat_result] | str:
    """A local stored path opened for reading as a binary stream (by ``storage.open_local``, what
    ``storage.open_input`` opens local inputs with), with its status when opened; or why it cannot be:
    gone, unreadable, not a regular file (never blocks on a FIFO swapped in). Objects in storage are
    read by ``read_file``."""
    try:
        return storage.open_local(path)
    except storage.NotRegularFile as e:
        return f"not a regular file ({_kind(e.mode) or 'a folder'})"
    except FileNotFoundError:
        return "cannot read: removed after the run found it"
    except OSError as e:
        return f"cannot read: {e.strerror or e}"


def streamed(path: str) -> bool:
    """Whether an input is read as a stream of records (a local JSON-lines file or WARC archive), not
    whole; an object in storage is read whole (``read_file``, up to ``NEWSLAKE_MAX_FILE_BYTES``)."""
    return input_kind(path.rsplit("/", 1)[-1]) in ("jsonl", "warc") and not storage.is_remote(path)  # a stored path's name


def plan_dump(path: str, known: KnownFile | None, every: int) -> list[Piece] | None:
    """The pieces of a regular JSON-lines file, in one pass: ranges of ``every`` lines cut at line
    starts (only the appended ones when the file grew after what the lake holds); a compressed file
    cannot be cut and is one piece, as is a WARC archive (hashed in that pass, its records streamed
    later). None when the path is not a regular local file (``read_file`` says why)."""
    if storage.is_remote(path):
        return None
    try:
        if not stat.S_ISREG(os.lstat(local_path(path)).st_mode):
            return None
    except OSError:
        return None
    opened = open_input(path)
    if isinstance(opened, str):
        return None
    fh, info = opened
    with fh:
        if compression(path) or input_kind(PurePath(path).name) == "warc":
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            return [Piece(path, info.st_size, digest, info.st_mtime_ns, lines=every)]
        scan = scan_dump(fh, every, (known.size, known.sha256) if known and known.size else None)
    if known is not None and scan.sha256 == known.sha256:
        return [Piece(path, scan.size, scan.sha256, info.st_mtime_ns)]  # unchanged: one row says so
    kept = (known.size, scan.kept_lines) if scan.kept_lines is not None else None
    following = [first for _, _, first in scan.ranges[1:]] + [scan.ranges[-1][2] + every]
    return [Piece(path, scan.size, scan.sha256, info.st_mtime_ns, start, end, first, kept, lines=max(1, after - first))
            for (start, end, first), after in zip(scan.ranges, following)]


def read_piece(piece: Piece, options: ReadOptions) -> RawFile:
    """A planned piece as a file whose records are read lazily: a line at a time (JSON lines), a record
    at a time (WARC)."""
    first = piece.kept is not None and piece.start == piece.kept[0]
    return RawFile(piece.path, piece.size, None, sha256=piece.sha256, records=_piece_records(piece, options),
                   appended=piece.kept is not None, kept=piece.kept if first else None)


def _piece_records(piece: Piece, options: ReadOptions):
    opened = open_input(piece.path)
    if isinstance(opened, str):
        raise RejectedInput(opened)
    fh, info = opened
    with fh:
        if (info.st_size, info.st_mtime_ns) != (piece.size, piece.mtime_ns):
            raise RejectedInput("cannot read: changed after the run found it (it is read again next run)")
        if input_kind(PurePath(piece.path).name) == "warc":  # gzip record by record: the reader inflates each
            from transforms.warc import warc_records

            yield from warc_records(fh, options.limits)
            return
        fh.seek(piece.start)
        stream = open_stream(fh, PurePath(piece.path).name, options.limits)
        length = None if piece.end is None else piece.end - piece.start
        whole = piece.start == 0 and piece.end in (None, piece.size)
        yield from jsonl_records(stream, options.fields, options.limits, piece.first_line, length, whole)


def _read_regular(path: str, local: str, max_bytes: int) -> RawFile:
    """A regular file's bytes, read at most ``max_bytes`` + 1 at once; never blocks on a FIFO swapped in."""
    opened = open_input(path)
    if isinstance(opened, str):
        return RawFile(path, 0, None, opened)
    fh, before = opened
    try:
        with fh:
            # the size it had when opened, and a byte more: a read of ``max_bytes`` + 1 would allocate that much first
            want = min(before.st_size, max_bytes) + 1
            data = fh.read(want)
            if len(data) == want <= max_bytes:  # it grew meanwhile: on up to the limit, as one read would
                data += fh.read(max_bytes + 1 - want)
            if len(data) > max_bytes:
                fh.seek(0)
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
                return RawFile(path, fh.tell(), None, f"larger than the {max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)", digest)
            after = os.fstat(fh.fileno())
    except OSError as e:
        return RawFile(path, 0, None, f"cannot read: {e.strerror or e}")
    if len(data) != before.st_size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        return RawFile(path, 0, None, "cannot read: changed while being read (it is read again next run)")
    return RawFile(path, len(data), data)
