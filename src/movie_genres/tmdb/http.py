"""HTTP to TMDB: one shared rate limit, bounded retries, checked answers, an on-disk cache.

What is retried, and how:
- 429: after `Retry-After` (seconds or an HTTP date), else exponential back-off with jitter; every
  worker pauses, since the limit is TMDB's and shared;
- 5xx, dropped or reset connections, timeouts, a body cut short, an answer that fails its check
  (malformed JSON, a truncated image): exponential back-off with jitter, at most `max_retries` times;
- a connection that cannot even be made (refused, a name that does not resolve): two quick retries,
  then the whole run stops (TmdbUnreachable), naming the host;
- 401 or 403 on an API request: the credentials were refused; the whole run stops at once
  (TmdbAuthRefused), naming the variable that holds them;
- any other 4xx fails the request at once, with TMDB's `status_message` (TmdbNotFound for a 404).
A request that still fails after its retries raises TmdbUnavailable: a later run may well succeed.
Once the run has stopped, no worker sends another request. Messages name a request by its path and
non-secret query, never by its URL: the URL may carry the key.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InvalidHeader, NameResolutionError, NewConnectionError
from urllib3.util import Retry

from movie_genres.errors import UserError
from movie_genres.tmdb.auth import Credentials
from movie_genres.tmdb.rate_limit import RateLimiter
from movie_genres.tmdb.request_cache import RequestCache, request_key

log = logging.getLogger(__name__)

T = TypeVar("T")

# A Retry-After longer than this is capped, so a misbehaving proxy cannot park the run for a day.
RETRY_AFTER_CAP_S = 120.0


class TmdbError(UserError, RuntimeError):
    """TMDB could not be reached, refused the request, or answered something unusable."""


class TmdbRequestFailed(TmdbError):
    """One request failed; `status` is the HTTP status when there was one, `reason` the short why."""

    def __init__(self, message: str, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message


class TmdbRefused(TmdbRequestFailed):
    """TMDB answered the request with a 4xx: asking again gives the same answer."""


class TmdbNotFound(TmdbRefused):
    """HTTP 404: TMDB has no such movie or poster (a fact to record, not a failure to retry)."""


class TmdbUnavailable(TmdbRequestFailed):
    """Still failing after every retry (5xx, 429, timeouts, broken connections or answers): a later run may succeed."""


class TmdbStop(TmdbError):
    """A failure every later request would share: the run stops at once and sends nothing more."""


class TmdbAuthRefused(TmdbStop):
    """TMDB refused the credentials (401 or 403)."""


class TmdbUnreachable(TmdbStop):
    """No connection could be made to a host (refused, or its name does not resolve)."""


class BadAnswer(Exception):
    """An HTTP 200 whose body is not what was asked for (retried: it is usually a transient glitch)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # A host that refuses connections, or whose name does not resolve, is tried this many more times, quickly.
    connect_retries: int = 2
    connect_backoff_max_s: float = 1.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential back-off with "equal jitter": half fixed, half random, so workers spread out."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**retry)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def connect_backoff(self, retry: int, rng: random.Random) -> float:
        return min(self.connect_backoff_max_s, self.backoff(retry, rng))


@dataclass(frozen=True)
class _Retry:
    """Why an attempt failed in a way worth retrying; `connect` is set when no connection could be made."""

    problem: str
    retry_after_s: float | None = None
    throttled: bool = False
    connect: str | None = None


class TmdbHttp:
    """Thread-safe GETs to TMDB's API and image servers, shared by all workers of a run."""

    def __init__(
        self,
        api_base_url: str,
        credentials: Credentials,
        limiter: RateLimiter,
        retry: RetryPolicy = RetryPolicy(),
        timeout_s: float = 10.0,
        cache: RequestCache | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.credentials = credentials
        self.limiter = limiter
        self.retry = retry
        self.timeout_s = timeout_s
        self.cache = cache
        self._rng = rng or random.Random(0)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.sent = 0
        self.cache_hits = 0
        self.retries: Counter[str] = Counter()
        self._stop: TmdbStop | None = None

    def get_json(self, path: str, query: dict[str, Any] | None = None, require: tuple[str, ...] = ()) -> dict:
        """GET an API endpoint (`/movie/popular`); the answer must be a JSON object with the keys in `require`.

        An answer without them is retried like malformed JSON, and never cached.
        """

        def json_object(body: bytes, content_type: str | None) -> dict:
            try:
                value = json.loads(body)
            except ValueError:
                raise BadAnswer("malformed JSON") from None
            if not isinstance(value, dict):
                raise BadAnswer(f"JSON {type(value).__name__} instead of an object")
            missing = [key for key in require if key not in value]
            if missing:
                raise BadAnswer(f"JSON without {', '.join(missing)}")
            return value

        url = self.api_base_url + path
        return self._get(url, dict(query or {}), request_key(path, query), json_object, authenticated=True)

    def get_bytes(self, url: str, check: Callable[[bytes, str | None], None], cached: bool = True) -> bytes:
        """GET a file (a poster) from a full URL, unauthenticated.

        `check(body, content_type)` raises BadAnswer; content_type is None for an answer from the cache.
        `cached=False` neither reads nor fills the cache: for a file the caller keeps itself.
        """

        def checked(body: bytes, content_type: str | None) -> bytes:
            check(body, content_type)
            return body

        return self._get(url, {}, url, checked, authenticated=False, cached=cached)

    def summary(self) -> str:
        retried = ", ".join(f"{reason} {n}" for reason, n in sorted(self.retries.items())) or "none"
        return f"{self.sent} requests sent, {self.cache_hits} answered from the cache, retries: {retried}"

    def _get(
        self,
        url: str,
        query: dict[str, Any],
        what: str,
        parse: Callable[[bytes, str | None], T],
        authenticated: bool,
        cached: bool = True,
    ) -> T:
        # The cache key is the full URL without credentials, so two servers never share answers.
        key = request_key(url, query)
        cache = self.cache if cached else None
        if cache is not None and (answer := cache.get(key)) is not None:
            try:
                value = parse(answer, None)
            except BadAnswer:
                pass  # unreadable on disk: fetch it again
            else:
                self._count(cache_hit=True)
                return value
        body, value = self._fetch(url, query, what, parse, authenticated)
        if cache is not None:
            cache.put(key, body)
        return value

    def _fetch(
        self, url: str, query: dict[str, Any], what: str, parse: Callable[[bytes, str | None], T], authenticated: bool
    ) -> tuple[bytes, T]:
        last = _Retry("no attempt")
        for retry in range(self.retry.max_retries + 1):
            outcome = self._attempt(url, query, what, parse, authenticated)
            if not isinstance(outcome, _Retry):
                return outcome
            last = outcome
            if last.connect is not None and retry >= min(self.retry.connect_retries, self.retry.max_retries):
                raise self._stop_run(TmdbUnreachable(self._unreachable_message(url, last.connect, retry + 1)))
            if retry < self.retry.max_retries:
                self._retrying(what, last.problem)
                self._wait(retry, last)
        raise TmdbUnavailable(
            f"TMDB request {what} failed {self.retry.max_retries + 1} times, the last with {last.problem}",
            reason=last.problem,
        )

    def _attempt(
        self, url: str, query: dict[str, Any], what: str, parse: Callable[[bytes, str | None], T], authenticated: bool
    ) -> tuple[bytes, T] | _Retry:
        """One GET: the body and its parsed value, or why to retry; raises when retrying cannot help."""
        params = {**query, **self.credentials.query()} if authenticated else query
        headers = self.credentials.headers() if authenticated else {}
        self.limiter.acquire()
        self._raise_if_stopped()
        self._count(sent=True)
        try:
            response = self._session().get(url, params=params, headers=headers, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            # ChunkedEncodingError: the body was cut short. Only the type: the text holds the URL.
            return _Retry(type(err).__name__, connect=_connect_failure(err))
        except requests.RequestException as err:
            raise TmdbRequestFailed(f"TMDB request {what} failed: {type(err).__name__}") from None
        status = response.status_code
        if status == 200:
            try:
                return response.content, parse(response.content, response.headers.get("Content-Type", ""))
            except BadAnswer as err:
                return _Retry(str(err))
        if status == 429:
            return _Retry("HTTP 429", _retry_after_s(response.headers.get("Retry-After")), throttled=True)
        if status >= 500:
            return _Retry(f"HTTP {status}")
        answer = _status_message(response)
        if authenticated and status in (401, 403):
            raise self._stop_run(TmdbAuthRefused(self.credentials.refused_message(answer)))
        refused = TmdbNotFound if status == 404 else TmdbRefused
        raise refused(f"TMDB refused {what}: {answer}", status, answer)

    def _wait(self, retry: int, outcome: _Retry) -> None:
        if outcome.throttled:
            # The limit is TMDB's and shared: every worker waits, this one in the limiter with the others.
            wait = outcome.retry_after_s
            self.limiter.pause(wait if wait is not None else self.retry.backoff(retry, self._rng))
        elif outcome.connect is not None:
            time.sleep(self.retry.connect_backoff(retry, self._rng))
        else:
            time.sleep(self.retry.backoff(retry, self._rng))

    def _stop_run(self, err: TmdbStop) -> TmdbStop:
        """Remember the first failure that ends the run: no worker sends anything after it."""
        with self._lock:
            if self._stop is None:
                self._stop = err
        log.debug("stopping every request: %s", err)
        return err

    def _raise_if_stopped(self) -> None:
        stop = self._stop
        if stop is not None:
            raise copy.copy(stop)  # a fresh exception per thread, with the same message

    def _unreachable_message(self, url: str, why: str, tries: int) -> str:
        kept = f"; what was already fetched is kept in {self.cache.folder}/" if self.cache is not None else ""
        return (
            f"cannot connect to {_host(url)} ({why}; {tries} tries): check the network connection and the "
            f"address (fetch_list.tmdb.api_base_url in params.yaml for the API), then run again{kept}"
        )

    def _session(self) -> requests.Session:
        # One session per worker thread: requests does not promise a shared Session is thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _retrying(self, what: str, problem: str) -> None:
        reason = problem.split(":")[0]
        with self._lock:
            self.retries[reason] += 1
        log.debug("retrying %s after %s", what, problem)

    def _count(self, sent: bool = False, cache_hit: bool = False) -> None:
        with self._lock:
            self.sent += sent
            self.cache_hits += cache_hit


def _retry_after_s(header: str | None) -> float | None:
    """Retry-After as seconds to wait (urllib3 reads both forms: seconds, HTTP date); None if absent or unreadable."""
    if not header:
        return None
    try:
        seconds = Retry().parse_retry_after(header)
    except InvalidHeader:
        return None
    return min(seconds, RETRY_AFTER_CAP_S)


def _connect_failure(err: requests.RequestException) -> str | None:
    """Why no connection could be made ("connection refused", "name or service not known"); None if one was made."""
    reason = getattr(err.args[0] if err.args else None, "reason", None)
    if not isinstance(reason, NewConnectionError):  # NameResolutionError is one too
        return None
    cause = reason.__cause__ or reason.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return "the name does not resolve" if isinstance(reason, NameResolutionError) else "no connection"


def _host(url: str) -> str:
    """`host:port` of a URL, without any user or password (never the query, which may hold the key)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def _status_message(response: requests.Response) -> str:
    try:
        message = response.json().get("status_message", "")
    except (ValueError, AttributeError):
        message = ""
    return f"HTTP {response.status_code} {message}".strip()
