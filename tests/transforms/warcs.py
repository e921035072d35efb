"""Small WARC archives built with warcio's writer, for the WARC tests."""

from __future__ import annotations

import gzip
import io

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

STORY_A = ("The city council approved the new budget on Tuesday after a long debate about schools and roads. "
           "The mayor said the plan would keep taxes flat while adding two hundred teachers next year. "
           "Opposition members argued that the road repairs were underfunded and asked for a review in spring. "
           "The budget now goes to the regional assembly, which is expected to sign it before the summer recess.")
STORY_B = ("Fishermen in the northern harbour reported their best catch in a decade this week. "
           "Scientists from the university linked the recovery to the cooler water and the quota cuts of recent years. "
           "Local restaurants have already added more fresh cod to their menus, and prices at the market fell by a third. "
           "The harbour master warned that the season could still end early if storms return in the autumn.")


def page(title: str, story: str, date: str | None = None) -> bytes:
    """An HTML news page with navigation around one article (and a published date when given)."""
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in story.split(". ") if s.strip())
    return (f"<!DOCTYPE html><html><head><title>{title}</title>{meta}</head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>Contact us</footer></body></html>").encode()


def chunked(body: bytes, size: int = 100) -> bytes:
    """``body`` in HTTP chunked transfer encoding."""
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


class Archive:
    """A WARC archive being written in memory, record by record."""

    def __init__(self, gz: bool = False):
        self.out = io.BytesIO()
        self.writer = WARCWriter(self.out, gzip=gz)

    def warcinfo(self) -> Archive:
        self.writer.write_record(self.writer.create_warcinfo_record("test.warc", {"software": "newslake tests"}))
        return self

    def request(self, uri: str) -> Archive:
        http = StatusAndHeaders(f"GET {uri} HTTP/1.1", [("Host", "news.example")], is_http_request=True)
        self.writer.write_record(self.writer.create_warc_record(uri, "request", http_headers=http))
        return self

    def response(self, uri: str, body: bytes, status: str = "200 OK", content_type: str | None = "text/html; charset=utf-8",
                 date: str = "2024-01-05T10:00:00Z", encoding: str | None = None) -> Archive:
        """A response record; ``encoding``: 'chunked' (transfer) or 'gzip' (content) applied to ``body``."""
        headers = [("Content-Type", content_type)] if content_type else []
        if encoding == "chunked":
            headers.append(("Transfer-Encoding", "chunked"))
            body = chunked(body)
        elif encoding == "gzip":
            headers.append(("Content-Encoding", "gzip"))
            body = gzip.compress(body)
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        self.writer.write_record(self.writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                                                warc_headers_dict={"WARC-Date": date}))
        return self

    def metadata(self, uri: str) -> Archive:
        self.writer.write_record(self.writer.create_warc_record(uri, "metadata", payload=io.BytesIO(b"fetchTimeMs: 12\r\n"),
                                                                warc_content_type="application/warc-fields"))
        return self

    def revisit(self, uri: str) -> Archive:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        self.writer.write_record(self.writer.create_revisit_record(uri, "sha1:AAAA", uri, "2024-01-05T10:00:00Z", http_headers=http))
        return self

    def bytes(self) -> bytes:
        return self.out.getvalue()


def news_archive(gz: bool = False) -> bytes:
    """Nine records: two articles among a warcinfo, a request, a metadata, an image, a 404, a revisit
    and a page without text (records 3 and 5 are the articles)."""
    return (Archive(gz).warcinfo()
            .request("http://news.example/budget")
            .response("http://news.example/budget", page("Council approves budget", STORY_A), encoding="chunked")
            .metadata("http://news.example/budget")
            .response("https://www.harbour.example/cod", page("Best catch in a decade", STORY_B, date="2023-03-02T08:30:00Z"),
                      encoding="gzip", date="2024-01-06T11:00:00Z")
            .response("http://news.example/logo.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
            .response("http://news.example/gone", page("Not found", STORY_A), status="404 Not Found")
            .revisit("http://news.example/budget")
            .response("http://news.example/empty", b"<html><body></body></html>")
            .bytes())


def offsets(data: bytes) -> list[int]:
    """The byte offset of every record of an archive."""
    from warcio.archiveiterator import ArchiveIterator

    it = ArchiveIterator(io.BytesIO(data))
    out = []
    for _ in it:
        out.append(it.get_record_offset())
    return out
