"""Language identification (lingua, offline, all spoken languages)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_spoken_languages().with_low_accuracy_mode().build()


MIN_WORDS = 8


def detect_language(text: str, sample_chars: int = 2000) -> str:
    """ISO 639-1 code of the text's language ('en', 'fr', ...), or 'und' when undetermined
    (fewer than MIN_WORDS words: too short to tell)."""
    if len(text.split()) < MIN_WORDS:
        return "und"
    language = _detector().detect_language_of(text[:sample_chars])
    return language.iso_code_639_1.name.lower() if language is not None else "und"
