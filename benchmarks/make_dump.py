"""Write a JSON-lines dump of about N bytes from the BBC texts, with variations so that no two records are
duplicates or near-duplicates of each other.

Usage: python benchmarks/make_dump.py OUT.jsonl BYTES [--bbc DIR]   (BYTES may be 20M, 1G, ...)

Record k is BBC article k mod 2,225 (in sorted path order) with, in every line, a variant word from a
fixed list at its start and after every third word, chosen by k and the word's position: consecutive
copies of one article then share no 5-word shingle with each other (the near-duplicate test reads
5-word shingles), yet stay English prose with the article's names for the entity finder. Its title
(the article's first line with the variant's number), URL (unique), date (spread over 2004-2005) and
source ``bbc-<topic>`` vary with k. Deterministic: the same arguments write the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora"))
VARIANT_WORDS = ("indeed", "reportedly", "meanwhile", "notably", "still", "also", "now", "again", "apparently", "further",
                 "clearly", "largely", "recently", "officially", "locally", "widely", "quietly", "openly", "briefly",
                 "mostly", "partly", "duly", "already", "once", "often", "today", "later", "then", "perhaps", "surely",
                 "formally", "firmly", "broadly", "equally", "frankly", "plainly", "simply", "truly", "rightly", "nearly",
                 "fairly", "roughly", "barely", "merely", "hardly", "jointly", "newly", "solely", "unusually", "typically",
                 "rarely", "swiftly", "slowly", "calmly", "boldly", "gently", "kindly", "neatly", "oddly", "sharply",
                 "steadily")


def size_arg(text: str) -> int:
    """'20M' -> 20,000,000 bytes; '1G' -> 1,000,000,000; plain digits as they are."""
    units = {"K": 10**3, "M": 10**6, "G": 10**9}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def articles(bbc: Path) -> list[tuple[str, list[str]]]:
    """(topic, non-empty lines) of every BBC article, in sorted path order."""
    out = []
    for path in sorted(bbc.glob("*/*.txt")):
        lines = [line.strip() for line in path.read_bytes().decode("utf-8", "replace").splitlines() if line.strip()]
        if len(lines) > 1:
            out.append((path.parent.name, lines))
    return out


def varied(line: str, k: int, salt: int) -> str:
    """A line with a variant word at its start and after every third word, chosen by k and position."""
    words, out = line.split(), []
    n = len(VARIANT_WORDS)
    for i, word in enumerate(words):
        if i % 3 == 0:
            out.append(VARIANT_WORDS[(k * 7 + (salt + i) * 13 + (k // n) * (i + 1)) % n])
        out.append(word)
    return " ".join(out)


def record(k: int, corpus: list[tuple[str, list[str]]]) -> bytes:
    topic, lines = corpus[k % len(corpus)]
    copy = k // len(corpus)
    body = "\n\n".join(varied(line, copy, j * 31) for j, line in enumerate(lines[1:]))
    day = date(2004, 1, 1) + timedelta(days=k % 730)
    return (json.dumps({"url": f"https://news.example/{topic}/{copy}/{k % len(corpus)}", "title": f"{lines[0]} ({copy})",
                        "published": day.isoformat(), "source": f"bbc-{topic}", "text": body}) + "\n").encode()


def write_dump(out: Path, size: int, bbc: Path) -> tuple[int, int]:
    """Write records until the file holds at least ``size`` bytes; returns (records, bytes)."""
    corpus = articles(bbc)
    written = k = 0
    with open(out, "wb") as fh:
        while written < size:
            data = record(k, corpus)
            fh.write(data)
            written += len(data)
            k += 1
    return k, written


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("bytes", type=size_arg)
    ap.add_argument("--bbc", type=Path, default=CORPORA / "bbc")
    args = ap.parse_args()
    if not args.bbc.exists():
        sys.exit(f"corpus {args.bbc} is absent (set NEWSLAKE_CORPORA)")
    records, written = write_dump(args.out, args.bytes, args.bbc)
    print(f"{args.out}: {records:,} records, {written:,} bytes")


if __name__ == "__main__":
    main()
