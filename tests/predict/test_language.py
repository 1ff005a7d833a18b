"""Overviews not in English are told apart offline, on the bundled table's real overviews."""

from __future__ import annotations

from movie_genres.predict.language import MIN_WORDS, clearly_not_english


def test_the_bundled_overviews_not_in_english_are_found_and_no_english_one(bundled):
    movies, _ = bundled
    overviews = movies.set_index("title")["overview"].dropna().astype(str)
    flagged = {title: clearly_not_english(text) for title, text in overviews.items() if clearly_not_english(text)}
    # The table's only overviews in another language (read by a person): French and Spanish.
    assert flagged == {"Camping Sauvage": "fr", "Saving Private Perez": "es"}


def test_short_texts_are_not_judged():
    short = "Un homme seul."
    assert len(short.split()) < MIN_WORDS and clearly_not_english(short) is None
    assert clearly_not_english("Un jeune sorcier découvre son destin dans une école de magie.") == "fr"
