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
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str, sample_chars: int = 600) -> str:
    """ISO 639-1 code of the text's language ('en', 'fr', ...), or 'und' when undetermined
    (fewer than MIN_WORDS words: too short to tell), from its first ``sample_chars`` characters."""
    if len(text.split()) < MIN_WORDS:
        return "und"
    sample = _WORD.findall(text[:sample_chars].lower())
    if len(sample) >= ENGLISH_MIN_SAMPLE and sum(w in ENGLISH_WORDS for w in sample) >= ENGLISH_SHARE * len(sample):
        return "en"
    language = _detector().detect_language_of(text[:sample_chars])
    return language.iso_code_639_1.name.lower() if language is not None else "und"
