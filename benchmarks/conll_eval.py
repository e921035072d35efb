"""Entity-level precision, recall and F1 of newslake's mentions against CoNLL-2003 gold spans.

Usage: python benchmarks/conll_eval.py [PATH]   (default ../shared/corpora/conll2003/eng.testa)

Each -DOCSTART- document becomes one article: tokens joined by single spaces, one sentence per
line. OntoNotes labels map to CoNLL's: PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC, the other name
labels->MISC. "stock" scores the model's own entities on the text as it is (no re-casing);
"newslake" scores the mentions table (all-capitals lines re-cased for the recogniser, then the
dictionary, title, parenthesis, sports and label corrections of transforms/linking.py).
"""

from __future__ import annotations

import os

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.ingest import annotator  # noqa: E402
from flows.settings import Settings  # noqa: E402
from transforms.linking import NAME_LABELS  # noqa: E402
from transforms.nlp import analyse_doc  # noqa: E402

DEFAULT = Path(os.environ.get("NEWSLAKE_CORPORA", ROOT.parent / "shared" / "corpora")) / "conll2003" / "eng.testa"
TO_CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
            "NORP": "MISC", "EVENT": "MISC", "PRODUCT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC"}


def read_conll(path: Path) -> list[tuple[str, set[tuple[int, int, str]]]]:
    """Documents as (text, gold spans {(start_char, end_char, type)})."""
    docs, sentences, sentence = [], [], []

    def flush_doc():
        if sentences:
            docs.append(build(sentences))
            sentences.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            if sentence:
                sentences.append(sentence)
                sentence = []
            flush_doc()
        elif not line.strip():
            if sentence:
                sentences.append(sentence)
                sentence = []
        else:
            parts = line.split()
            sentence.append((parts[0], parts[-1]))
    if sentence:
        sentences.append(sentence)
    flush_doc()
    return docs


def build(sentences: list[list[tuple[str, str]]]) -> tuple[str, set[tuple[int, int, str]]]:
    text, gold, pos = [], set(), 0
    for sentence in sentences:
        current = None
        for i, (token, tag) in enumerate(sentence):
            start = pos
            text.append(token)
            pos += len(token)
            kind = tag[2:] if tag != "O" else None
            begins = tag.startswith("B-") or (kind and (current is None or current[2] != kind))
            if current and (kind is None or begins):
                gold.add(tuple(current))
                current = None
            if kind and current is None:
                current = [start, pos, kind]
            elif kind:
                current[1] = pos
            text.append(" " if i < len(sentence) - 1 else "\n")
            pos += 1
        if current:
            gold.add(tuple(current))
    return "".join(text).rstrip("\n"), gold


def score(pred: Counter, gold: Counter) -> dict:
    tp = sum((pred & gold).values())
    p = tp / sum(pred.values()) if pred else 0.0
    r = tp / sum(gold.values()) if gold else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        sys.exit(f"CoNLL file {path} is absent")
    docs = read_conll(path)
    ann = annotator(Settings.load())
    t0 = time.perf_counter()
    gold, stock, ours = Counter(), Counter(), Counter()
    per_type = {k: (Counter(), Counter()) for k in ("PER", "ORG", "LOC", "MISC")}
    recasing, ann.nlp.tokenizer = ann.nlp.tokenizer, getattr(ann.nlp.tokenizer, "tokenizer", ann.nlp.tokenizer)
    for n, doc in enumerate(ann.nlp.pipe(t for t, _ in docs)):  # the stock model reads the text as it is
        stock.update((n, e.start_char, e.end_char, TO_CONLL[e.label_]) for e in doc.ents if e.label_ in NAME_LABELS)
    ann.nlp.tokenizer = recasing
    for n, ((_text, spans), doc) in enumerate(zip(docs, ann.nlp.pipe(t for t, _ in docs))):
        gold.update((n, *s) for s in spans)
        mentions = analyse_doc(doc, ann.linker).mentions
        ours.update((n, m["start_char"], m["end_char"], TO_CONLL[m["label"]]) for m in mentions)
        for m in mentions:
            per_type[TO_CONLL[m["label"]]][0][(n, m["start_char"], m["end_char"], TO_CONLL[m["label"]])] += 1
        for s in spans:
            per_type[s[2]][1][(n, *s)] += 1
    print(f"{path.name}: {len(docs)} documents, {sum(gold.values())} gold entities, {time.perf_counter() - t0:.1f} s")
    print("stock model :", score(stock, gold))
    print("newslake    :", score(ours, gold))
    for kind, (p, g) in per_type.items():
        print(f"  {kind:5}", score(p, g))


if __name__ == "__main__":
    main()
