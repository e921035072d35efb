"""WARC benchmark: records per second of the WARC path, on archives generated from BBC texts.

Usage: python benchmarks/warc_bench.py [--articles N] [--archives K] [--out DIR] [--bbc DIR] [--modes dictionary,model]
       (defaults: 2,000 articles in 4 archives under a temporary folder; $NEWSLAKE_CORPORA/bbc, else ../shared/corpora/bbc)

1. Writes K gzip WARC archives (one gzip member per record, as crawlers write them) holding N HTTP 200 HTML
   responses, one per BBC text (wrapped in a page with navigation and a footer, half sent with chunked
   transfer encoding, a quarter gzip-encoded), and as many records that are not articles: one request
   per response, cycling through warcinfo-like metadata, an image, a 404 page and a revisit in their place.
2. Times the parser alone (``transforms.warc.warc_records``: WARC reading and trafilatura extraction) in
   this process, then ``newslake ingest`` of the folder into a fresh lake for each NLP mode, as a user runs it.
   Prints WARC records/s and article records/s of each, and a JSON line with every figure.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora"))


def _page(title: str, body: str, section: str) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in body.split("\n") if p.strip())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)} - BBC News</title></head><body>"
            f"<nav><a href='/'>Home</a> | <a href='/{section}'>{section.title()}</a> | <a href='/weather'>Weather</a></nav>"
            f"<article><h1>{html.escape(title)}</h1>{paragraphs}</article>"
            f"<aside><h3>Most read</h3><ul><li><a href='/1'>Other story</a></li></ul></aside>"
            f"<footer>Copyright BBC. Contact us. Cookies.</footer></body></html>").encode()


def _chunked(body: bytes, size: int = 4096) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


def generate(bbc: Path, out: Path, articles: int, archives: int) -> list[Path]:
    """Write the archives; returns their paths."""
    import gzip

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    texts = sorted(p for p in bbc.glob("*/*.txt"))
    if not texts:
        raise SystemExit(f"no BBC texts under {bbc}")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"bbc-{k:02d}.warc.gz" for k in range(archives)]
    handles = [open(p, "wb") for p in paths]
    writers = [WARCWriter(h, gzip=True) for h in handles]
    try:
        for n in range(articles):
            src = texts[n % len(texts)]
            raw = src.read_bytes().decode("cp1252", "replace")
            title, _, body = raw.partition("\n")
            if n >= len(texts):  # past the corpus: a variation, so that the copy is a new article
                body = body + f"\nUpdated {n // len(texts)} times since it was first published."
            w = writers[n % archives]
            uri = f"https://www.bbc.example/news/{src.parent.name}/{n:05d}"
            date = f"2005-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
            other = n % 4
            if other == 0:
                http = StatusAndHeaders(f"GET {uri} HTTP/1.1", [("Host", "www.bbc.example")], is_http_request=True)
                w.write_record(w.create_warc_record(uri, "request", http_headers=http, warc_headers_dict={"WARC-Date": date}))
            elif other == 1:
                http = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
                w.write_record(w.create_warc_record(uri + ".jpg", "response", payload=io.BytesIO(b"\xff\xd8\xff" + bytes(2000)),
                                                    http_headers=http, warc_headers_dict={"WARC-Date": date}))
            elif other == 2:
                http = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                w.write_record(w.create_warc_record(uri + "/gone", "response", payload=io.BytesIO(b"<html><body>Not found</body></html>"),
                                                    http_headers=http, warc_headers_dict={"WARC-Date": date}))
            else:
                w.write_record(w.create_warc_record(uri, "metadata", payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
                                                    warc_content_type="application/warc-fields", warc_headers_dict={"WARC-Date": date}))
            payload, headers = _page(title.strip(), body, src.parent.name), [("Content-Type", "text/html; charset=utf-8")]
            if n % 2:
                payload, headers = _chunked(payload), headers + [("Transfer-Encoding", "chunked")]
            elif n % 4 == 0:
                payload, headers = gzip.compress(payload), headers + [("Content-Encoding", "gzip")]
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(payload), http_headers=http,
                                                warc_headers_dict={"WARC-Date": date}))
    finally:
        for h in handles:
            h.close()
    return paths


def parse_only(paths: list[Path]) -> dict:
    """WARC records and articles per second of the parser alone, in this process."""
    from transforms.formats import Limits, Record
    from transforms.warc import Skipped, warc_records

    t0 = time.perf_counter()
    records = articles = 0
    for p in paths:
        with open(p, "rb") as fh:
            for item in warc_records(fh, Limits(max_bytes=10**9)):
                if isinstance(item, Skipped):
                    records += item.total
                else:
                    records += 1
                    articles += isinstance(item, Record)
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "records": records, "articles": articles,
            "records_per_s": round(records / seconds, 1), "articles_per_s": round(articles / seconds, 1)}


def ingest(folder: Path, mode: str, records: int, articles: int) -> dict:
    """One ``newslake ingest`` of the folder into a fresh lake, timed from start to exit."""
    lake = Path(tempfile.mkdtemp(prefix=f"warc-bench-{mode}-"))
    cmd = [sys.executable, "-c", "from flows.cli import app; app()", "ingest", str(folder), "--lake", str(lake), "--nlp", mode]
    env = {**os.environ, "NEWSLAKE_MAX_FILE_BYTES": str(max(20_000_000, max(p.stat().st_size for p in folder.glob("*.warc.gz")) + 1))}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = " ".join(done.stderr.split()).split("done run ")[-1]
    return {"mode": mode, "seconds": round(seconds, 1), "records_per_s": round(records / seconds, 1),
            "articles_per_s": round(articles / seconds, 1), "lake": str(lake), "summary": summary[:300]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--archives", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--bbc", type=Path, default=CORPORA / "bbc")
    parser.add_argument("--modes", default="dictionary,model")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="warc-bench-"))
    paths = generate(args.bbc, out, args.articles, args.archives)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} archives, {size / 1e6:.1f} MB, {args.articles:,} HTML responses and {args.articles:,} other records in {out}")
    parsed = parse_only(paths)
    print(f"parser alone (WARC + trafilatura): {parsed['records_per_s']:,} records/s, {parsed['articles_per_s']:,} articles/s "
          f"({parsed['seconds']} s)")
    results = {"archives": len(paths), "bytes": size, "parse": parsed, "ingest": []}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        r = ingest(out, mode, parsed["records"], parsed["articles"])
        results["ingest"].append(r)
        print(f"newslake ingest --nlp {mode}: {r['records_per_s']:,} records/s, {r['articles_per_s']:,} articles/s ({r['seconds']} s wall): "
              f"{r['summary']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
