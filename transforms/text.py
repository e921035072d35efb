"""Raw bytes to a clean article: decoding, normalisation, title and boilerplate."""

from __future__ import annotations

import codecs
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime, timezone

import charset_normalizer
import ftfy
from ftfy.badness import is_bad


class RejectedInput(ValueError):
    """Input that cannot become an article; the message is a one-line human reason."""


@dataclass(frozen=True)
class CleanArticle:
    """An article ready for language processing; ``text`` is what every offset points into."""

    title: str | None
    text: str
    boilerplate_chars: int


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def wide_encoding(sample: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding the start of some bytes shows (a byte-order mark, or NULs in every
    other byte), else None: such text cannot be cut into lines before it is decoded."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return None if name == "utf-8-sig" else name
    return _nul_encoding(sample) if b"\x00" in sample else None


def _nul_encoding(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' for BOM-less UTF-16 text (NULs in every other byte), else None."""
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even == 0:
        return "utf-16-le"
    if even > 0.3 * half and odd == 0:
        return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    return _too_many(len(sample) - len(sample.translate(None, _BINARY_CONTROLS)), len(sample))


def _too_many(controls: int, length: int) -> bool:
    """Binary: more than one control byte in twenty (a single one in a short text is a stray)."""
    return controls > max(1, length // 20)


_BINARY_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13))  # what makes bytes look binary
# NUL and control bytes that no text needs; tab, line feed, form feed, carriage return and the shifts and
# escape of ISO-2022 encodings (SO, SI, ESC) stay
STRAY_CONTROLS = bytes(b for b in range(32) if b not in b"\t\n\x0c\r\x0e\x0f\x1b")
_STRAY_CHARS = dict.fromkeys(STRAY_CONTROLS)
BINARY = "binary content (NUL or control bytes), not text"


class Decoded(NamedTuple):
    """Decoded text, the encoding used, and how many stray NUL/control bytes were removed."""

    text: str
    encoding: str
    removed: int = 0


def _decode_legacy(data: bytes) -> tuple[str, str]:
    """Non-UTF-8 bytes: Windows-1252 when nearly all bytes are ASCII (a '£' or 'é' here and there,
    where detectors guess wildly from a handful of bytes), else the detector's best guess."""
    high = sum(1 for b in data if b > 127)
    if high <= 0.03 * len(data):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise RejectedInput("undecodable bytes: no text encoding fits")
    return str(best), best.encoding


def _wide(data: bytes, codec: str, label: str) -> Decoded:
    """UTF-16 or UTF-32 text without its stray control characters; binary when they are too many."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise RejectedInput(f"undecodable bytes: looks like {label} but is not") from None
    kept = text.translate(_STRAY_CHARS)
    removed = len(text) - len(kept)
    if _too_many(removed, len(text)) or _looks_binary(text[:2048].encode("utf-8", "replace")):
        raise RejectedInput(BINARY)
    return Decoded(kept, label, removed)


def _narrow(data: bytes) -> Decoded:
    """Single- or multi-byte text without stray NUL/control bytes (trailing NUL padding included);
    binary when they are more than one byte in twenty."""
    body = data.rstrip(b"\x00")
    if not body.strip():
        raise RejectedInput("empty file (only NUL bytes)")
    kept = body.translate(None, STRAY_CONTROLS)
    if _looks_binary(body[:4096]) or _too_many(len(body) - len(kept), len(body)):
        raise RejectedInput(BINARY)
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = _decode_legacy(kept)
    fixed = fix_encoding(text)
    return Decoded(fixed, encoding + ("+ftfy" if fixed != text else ""), len(data) - len(kept))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# ftfy's mojibake pattern matches at most this many characters, and every match holds a non-ASCII one
# (tests/transforms/test_text.py reads both off the installed ftfy's pattern)
MOJIBAKE_WIDTH = 7


def may_be_mojibake(text: str) -> bool:
    """Whether ftfy's badness check (``ftfy.badness.is_bad``) could flag the text: it is run only on the
    stretches within ``MOJIBAKE_WIDTH`` - 1 characters of a non-ASCII one, where every match it can find
    lies. True may be a false alarm (a stretch's start read as the text's start); False is certain."""
    if text.isascii():
        return False
    reach = MOJIBAKE_WIDTH - 1
    start = end = -1
    for m in _NON_ASCII.finditer(text):
        a, b = max(0, m.start() - reach), m.end() + reach
        if a > end >= 0:
            if is_bad(text[start:end]):
                return True
            start = -1
        if start < 0:
            start = a
        end = b
    return is_bad(text[start:end])


def fix_encoding(text: str) -> str:
    """``ftfy.fix_encoding``, which leaves a text its badness check does not flag as it is: such a text
    (``may_be_mojibake`` False: most news) is returned without running it."""
    return ftfy.fix_encoding(text) if may_be_mojibake(text) else text


def decode_text(data: bytes) -> Decoded:
    """Decode bytes to text, naming the encoding used and counting the stray NUL/control bytes removed.

    Byte-order marks win, then BOM-less UTF-16, then strict UTF-8, then charset detection; mojibake
    is repaired. Raises RejectedInput for empty, binary or undecodable bytes.
    """
    if not data.strip():
        raise RejectedInput("empty file")
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _wide(data, name, name.replace("-sig", "-bom"))
    sample = data[:4096]
    utf16 = _nul_encoding(sample) if b"\x00" in sample else None
    return _wide(data, utf16, utf16) if utf16 else _narrow(data)


def decode(data: bytes) -> tuple[str, str]:
    """``decode_text`` without the count: the text and the encoding used."""
    return tuple(decode_text(data)[:2])


def repair_note(removed: int) -> str | None:
    """The one-line note a repaired input's ``files.reason`` carries, or None."""
    return f"removed {removed:,} NUL/control byte{'s' if removed != 1 else ''}" if removed else None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff]")
_BLANK_LINES = re.compile(r"\n\n\n+")
_ODD_SPACE = re.compile(r"[^\S \n]")  # whitespace but a space or a line break


# a prepare pass normalises each record twice (profiling its lines, then cleaning it): the second is the first's, kept
# (BBC politics: 17 ms of CPU a pass)
@functools.lru_cache(maxsize=8)
def normalise(text: str) -> str:
    """NFC, Unix line endings, no control characters, single spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    if _uneven(text):  # else every line is already its words joined by single spaces
        text = "\n".join(map(" ".join, map(str.split, text.split("\n"))))  # str.split's whitespace is the pattern's \s
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def _uneven(text: str) -> bool:
    """Whether some line of a text without control characters starts or ends with whitespace, or holds other
    whitespace than single spaces (a tab is the only such ASCII character left)."""
    return ("  " in text or " \n" in text or "\n " in text or text.startswith(" ") or text.endswith(" ")
            or ("\t" in text if text.isascii() else _ODD_SPACE.search(text) is not None))


BOILERPLATE_PATTERNS = [
    r"no comments yet\.?( why don[’']t you start the discussion\?)?",
    r"why don[’']t you start the discussion\?",
    r"leave a (reply|comment)( cancel reply)?",
    r"your email address will not be published\.?( required fields are marked \*)?",
    r"required fields are marked \*",
    r"(post|submit) comment",
    r"save my name, email, and website in this browser for the next time i comment\.?",
    r"(share|share this|share this article|share on \w+)( on (facebook|twitter|x|whatsapp|linkedin|email))*:?",
    r"(click|tap) here to (subscribe|share|comment|read more)\.?",
    r"(subscribe|sign up) (to|for) our (free )?(daily |weekly )?newsletters?\.?",
    r"(follow us|like us) on (facebook|twitter|x|instagram)\.?",
    r"we use cookies.{0,200}",
    r"(accept|reject) (all )?cookies",
    r"advertisement",
    r"(all rights reserved|copyright ©.{0,80})\.?",
    r"(read more|related articles?|related stories|recommended stories):?",
]
_BOILERPLATE = re.compile(r"^(?:" + "|".join(BOILERPLATE_PATTERNS) + r")$", re.IGNORECASE)
_COMMENT_FORM_START = re.compile(r"^(no comments yet|leave a (reply|comment))\b", re.IGNORECASE)


def is_boilerplate(line: str) -> bool:
    """True when the whole line is web furniture (comment form, share or cookie text)."""
    return bool(_BOILERPLATE.match(line.strip()))


def _looks_like_headline(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 30 and len(line) <= 200 and not line.endswith((".", ",", ";", ":"))


def clean(text: str, title: str | None = None, drop_lines: frozenset[str] = frozenset()) -> CleanArticle:
    """Normalise, take the headline as title, drop a repeated headline and web boilerplate.

    Args:
        title: the title from metadata (HTML, JSON); else the first line when it is a headline.
        drop_lines: lines known to repeat across the source's articles (see ``boilerplate``).

    Returns a CleanArticle whose text starts with the title (once) and keeps paragraphs
    separated by one blank line. Raises RejectedInput when nothing but boilerplate is left.
    """
    paragraphs = [p for p in normalise(text).split("\n") if p]
    removed = sum(len(p) for p in paragraphs if p in drop_lines)
    paragraphs = [p for p in paragraphs if p not in drop_lines]
    meta_title = normalise(title).replace("\n", " ") if title else None
    if meta_title:
        paragraphs.insert(0, meta_title)
    for i, para in enumerate(paragraphs):
        if _COMMENT_FORM_START.match(para) and all(
            is_boilerplate(p) or len(p) < 80 for p in paragraphs[i:]
        ):
            removed += sum(len(p) for p in paragraphs[i:])
            paragraphs = paragraphs[:i]
            break
    kept = []
    for para in paragraphs:
        if is_boilerplate(para):
            removed += len(para)
        else:
            kept.append(para)
    if not kept:
        raise RejectedInput("no article text after removing boilerplate")
    title = meta_title or (kept[0] if _looks_like_headline(kept[0]) and len(kept) > 1 else None)
    if title is not None:
        repeats = [p for p in kept[1:] if p == title]
        removed += sum(len(p) for p in repeats) - (len(title) if meta_title else 0)
        kept = [title] + [p for p in kept[1:] if p != title]
        if len(kept) == 1 and not meta_title:
            title = None
    return CleanArticle(title=title, text="\n\n".join(kept), boilerplate_chars=removed)


def article_id(text: str) -> str:
    """Content-derived id: the first 16 hex digits of SHA-256 of the normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sha256(data: bytes) -> str:
    """Hex SHA-256 of raw bytes (the file fingerprint)."""
    return hashlib.sha256(data).hexdigest()


def word_count(text: str) -> int:
    """Whitespace-separated words."""
    return len(text.split())


_MONTHS = "january february march april may june july august september october november december".split()
_MONTH = r"(?P<month>" + "|".join(m[:3] + r"(?:" + m[3:] + r")?" for m in _MONTHS) + r")\.?"
_DATELINES = [
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mnum>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(r"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)? " + _MONTH + r",? (?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r" (?P<day>[0-3]?\d)(?:st|nd|rd|th)?,? (?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
]


_YEAR = re.compile(r"(?:19|20)\d\d")
_PLACE_PREFIX = re.compile(r"[A-Z][A-Z .'’-]*,?\s*|")
_SHORT_LINE = 80  # characters: a date anywhere in a line this short is its dateline
_PLACE_CHARS = re.compile(r"[A-Z .'’,\s-]*")  # the characters a place prefix can hold


def _match_after_place(pattern: re.Pattern, line: str) -> re.Match | None:
    """``pattern.search(line)`` when its match starts where a place prefix could end, else None (a match further
    on is no dateline): tried only at those positions, not searched through a long paragraph."""
    stop = _PLACE_CHARS.match(line).end()
    if stop > _SHORT_LINE:  # a long run of capitals: searched at C speed instead, the caller checks its prefix
        return pattern.search(line)
    for start in range(stop + 1):
        if m := pattern.match(line, start):
            return m
    return None


def dateline(text: str, lines: int = 4) -> datetime | None:
    """The date a text states in its dateline, as UTC midnight.

    Looks at the first few lines only: anywhere in a short line ("LONDON 1996-08-30",
    "Published 25 January 2024"), or at the very start of a paragraph ("WASHINGTON, Jan. 5, 2023
    (Reuters) - ..."); a date inside running text is what the story is about, not when it ran.
    """
    for line in _first_lines(text, lines):
        if not _YEAR.search(line):  # every dateline pattern holds a year
            continue
        short = len(line) <= _SHORT_LINE
        for pattern in _DATELINES:
            m = pattern.search(line) if short else _match_after_place(pattern, line)
            if m and (short or _PLACE_PREFIX.fullmatch(line[: m.start()])) and (found := _matched_date(m)):
                return found
    return None


def _matched_date(m: re.Match) -> datetime | None:
    """The UTC date a dateline pattern's match names, or None when it names no real day (31 February)."""
    g = m.groupdict()
    month = int(g["mnum"]) if g.get("mnum") else [x[:3] for x in _MONTHS].index(g["month"].lower()[:3]) + 1
    try:
        return datetime(int(g["year"]), month, int(g["day"]), tzinfo=timezone.utc)
    except ValueError:
        return None


def _first_lines(text: str, n: int) -> list[str]:
    """The first ``n`` non-empty lines of a text, without splitting all of it."""
    out: list[str] = []
    start = 0
    while len(out) < n and start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end > start:
            out.append(text[start:end])
        start = end + 1
    return out
