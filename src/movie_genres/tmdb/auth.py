"""TMDB credentials from the environment or a git-ignored `.env`, and keeping them out of every output.

A v3 API key travels as the `api_key` query parameter, a v4 read access token as a bearer header.
Neither is ever a parameter, a cache key or part of a message: messages name requests by endpoint,
and the one library that logs URLs (urllib3, at DEBUG) goes through a filter that masks secrets.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from movie_genres.errors import UserError

API_KEY_VARIABLE = "TMDB_API_KEY"
TOKEN_VARIABLE = "TMDB_READ_ACCESS_TOKEN"
DOTENV = Path(".env")
MASK = "***"
SETTINGS_URL = "https://www.themoviedb.org/settings/api"


class CredentialsError(UserError, RuntimeError):
    """No usable TMDB credentials."""


@dataclass(frozen=True)
class Credentials:
    """One TMDB secret and how to send it; its repr never shows the secret."""

    variable: str
    secret: str = field(repr=False)

    def query(self) -> dict[str, str]:
        return {"api_key": self.secret} if self.variable == API_KEY_VARIABLE else {}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.variable == TOKEN_VARIABLE else {}

    def refused_message(self, answer: str) -> str:
        """What to tell the user when TMDB refuses these credentials (`answer`: TMDB's status and message)."""
        if self.variable == API_KEY_VARIABLE:
            kind = "v3 API key"
            other = (
                f"A v4 read access token (the long `eyJ...` string) goes in {TOKEN_VARIABLE}, "
                f"with {API_KEY_VARIABLE} unset."
            )
        else:
            kind = "v4 read access token"
            other = f"A v3 API key (32 hex characters) goes in {API_KEY_VARIABLE} instead."
        return (
            f"TMDB refused the credentials in {self.variable} ({answer}), so the run stopped at the first refusal. "
            f"Put your {kind} from {SETTINGS_URL} in {self.variable} (exported, or in {DOTENV}), then run again. "
            f"{other}"
        )


def credentials_from_env(env: Mapping[str, str] | None = None, dotenv: Path = DOTENV) -> Credentials:
    """The v3 key if one is set, else the v4 token; the environment wins over `.env`."""
    sources = [os.environ if env is None else env, {k: v for k, v in dotenv_values(dotenv).items() if v}]
    for source in sources:
        for variable in (API_KEY_VARIABLE, TOKEN_VARIABLE):
            secret = source.get(variable, "").strip()
            if secret:
                mask_in_logs(secret)
                return Credentials(variable, secret)
    raise CredentialsError(
        f"neither {API_KEY_VARIABLE} (a v3 API key) nor {TOKEN_VARIABLE} (a v4 read access token) is set: "
        f"the `tmdb` source needs one ({SETTINGS_URL}). Export it, or put "
        f"`{API_KEY_VARIABLE}=...` in {dotenv} (git-ignored), or set fetch_list.source: bundled."
    )


class _MaskSecrets(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, ()
        return True


_mask = _MaskSecrets()
# urllib3 logs each request line, query string included, at DEBUG.
logging.getLogger("urllib3.connectionpool").addFilter(_mask)


def mask_in_logs(secret: str) -> None:
    _mask.secrets.add(secret)
