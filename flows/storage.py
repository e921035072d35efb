"""Inputs in object storage (``s3://bucket/key``) through fsspec and s3fs: list, stat, open and read objects.

Credentials and the endpoint come from botocore's own chain (the ``AWS_*`` environment variables, then
``~/.aws/config`` and ``credentials``; ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3`` for an
S3-compatible store); nothing here adds settings of its own. Errors become :class:`StorageError` with
one line naming the URL and the cause.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from s3fs import S3FileSystem

    from transforms.batch import KnownFile, RawFile

SCHEMES = ("s3://",)
BLOCK_BYTES = 8 * 1024 * 1024  # one ranged GET per block when an object is read as a stream
_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                    "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


class StorageError(RuntimeError):
    """Object storage cannot be used for a URL: no credentials, no such bucket, access denied, unreachable."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD request tells of an object: its size, ETag (without quotes) and last modification."""

    url: str
    size: int
    etag: str | None
    modified: str | None


def is_remote(path: str) -> bool:
    """Whether a path names object storage rather than the local file system."""
    return path.lower().startswith(SCHEMES)


def filesystem() -> S3FileSystem:
    """The S3 file system for the current AWS environment (one per process and environment: fsspec's
    are not fork-safe, and Dask workers are forked from the run's process)."""
    return _filesystem(os.getpid(), tuple(os.environ.get(v) for v in _CREDENTIAL_VARS))


@lru_cache(maxsize=4)
def _filesystem(pid: int, environment: tuple) -> S3FileSystem:
    from s3fs import S3FileSystem

    # listings are not cached: a long-lived process (the scheduled flow) must see new objects
    return S3FileSystem(use_listings_cache=False, skip_instance_cache=True)


def _error(url: str, e: BaseException) -> StorageError:
    """One line on why object storage failed for ``url``."""
    name = type(e).__name__
    text = " ".join(str(e).split())
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        cause = "no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
    elif isinstance(e, PermissionError) or "AccessDenied" in text or "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text:
        cause = f"access denied ({text or name})"
    elif name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError", "ConnectionError") or "Could not connect" in text:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "the default AWS endpoint"
        cause = f"cannot reach {endpoint} ({text or name})"
    elif "NoSuchBucket" in text or "bucket does not exist" in text.lower():
        cause = "no such bucket"
    else:
        cause = text or name
    return StorageError(f"cannot use {url}: {cause}"[:400])


def _url(path: str) -> str:
    return "s3://" + path.split("://", 1)[-1]


def _bucket(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _head_bucket(fs: S3FileSystem, url: str) -> None:
    """Raise StorageError unless the URL's bucket exists and these credentials may list it."""
    try:
        fs.call_s3("head_bucket", Bucket=_bucket(url))
    except FileNotFoundError:
        raise StorageError(f"cannot use {url}: no such bucket") from None


def list_objects(url: str) -> tuple[list[str], set[str]]:
    """The objects a URL names, and which of them it names directly (as a local path or glob names a file):
    a single object, every object under a prefix (a folder, searched recursively), or those matching a
    glob (``s3://bucket/2024-*/*.jsonl``; a prefix it matches is searched). Raises FileNotFoundError when
    the URL names nothing, StorageError when the store cannot be used."""
    infos, named = list_infos(url)
    return sorted(infos), named


def list_infos(url: str) -> tuple[dict[str, ObjectInfo], set[str]]:
    """As :func:`list_objects`, with each object's size, ETag and last modification from the listing itself."""
    fs = filesystem()
    try:
        _head_bucket(fs, url)
        if glob.has_magic(url):
            found = fs.glob(url, detail=True)
            if not found:
                raise FileNotFoundError(url)
            objects = {k: v for k, v in found.items() if v.get("type") != "directory"}
            named = {_url(k) for k in objects}
            for k, v in found.items():
                if v.get("type") == "directory":
                    objects |= fs.find(k, detail=True)
        elif fs.isfile(url):
            objects, named = {url: fs.info(url)}, {_url(url)}
        else:
            bucket_only = url.rstrip("/") == f"s3://{_bucket(url)}"
            objects, named = fs.find(url if bucket_only else url.rstrip("/") + "/", detail=True), set()
    except (FileNotFoundError, StorageError):
        raise
    except Exception as e:  # botocore's and aiohttp's errors share no base class worth naming
        raise _error(url, e) from None
    if not objects:
        raise FileNotFoundError(url)
    return {_url(k): _object_info(_url(k), v) for k, v in objects.items()}, named


def static_prefix(url: str) -> str:
    """The part of a URL before its first glob character, up to the last ``/`` (the URL itself without one)."""
    if not glob.has_magic(url):
        return url
    head = url[: min(url.index(c) for c in "*?[" if c in url)]
    return head[: head.rindex("/") + 1]


def object_exists(url: str) -> bool:
    """Whether one object exists (a HEAD request; errors raise StorageError)."""
    try:
        return filesystem().info(url).get("type") == "file"
    except FileNotFoundError:
        return False
    except Exception as e:
        raise _error(url, e) from None


def present(url: str) -> list[str]:
    """The stored paths of every object a URL names now, whatever their names (none when it names nothing)."""
    from transforms.paths import escape_path

    try:
        return [escape_path(o) for o in list_objects(url)[0]]
    except FileNotFoundError:
        return []


def exists(url: str) -> bool:
    """Whether a URL names an object, a non-empty prefix or a glob matching something, asking for one key
    at most unless it is a glob (errors raise StorageError)."""
    if glob.has_magic(url):
        try:
            list_objects(url)
        except FileNotFoundError:
            return False
        return True
    fs = filesystem()
    try:
        _head_bucket(fs, url)
        key = url.split("://", 1)[1].partition("/")[2]
        if key and fs.isfile(url):
            return True
        prefix = key.rstrip("/") + "/" if key else ""
        listed = fs.call_s3("list_objects_v2", Bucket=_bucket(url), Prefix=prefix, MaxKeys=1)
    except StorageError:
        raise
    except Exception as e:
        raise _error(url, e) from None
    return bool(listed.get("KeyCount") or listed.get("Contents"))


def stat(url: str) -> ObjectInfo:
    """An object's size, ETag and last modification (one HEAD request)."""
    try:
        info = filesystem().info(url)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise _error(url, e) from None
    return _object_info(url, info)


def _object_info(url: str, info: dict) -> ObjectInfo:
    modified = info.get("LastModified")
    return ObjectInfo(url, int(info.get("size") or 0), (info.get("ETag") or "").strip('"') or None,
                      modified.isoformat() if hasattr(modified, "isoformat") else (str(modified) if modified else None))


def open_object(url: str) -> BinaryIO:
    """An object as a binary stream read in blocks (ranged GETs bound to the ETag of its HEAD, so an object
    replaced while it is read fails the read instead of mixing two versions). The stream's ``details``
    hold the HEAD's answer."""
    try:
        return filesystem().open(url, "rb", block_size=BLOCK_BYTES, cache_type="readahead")
    except FileNotFoundError:
        raise
    except Exception as e:
        raise _error(url, e) from None


class NotRegularFile(OSError):
    """A local input that is no regular file (a folder, a named pipe, a socket, a device): not read."""

    def __init__(self, path: str, mode: int):
        super().__init__(f"not a regular file: {path}")
        self.mode = mode


def open_input(path: str) -> BinaryIO:
    """Any input as a binary stream, by its stored path (``transforms.paths``): an object in storage, read
    in blocks, or a local regular file (``open_local``). Raises FileNotFoundError, NotRegularFile,
    StorageError or OSError."""
    return open_object(path) if is_remote(path) else open_local(path)[0]


def open_local(path: str) -> tuple[BinaryIO, os.stat_result]:
    """A local regular file by its stored path, as a binary stream with its status when opened. Opened
    without blocking, so a named pipe swapped in for a file never hangs the run: anything but a regular
    file raises NotRegularFile. Raises FileNotFoundError or OSError."""
    import stat as stat_module

    from transforms.paths import unescape_path

    local = os.fsdecode(unescape_path(path))
    fd = os.open(local, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat_module.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFile(local, info.st_mode)
    return os.fdopen(fd, "rb"), info


def unchanged(info: ObjectInfo, known: KnownFile | None) -> bool:
    """Whether the lake holds this object as it is now: the same ETag and size as last read."""
    return bool(known and info.etag and known.etag == info.etag and known.size == info.size)


def read_object(url: str, max_bytes: int, known: KnownFile | None = None) -> RawFile:
    """An object's bytes as a RawFile, or the reason they cannot be had; an object whose ETag and size
    match what the lake last read is not downloaded (its account repeats the known hash)."""
    from transforms.batch import RawFile

    try:
        with open_object(url) as fh:
            info = _object_info(url, fh.details)
            if unchanged(info, known):
                return RawFile(url, info.size, None, sha256=known.sha256, etag=info.etag)
            data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                h = hashlib.sha256(data)
                while chunk := fh.read(BLOCK_BYTES):
                    h.update(chunk)
                return RawFile(url, info.size, None, f"larger than the {max_bytes:,}-byte limit (NEWSLAKE_MAX_FILE_BYTES)",
                               h.hexdigest(), etag=info.etag)
    except FileNotFoundError:
        return RawFile(url, 0, None, "cannot read: removed after the run found it")
    except StorageError as e:
        return RawFile(url, 0, None, str(e).replace(f"cannot use {url}: ", "cannot read: "))
    except Exception as e:
        if "PreconditionFailed" in str(e) or "At least one of the pre-conditions" in str(e):
            return RawFile(url, 0, None, "cannot read: changed while being read (it is read again next run)")
        return RawFile(url, 0, None, str(_error(url, e)).replace(f"cannot use {url}: ", "cannot read: "))
    return RawFile(url, len(data), data, etag=info.etag)
