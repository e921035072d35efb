"""Language identification (lingua, offline, all spoken languages)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_spoken_languages().with_low_accuracy_mode().build()


MIN_WORDS = 8
# The commonest English function words. In news English about 30% of the words are among them (BBC:
# median 0.31, 97% of articles above 0.2); in French, German, Spanish, Dutch or Tagalog prose, which
# share a few ("a", "in", "on", "at"), under 0.1. At ENGLISH_SHARE the text is English without asking
# the model (which costs milliseconds an article); below it, lingua decides.
ENGLISH_WORDS = frozenset(
    "the of and to in a is that for on was with he it as at by said his be from are have has were this "
    "but not an they which".split()
)
ENGLISH_SHARE = 0.2
ENGLISH_MIN_SAMPLE = 30
# Between 0.1 and ENGLISH_SHARE (English under headlines and lists, or with many other words in between:
# 22% of the records of benchmarks/make_dump.py, 20 of 2,225 BBC articles) the text is still English
# without the model when words no other language uses often make ENGLISH_ONLY_SHARE of it, at least four
# times as many as the commonest function words of other Latin-script languages (so a French article
# quoting an English sentence goes to the model).
ENGLISH_ONLY = frozenset("the and that with which this from were been they their said would there these".split())
ENGLISH_ONLY_SHARE = 0.04
FOREIGN_WORDS = frozenset(
    """le la les des du une et est dans pour qui pas sur au aux ce cette il elle ont sont avec par à
    der die das und ist nicht mit den von zu sich auf dem ein eine wird sind auch bei für
    el los las del y que por para una es como más
    il di che della dei delle gli sono nel alla è
    os da do das dos em um não na no
    het een van dat op te zijn voor niet aan er om ook als
    och att det som för är på av med till har ett inte og ikke til af
    ang ng mga sa si ay
    yang dan untuk dengan itu ini dari dalam pada
    nie jest się że w z
    și în cu pe care din pentru""".split()
) - ENGLISH_WORDS - ENGLISH_ONLY - frozenset("a an as at be by do he in is it no on so to us we".split())
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str, sample_chars: int = 600) -> str:
    """ISO 639-1 code of the text's language ('en', 'fr', ...), or 'und' when undetermined
    (fewer than MIN_WORDS words: too short to tell), from its first ``sample_chars`` characters."""
    if len(text.split(maxsplit=MIN_WORDS)) < MIN_WORDS:  # counts the first words only
        return "und"
    sample = _WORD.findall(text[:sample_chars].lower())
    if len(sample) >= ENGLISH_MIN_SAMPLE and _english(sample):
        return "en"
    language = _detector().detect_language_of(text[:sample_chars])
    return language.iso_code_639_1.name.lower() if language is not None else "und"


def _english(sample: list[str]) -> bool:
    """Whether a sample of lower-cased words is English by its function words alone (see ENGLISH_SHARE)."""
    common = sum(map(ENGLISH_WORDS.__contains__, sample))
    if common >= ENGLISH_SHARE * len(sample):
        return True
    if common < 0.1 * len(sample):
        return False
    only = sum(map(ENGLISH_ONLY.__contains__, sample))
    return only >= ENGLISH_ONLY_SHARE * len(sample) and only >= 4 * sum(map(FOREIGN_WORDS.__contains__, sample))
