"""B-cubed clustering of newslake's ``actor_id`` against a hand-checked linking set.

Usage: python benchmarks/linking_eval.py [SET.csv]   (default benchmarks/linking_set.csv)

The set (``benchmarks/linking_set.csv``) lists gold mentions by reference, never by copied text:
``corpus`` (``bbc``: a file under ``<corpora>/bbc``; ``conll``: the n-th -DOCSTART- document of
``<corpora>/conll2003/eng.testa``, 0-based, as ``benchmarks/conll_eval.py`` builds its text), ``doc``,
``start`` and ``end`` (character offsets into that text), ``surface`` (the text at those offsets, checked
on load), ``gold`` (one key per real-world entity across the whole set: a readable name) and ``kind``
(place, person, organisation or other: the figures are also given per kind).

The real pipeline (``flows.ingest.annotator``) analyses each document; a gold mention is matched to the
system mention with exactly its span and takes that mention's ``actor_id``. A gold mention with no such
mention, or whose mention has no actor, is a singleton cluster of its own (missing it is not a free
pass). The baseline puts every mention with the same surface form in one cluster. Both are scored on
the same gold mentions with B-cubed (Bagga and Baldwin, 1998): per mention, precision is the share of
its system cluster that shares its gold key, recall the share of its gold cluster that shares its
system cluster; the figures are the means over mentions.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPORA = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora"))
DEFAULT = ROOT / "benchmarks" / "linking_set.csv"
FIELDS = ("corpus", "doc", "start", "end", "surface", "gold", "kind")


def bcubed(gold: Mapping[Hashable, Hashable], system: Mapping[Hashable, Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering of the mentions of ``gold``.

    Args:
        gold: mention -> its gold cluster key.
        system: mention -> its system cluster key; every mention of ``gold`` must have one.
    """
    if not gold:
        return 0.0, 0.0, 0.0
    by_gold: dict[Hashable, set] = defaultdict(set)
    by_system: dict[Hashable, set] = defaultdict(set)
    for m, key in gold.items():
        by_gold[key].add(m)
        by_system[system[m]].add(m)
    p = r = 0.0
    for m in gold:
        g, s = by_gold[gold[m]], by_system[system[m]]
        both = len(g & s)
        p += both / len(s)
        r += both / len(g)
    p, r = p / len(gold), r / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def system_clusters(gold: Mapping[Hashable, str], found: Mapping[Hashable, str | None]) -> dict[Hashable, Hashable]:
    """The system's cluster of every gold mention: its matched ``actor_id``, else a singleton of its own."""
    return {m: found[m] if found.get(m) else ("missed", m) for m in gold}


def error_clusters(gold: Mapping[Hashable, str], system: Mapping[Hashable, Hashable], surface: Mapping[Hashable, str],
                   top: int = 8) -> tuple[list[str], list[str]]:
    """The largest impure system clusters (several gold entities under one actor) and the gold entities
    split over most clusters, each as one readable line."""
    by_system: dict[Hashable, list] = defaultdict(list)
    by_gold: dict[str, list] = defaultdict(list)
    for m in gold:
        by_system[system[m]].append(m)
        by_gold[gold[m]].append(m)
    merged = []
    for key, ms in by_system.items():
        keys = Counter(gold[m] for m in ms)
        if len(keys) > 1:
            wrong = len(ms) - keys.most_common(1)[0][1]
            merged.append((wrong, len(ms), f"{key}: " + ", ".join(f"{k} x{n}" for k, n in keys.most_common())))
    split = []
    for key, ms in by_gold.items():
        parts = Counter("missed" if isinstance(system[m], tuple) else system[m] for m in ms)
        if len(parts) > 1 or "missed" in parts:
            forms = Counter(surface[m] for m in ms)
            split.append((len(ms) - parts.most_common(1)[0][1], len(ms), f"{key}: " + ", ".join(f"{k} x{n}" for k, n in parts.most_common())
                          + "  [" + ", ".join(f"{f!r} x{n}" for f, n in forms.most_common(4)) + "]"))
    return ([line for *_, line in sorted(merged, key=lambda t: (-t[0], -t[1], t[2]))[:top]],
            [line for *_, line in sorted(split, key=lambda t: (-t[0], -t[1], t[2]))[:top]])


def load_set(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["start"], r["end"] = int(r["start"]), int(r["end"])
    return rows


def doc_text(corpus: str, doc: str, corpora: Path, conll: list | None) -> str:
    if corpus == "bbc":
        raw = (corpora / "bbc" / doc).read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    if corpus == "conll":
        return conll[int(doc)][0]
    raise ValueError(f"unknown corpus {corpus!r}")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not (CORPORA / "bbc").exists() or not (CORPORA / "conll2003" / "eng.testa").exists():
        sys.exit(f"corpora absent under {CORPORA} (set NEWSLAKE_CORPORA)")
    from benchmarks.conll_eval import read_conll
    from flows.ingest import annotator
    from flows.settings import Settings

    rows = load_set(path)
    conll = read_conll(CORPORA / "conll2003" / "eng.testa")
    docs = sorted({(r["corpus"], r["doc"]) for r in rows})
    texts = {d: doc_text(*d, CORPORA, conll) for d in docs}
    gold, surface, kinds = {}, {}, {}
    for r in rows:
        m = (r["corpus"], r["doc"], r["start"], r["end"])
        got = texts[(r["corpus"], r["doc"])][r["start"] : r["end"]]
        if got != r["surface"]:
            sys.exit(f"{path.name}: {m} reads {got!r}, not {r['surface']!r}: the corpus differs from the one the set was made on")
        gold[m], surface[m], kinds[m] = r["gold"], r["surface"], r["kind"]
    ann = annotator(Settings.load())
    found: dict[tuple, str | None] = {}
    for d, analysis in zip(docs, ann.analyse(texts[d] for d in docs)):
        for mention in analysis.mentions:
            found[(*d, mention["start_char"], mention["end_char"])] = mention["actor_id"]
    system = system_clusters(gold, found)
    raw = {m: surface[m] for m in gold}
    matched = sum(1 for m in gold if m in found)
    linked = sum(1 for m in gold if found.get(m))
    print(f"{path.name}: {len(gold)} gold mentions, {len(set(gold.values()))} entities, {len(docs)} documents; "
          f"{matched} matched by span, {linked} of them with an actor")
    for name, clusters in (("actor_id", system), ("raw string", raw)):
        p, r, f = bcubed(gold, clusters)
        print(f"B-cubed {name:10}: precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    for kind in sorted({r["kind"] for r in rows}):
        part = {m: k for m, k in gold.items() if kinds[m] == kind}
        ours, base = bcubed(part, system), bcubed(part, raw)
        print(f"  {kind:12} {len(part):4} mentions: actor_id F1 {ours[2]:.3f}, raw string F1 {base[2]:.3f}")
    merged, split = error_clusters(gold, system, surface, int(os.environ.get("LINKING_TOP", "8")))
    print("largest merges (one actor, several entities):")
    print("\n".join(f"  {line}" for line in merged) or "  none")
    print("largest splits (one entity, several actors or missed):")
    print("\n".join(f"  {line}" for line in split) or "  none")


if __name__ == "__main__":
    main()
