"""Finding input files and reading their bytes."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
from pathlib import Path

from transforms.batch import RawFile
from transforms.formats import input_kind


def _is_input(path: Path) -> bool:
    return path.is_file() and input_kind(path.name) is not None


def _excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name.upper(), p.upper()) for p in patterns)


def discover_files(paths: list[str], exclude: str) -> tuple[list[str], list[str]]:
    """Absolute paths of every input file: files as given, folders searched recursively
    (for .txt, .html, .htm, .jsonl, .ndjson, each also .gz), globs expanded.

    Files met in folders whose names match an ``exclude`` pattern (dataset READMEs, licences,
    hidden files) are set aside; files named explicitly never are. Returns (inputs, set aside).
    Raises FileNotFoundError naming every path that matches nothing.
    """
    patterns = tuple(p.strip() for p in exclude.split(",") if p.strip())
    found: set[str] = set()
    skipped: set[str] = set()
    missing = []
    for raw in paths:
        matches = [Path(m) for m in glob.glob(os.path.expanduser(raw), recursive=True)] if glob.has_magic(raw) else [Path(raw).expanduser()]
        hits = 0
        for m in matches:
            if m.is_dir():
                for sub in m.rglob("*"):
                    if _is_input(sub):
                        (skipped if _excluded(sub.name, patterns) else found).add(str(sub.resolve()))
                        hits += 1
            elif m.is_file():
                found.add(str(m.resolve()))
                hits += 1
        if not matches or (not hits and not any(m.is_dir() for m in matches)):
            missing.append(raw)
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    return sorted(found), sorted(skipped)


def missing_paths(paths: list[str]) -> list[str]:
    """The given paths that are neither an existing file or folder nor a glob matching something."""
    return [p for p in paths if not (glob.glob(os.path.expanduser(p), recursive=True) if glob.has_magic(p) else Path(p).expanduser().exists())]


def read_file(path: str, max_bytes: int) -> RawFile:
    """The file's bytes, or the reason it cannot be read (too large files are only hashed, in chunks)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size <= max_bytes:
                return RawFile(path, size, fh.read())
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return RawFile(path, size, None, f"larger than the {max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)", digest)
    except OSError as e:
        return RawFile(path, 0, None, f"cannot read: {e.strerror or e}")
