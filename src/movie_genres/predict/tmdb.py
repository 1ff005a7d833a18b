"""A movie to predict, fetched from TMDB by id or title (needs TMDB credentials)."""

from __future__ import annotations

from movie_genres.params import FetchPostersParams, load_section, read_params
from movie_genres.predict.movie import MovieInput, PredictError
from movie_genres.tmdb.client import detail_fields, tmdb_from_params
from movie_genres.tmdb.posters import check_downloaded_image


def movie_from_tmdb(movie_id: int | None, title: str | None) -> MovieInput:
    """Overview, details and poster of a TMDB movie, by id or by the best title match."""
    raw = read_params()
    client = tmdb_from_params(raw)
    if movie_id is None:
        matches = [m for m in client.search(title or "") if isinstance(m.get("id"), int)]
        if not matches:
            raise PredictError(f"no TMDB movie matches {title!r}")
        movie_id = matches[0]["id"]
    answer = client.details(movie_id)
    poster = None
    if answer.get("poster_path"):
        base = client.poster_url_base(load_section(raw, "fetch_posters", FetchPostersParams).tmdb_poster_size)
        poster = client.http.get_bytes(base + answer["poster_path"], check_downloaded_image)
    details = {**detail_fields(answer), "release_date": str(answer.get("release_date") or "")}
    return MovieInput(str(answer.get("title") or ""), str(answer.get("overview") or "") or None, poster, details)
