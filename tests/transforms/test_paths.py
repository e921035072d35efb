import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.paths import escape_path, unescape_path


@pytest.mark.parametrize(
    "raw, stored",
    [
        (b"/in/story.txt", "/in/story.txt"),
        (b"/in/caf\xc3\xa9.txt", "/in/café.txt"),
        (b"/in/latin1_name_\xe9.txt", "/in/latin1_name_\\xe9.txt"),
        (b"/in/a\\xe9.txt", "/in/a\\\\xe9.txt"),
        (b"/in/two\nlines\x7f.txt", "/in/two\\x0alines\\x7f.txt"),
        (b"/in/\xff\xfe\\.txt", "/in/\\xff\\xfe\\\\.txt"),
    ],
)
def test_escape_path(raw, stored):
    assert escape_path(os.fsdecode(raw)) == stored
    assert unescape_path(stored) == raw


def test_a_name_with_a_literal_escape_and_one_with_the_byte_stay_apart():
    assert escape_path(os.fsdecode(b"a\\xe9")) != escape_path(os.fsdecode(b"a\xe9"))


@given(st.binary(max_size=40))
def test_stored_paths_are_one_line_text_that_maps_back_to_the_bytes(raw):
    stored = escape_path(os.fsdecode(raw))
    stored.encode("utf-8")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in stored)
    assert unescape_path(stored) == raw


@given(st.lists(st.sampled_from(["/", "//", ".", "..", "a", "b.txt", "s3:", "é", " "]), max_size=7).map("".join))
def test_file_and_folder_names_are_purepaths(path):
    from pathlib import PurePath

    from transforms.paths import file_name, folder_name

    assert (file_name(path), folder_name(path)) == (PurePath(path).name, PurePath(path).parent.name)


@pytest.mark.parametrize("path, file, folder", [("/in/bbc/politics/001.txt", "001.txt", "politics"), ("s3://bucket/a.json", "a.json", "bucket"),
                                                ("a.txt", "a.txt", ""), ("/a.txt", "a.txt", ""), ("in/./a.txt", "a.txt", "in"), ("in//a.txt", "a.txt", "in")])
def test_file_and_folder_names(path, file, folder):
    from transforms.paths import file_name, folder_name

    assert (file_name(path), folder_name(path)) == (file, folder)
