"""File paths as the lake stores them: always valid, one-line text that maps back to the original bytes.

A path from the operating system may hold bytes that are not UTF-8 (old Windows or FTP dumps):
Python carries them as lone surrogates, which Parquet, DuckDB and Prefect refuse. The stored form
writes each such byte, and each control byte (0x00-0x1f, 0x7f), as ``\\xNN`` (two lowercase hex
digits) and doubles every backslash, so no two paths share a stored form.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def escape_path(path: str) -> str:
    """The stored form of an operating-system path (a ``str`` as ``os.fsdecode`` gives it)."""
    raw = path.encode("utf-8", "surrogateescape").replace(b"\\", b"\\\\")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", raw.decode("utf-8", "backslashreplace"))


def unescape_path(stored: str) -> bytes:
    """The original bytes of a stored path (``os.fsdecode`` of them opens the file)."""
    out, pos = bytearray(), 0
    for m in _ESCAPE.finditer(stored):
        out += stored[pos : m.start()].encode("utf-8")
        out += b"\\" if m.group(1) == "\\" else bytes([int(m.group(1)[1:], 16)])
        pos = m.end()
    return bytes(out + stored[pos:].encode("utf-8"))


def file_name(path: str) -> str:
    """``PurePath(path).name`` of a stored path (or URL), without building the PurePath for the usual path."""
    name = path.rpartition("/")[2]
    return name if name not in ("", ".") else PurePath(path).name


def folder_name(path: str) -> str:
    """``PurePath(path).parent.name`` of a stored path (or URL), without building the PurePath for the usual path."""
    head, sep, name = path.rpartition("/")
    folder = head.rpartition("/")[2]
    return folder if sep and name not in ("", ".") and folder not in ("", ".") else PurePath(path).parent.name
