"""flows/scratch.py: the keep list read by ranges and the staged batches read by ids."""

import pyarrow as pa
import pyarrow.parquet as pq

from flows.scratch import RunScratch
from transforms.batch import PREPARED


def keep_file(scratch: RunScratch, n: int, group: int) -> None:
    scratch.keep_path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"n": i, "part": f"p{i % 3}", "article_id": f"a{i:03d}", "duplicate_of": None, "analyse": i % 2 == 0} for i in range(n)]
    pq.write_table(pa.Table.from_pylist(rows), scratch.keep_path, row_group_size=group)


def test_a_range_of_the_keep_list_in_order_from_the_row_groups_that_hold_it(tmp_path, monkeypatch):
    scratch = RunScratch(tmp_path, "r1")
    keep_file(scratch, 25, group=4)
    read_groups = []
    original = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups",
                        lambda self, groups, **kw: read_groups.append(list(groups)) or original(self, groups, **kw))
    assert [r["n"] for r in scratch.read_keep(5, 13)] == list(range(5, 13))
    assert read_groups == [[1, 2, 3]]  # rows 4-7, 8-11, 12-15
    assert scratch.read_keep(5, 6) == [{"n": 5, "part": "p2", "article_id": "a005", "duplicate_of": None, "analyse": False}]
    assert [r["n"] for r in scratch.read_keep(0, 25)] == list(range(25))
    assert scratch.read_keep(25, 40) == [] and scratch.read_keep(3, 3) == []


def test_the_staged_rows_of_some_ids_in_the_batchs_order(tmp_path):
    scratch = RunScratch(tmp_path, "r1")
    ids = [f"a{i}" for i in range(6)]
    template = {name: None for name in PREPARED.names}
    rows = [template | {"article_id": a, "source_uri": f"/x/{a}.txt", "text": f"text {a}", "language": "en", "n_words": 2,
                        "boilerplate_chars": 0, "minhash": [1, 2], "bands": [3]} for a in ids]
    scratch.write("p00001", pa.Table.from_pylist(rows, schema=PREPARED))
    got = scratch.read("p00001", ["a4", "a1", "zz", "a3"])
    assert got.column("article_id").to_pylist() == ["a1", "a3", "a4"]
    assert got.column("text").to_pylist() == ["text a1", "text a3", "text a4"]
    assert scratch.read("p00001", []).num_rows == 0


def test_clearing_a_part_removes_its_pieces_only(tmp_path):
    scratch = RunScratch(tmp_path, "r1")
    table = pa.table({"article_id": ["a"]})
    for name in ("p00001-0000", "p00001-0001", "p00010-0000"):
        scratch.write(name, table)
    scratch.write_account("p00001", table)
    scratch.clear_part("p00001")
    assert [p.name for p in scratch.article_paths()] == ["p00010-0000.parquet"]
    assert scratch.account_paths(["p00001"])[0].exists()  # the account is replaced by the next pass, not removed
