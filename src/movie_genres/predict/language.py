"""Overviews not in English: every model was trained on English overviews, so its scores of another
language's text mean little. Identified offline by py3langid (langid.py's model, shipped in the wheel)."""

from __future__ import annotations

from functools import cache
from typing import Any

# Below this many words the identification is unreliable; above this probability it is clear. On the
# bundled table these flag exactly its 2 overviews not in English (a French and a Spanish one) of 4,798.
MIN_WORDS = 5
MIN_PROBABILITY = 0.95


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def clearly_not_english(text: str) -> str | None:
    """The language code (ISO 639-1) of a text clearly in another language than English, else None."""
    if len(text.split()) < MIN_WORDS:
        return None
    language, probability = _identifier().classify(text)
    return str(language) if language != "en" and probability >= MIN_PROBABILITY else None


def language_warning(language: str) -> str:
    return (
        f"the overview looks like language `{language}`, not English: the models were trained on English "
        "overviews, so their scores may not reflect it; give the plot summary in English"
    )
