"""discover_files: what counts as an input, what is set aside by name, and what is missing."""

import pytest

from flows.discover import discover_files, missing_paths

EXCLUDE = "README*,LICENSE*,.*"


@pytest.fixture
def tree(tmp_path):
    for rel in ("news/a.txt", "news/b.HTML", "news/feed.jsonl.gz", "news/README.txt", "news/.draft.txt", "news/notes.pdf",
                "news/deep/c.ndjson", "other/LICENSE.txt", "other/d.htm"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_folders_are_searched_recursively_and_names_set_aside(tree):
    found, aside = discover_files([str(tree / "news")], EXCLUDE)
    assert found == [str(tree / p) for p in ("news/a.txt", "news/b.HTML", "news/deep/c.ndjson", "news/feed.jsonl.gz")]
    assert aside == [str(tree / "news/.draft.txt"), str(tree / "news/README.txt")]


def test_files_named_explicitly_are_never_set_aside_or_filtered(tree):
    found, aside = discover_files([str(tree / "news/README.txt"), str(tree / "news/notes.pdf"), str(tree / "news/a.txt")], EXCLUDE)
    assert (found, aside) == ([str(tree / "news/README.txt"), str(tree / "news/a.txt"), str(tree / "news/notes.pdf")], [])


def test_globs_expand_case_sensitively_and_overlaps_count_once(tree):
    found, aside = discover_files([str(tree / "*/*.ht*"), str(tree / "other"), str(tree / "other/d.htm")], EXCLUDE)
    assert (found, aside) == ([str(tree / "other/d.htm")], [str(tree / "other/LICENSE.txt")])


def test_an_empty_folder_is_not_missing(tree):
    assert discover_files([str(tree / "empty")], EXCLUDE) == ([], [])


def test_every_missing_path_is_named(tree):
    with pytest.raises(FileNotFoundError) as e:
        discover_files([str(tree / "news"), str(tree / "nope"), str(tree / "*.csv")], EXCLUDE)
    assert str(e.value) == f"no such file or folder: {tree / 'nope'}, {tree / '*.csv'}"
    assert missing_paths([str(tree / "news"), str(tree / "nope"), str(tree / "*.csv"), str(tree / "*/a.txt")]) == [
        str(tree / "nope"), str(tree / "*.csv")]


def test_exclusion_patterns_match_names_whole_and_case_insensitively(tmp_path):
    for name in ("readme.TXT", "notes2.TXT", "notes.txt", "a+b.txt", "x.txt.txt"):
        (tmp_path / name).write_text("x")
    found, aside = discover_files([str(tmp_path)], " README* ,*[0-9].txt,, a+b.TXT,x.txt")
    assert found == [str(tmp_path / "notes.txt"), str(tmp_path / "x.txt.txt")]
    assert aside == [str(tmp_path / n) for n in ("a+b.txt", "notes2.TXT", "readme.TXT")]
    assert discover_files([str(tmp_path)], " , ")[1] == []
