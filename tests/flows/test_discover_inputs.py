"""Discovery and reading of odd inputs on a real file system: names, links, special files, races."""

import errno
import hashlib
import os

import pytest

from flows import discover
from flows.discover import discover_files, read_file
from transforms.batch import RawFile


@pytest.fixture
def folder(tmp_path):
    d = tmp_path.resolve() / "in"
    d.mkdir()
    return d


def _names(paths, root):
    return [p.removeprefix(f"{root}/") for p in paths]


def test_a_name_that_is_not_utf8_is_found_and_read_under_its_stored_path(folder):
    fd = os.open(os.fsencode(folder) + b"/latin1_name_\xe9.txt", os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"Story")
    os.close(fd)
    (folder / "a\\b.txt").write_bytes(b"Other")
    found, _ = discover_files([str(folder)], "")
    assert _names(found, folder) == ["a\\\\b.txt", "latin1_name_\\xe9.txt"]
    assert [read_file(p, 100).data for p in found] == [b"Other", b"Story"]


def test_each_symbolic_link_is_an_input_of_its_own_and_loops_end(folder, tmp_path):
    (folder / "a.txt").write_bytes(b"Story")
    (tmp_path / "elsewhere.txt").write_bytes(b"Outside")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_bytes(b"Inside")
    for name, target in [("link.txt", "a.txt"), ("chain.txt", "link.txt"), ("out.txt", "../elsewhere.txt"), ("dangling.txt", "missing.txt"),
                         ("loop.txt", "loop.txt"), ("folder.txt", "sub"), ("again", "."), ("sub/up", ".."), ("notes.md", "a.txt")]:
        (folder / name).symlink_to(target)
    found, _ = discover_files([str(folder)], "")
    assert _names(found, folder) == [str(tmp_path.resolve() / "elsewhere.txt"), "a.txt", "chain.txt", "dangling.txt", "folder.txt",
                                     "link.txt", "loop.txt", "out.txt", "sub/b.txt"]
    got = {p.removeprefix(f"{folder}/"): read_file(p, 100) for p in found}
    assert {name: (f.data, f.error, f.link_to) for name, f in got.items()} == {
        "a.txt": (b"Story", None, None),
        "chain.txt": (None, None, f"{folder}/a.txt"),
        "dangling.txt": (None, f"dangling symbolic link: its target {folder}/missing.txt does not exist", None),
        "folder.txt": (None, f"symbolic link to a folder, not followed: {folder}/sub", None),
        "link.txt": (None, None, f"{folder}/a.txt"),
        "loop.txt": (None, "symbolic link loop", None),
        "out.txt": (None, None, str(tmp_path.resolve() / "elsewhere.txt")),
        "sub/b.txt": (b"Inside", None, None),
        str(tmp_path.resolve() / "elsewhere.txt"): (b"Outside", None, None),
    }
    assert got["link.txt"].size == 5


def test_a_link_named_explicitly_is_listed_with_its_target(folder):
    (folder / "a.txt").write_bytes(b"Story")
    (folder / "link.txt").symlink_to("a.txt")
    assert discover_files([str(folder / "link.txt")], "") == ([f"{folder}/a.txt", f"{folder}/link.txt"], [])


def test_a_fifo_named_like_an_input_is_listed_only_for_the_flow_and_never_opened(folder):
    os.mkfifo(folder / "pipe.txt")
    (folder / "to_pipe.txt").symlink_to("pipe.txt")
    assert discover_files([str(folder)], "") == ([], [])
    found, _ = discover_files([str(folder)], "", special=True)
    assert [(read_file(p, 100).error) for p in found] == [
        "not a regular file (a named pipe)", "symbolic link to a named pipe, not a regular file"]


def test_an_unreadable_file_is_read_as_its_reason(folder, monkeypatch):
    locked = folder / "locked.txt"
    locked.write_bytes(b"Secret")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anyway: the kernel's answer to anyone else, simulated
        real = os.open

        def denied(path, *args, **kw):
            if os.fsdecode(path) == str(locked):
                raise PermissionError(errno.EACCES, "Permission denied", str(locked))
            return real(path, *args, **kw)

        monkeypatch.setattr(os, "open", denied)
    assert read_file(str(locked), 100) == RawFile(str(locked), 0, None, "cannot read: Permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_an_unreadable_file_with_real_permissions(folder):
    locked = folder / "locked.txt"
    locked.write_bytes(b"Secret")
    locked.chmod(0)
    assert read_file(str(locked), 100).error == "cannot read: Permission denied"


def test_a_folder_that_cannot_be_listed_is_listed_itself(folder, monkeypatch):
    (folder / "a.txt").write_bytes(b"Story")
    (folder / "closed").mkdir()
    (folder / "closed" / "b.txt").write_bytes(b"Hidden")
    real = os.scandir

    def denied(path="."):
        if os.fsdecode(path) == str(folder / "closed"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", denied)
    found, _ = discover_files([str(folder)], "")
    assert _names(found, folder) == ["a.txt", "closed"]
    assert read_file(found[1], 100).error == "cannot search folder: Permission denied"


def test_a_file_removed_or_rewritten_after_discovery(folder):
    (folder / "gone.txt").write_bytes(b"Story")
    (folder / "grown.txt").write_bytes(b"Story")
    (folder / "new.txt").write_bytes(b"Story")
    gone, grown, new = discover_files([str(folder)], "")[0]
    (folder / "gone.txt").unlink()
    (folder / "grown.txt").write_bytes(b"x" * 150)
    (folder / "new.txt").write_bytes(b"New story")
    assert read_file(gone, 100) == RawFile(gone, 0, None, "cannot read: removed after the run found it")
    big = read_file(grown, 100)
    assert (big.size, big.data, big.error) == (150, None, "larger than the 100-byte limit (NEWSLAKE_MAX_FILE_BYTES)")
    assert read_file(new, 100) == RawFile(new, 9, b"New story")


def appended_once_opened(path, data: bytes, monkeypatch) -> None:
    """``data`` appended to ``path`` right after the reader's first look at an open file (``os.fstat``)."""
    real = os.fstat
    calls = []

    def appending(fd):
        calls.append(fd)
        before = real(fd)
        if len(calls) == 1:
            with open(path, "ab") as fh:
                fh.write(data)
        return before

    monkeypatch.setattr(discover.os, "fstat", appending)


def test_a_file_written_to_while_it_is_read(folder, monkeypatch):
    path = folder / "live.txt"
    path.write_bytes(b"Story")
    appended_once_opened(path, b" goes on", monkeypatch)  # another process writes on right after the reader looked at the file
    assert read_file(str(path), 100) == RawFile(str(path), 0, None, "cannot read: changed while being read (it is read again next run)")


def test_a_file_that_grows_past_the_limit_after_it_was_opened_is_too_large(folder, monkeypatch):
    path = folder / "live.txt"
    path.write_bytes(b"Story")
    appended_once_opened(path, b"x" * 150, monkeypatch)  # 5 bytes when opened, 155 when read: read on past the size it had
    got = read_file(str(path), 100)
    assert (got.size, got.data, got.error, got.sha256) == (155, None, "larger than the 100-byte limit (NEWSLAKE_MAX_FILE_BYTES)",
                                                           hashlib.sha256(b"Story" + b"x" * 150).hexdigest())
