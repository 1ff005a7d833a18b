"""HTTP to TMDB: one shared rate limit, bounded retries, checked answers, an on-disk cache.

What is retried, and how:
- 429: after `Retry-After` (seconds or an HTTP date), else exponential back-off with jitter; every
  worker pauses, since the limit is TMDB's and shared;
- 5xx, dropped or reset connections, timeouts, a body cut short, an answer that fails its check
  (malformed JSON, a truncated image): exponential back-off with jitter, at most `max_retries` times;
- a connection that cannot even be made (refused, a name that does not resolve): two quick retries,
  then the whole run stops (TmdbUnreachable), naming the host;
- `stop_after_failures` failed tries in a row across different requests (tmdb.watch): the whole run
  stops (TmdbFailing), naming what failed and what to check;
- 401 or 403 on an API request: the credentials were refused; the whole run stops at once
  (TmdbAuthRefused), naming the variable that holds them;
- any other 4xx fails the request at once, with TMDB's `status_message` (TmdbNotFound for a 404).
A request that still fails after its retries raises TmdbUnavailable: a later run may well succeed.
One the caller can drop (`droppable`), broken the same way on every try in two runs, raises TmdbBroken
(tmdb.broken) instead, and is not sent again. A try left waiting for its answer is logged while it waits.
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
from movie_genres.tmdb.broken import RUNS, BrokenAnswers
from movie_genres.tmdb.rate_limit import RateLimiter
from movie_genres.tmdb.request_cache import RequestCache, request_key
from movie_genres.tmdb.watch import WAIT_REPORT_S, FailureStreak, WaitReporter

log = logging.getLogger(__name__)

T = TypeVar("T")

# A Retry-After longer than this is capped, so a misbehaving proxy cannot park the run for a day.
RETRY_AFTER_CAP_S = 120.0
STATUS_PAGE = "https://status.themoviedb.org"


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
    """Still failing after every retry (5xx, 429, timeouts, broken connections or answers): a later run may succeed.

    `broken` is the reason when every try got an answer broken that same way (a truncated poster).
    """

    def __init__(self, message: str, reason: str, broken: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.broken = broken


class TmdbBroken(TmdbRequestFailed):
    """TMDB served the answer broken the same way on every try in two runs or more: a fact, its movie is dropped."""


class TmdbStop(TmdbError):
    """A failure every later request would share: the run stops at once and sends nothing more."""


class TmdbAuthRefused(TmdbStop):
    """TMDB refused the credentials (401 or 403)."""


class TmdbUnreachable(TmdbStop):
    """No connection could be made to a host (refused, or its name does not resolve)."""


class TmdbFailing(TmdbStop):
    """Many tries in a row failed, across different requests: the trouble is everyone's, not one request's."""


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
    broken: bool = False  # an answer came, and failed its check
    timeout: bool = False

    @property
    def kind(self) -> str:
        """The problem without its details: `unreadable image`, `HTTP 503`, `ReadTimeout`."""
        return self.problem.split(":")[0]


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
        stop_after_failures: int = 20,
        broken: BrokenAnswers | None = None,
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
        self.broken = broken
        self.streak = FailureStreak(stop_after_failures)
        # Half the timeout at most: a try that will time out is reported before it does.
        self.waiting = WaitReporter(min(WAIT_REPORT_S, timeout_s / 2), self._wait_advice)

    def get_json(
        self, path: str, query: dict[str, Any] | None = None, require: tuple[str, ...] = (), droppable: bool = False
    ) -> dict:
        """GET an API endpoint (`/movie/popular`); the answer must be a JSON object with the keys in `require`.

        An answer without them is retried like malformed JSON, and never cached. `droppable`: the caller
        drops its movie on TmdbBroken (an answer broken on every try in two runs).
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
        what = request_key(path, query)
        return self._get(url, dict(query or {}), what, json_object, authenticated=True, droppable=droppable)

    def get_bytes(
        self, url: str, check: Callable[[bytes, str | None], None], cached: bool = True, droppable: bool = False
    ) -> bytes:
        """GET a file (a poster) from a full URL, unauthenticated.

        `check(body, content_type)` raises BadAnswer; content_type is None for an answer from the cache.
        `cached=False` neither reads nor fills the cache: for a file the caller keeps itself. `droppable`
        as for get_json.
        """

        def checked(body: bytes, content_type: str | None) -> bytes:
            check(body, content_type)
            return body

        return self._get(url, {}, url, checked, authenticated=False, cached=cached, droppable=droppable)

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
        droppable: bool = False,
    ) -> T:
        # The cache key is the full URL without credentials, so two servers never share answers.
        key = request_key(url, query)
        broken = self.broken if droppable else None
        cache = self.cache if cached else None
        if cache is not None and (answer := cache.get(key)) is not None:
            try:
                value = parse(answer, None)
            except BadAnswer:
                pass  # unreadable on disk: fetch it again
            else:
                self._count(cache_hit=True)
                return value
        if broken is not None and (sighting := broken.known(key)) is not None:
            raise TmdbBroken(self._broken_message(what, sighting.reason, sighting.runs), reason=sighting.reason)
        try:
            body, value = self._fetch(url, query, what, parse, authenticated)
        except TmdbUnavailable as err:
            if broken is None or err.broken is None:
                raise
            raise self._broken_again(broken, key, what, err, err.broken) from None
        if broken is not None:
            broken.answered(key)
        if cache is not None:
            cache.put(key, body)
        return value

    def _broken_again(
        self, broken: BrokenAnswers, key: str, what: str, err: TmdbUnavailable, reason: str
    ) -> TmdbRequestFailed:
        """Every try of this run got the answer broken as `reason`: TmdbBroken once RUNS runs have, else `err`."""
        sighting = broken.saw(key, reason)
        if sighting.for_good:
            return TmdbBroken(self._broken_message(what, reason, sighting.runs), reason=reason)
        left = RUNS - sighting.runs
        note = (
            f"{reason}, on every try (in {left} more run{'s' if left > 1 else ''} like this one, "
            "its movie is dropped as broken on TMDB)"
        )
        return TmdbUnavailable(f"{err}; {note}", reason=note, broken=reason)

    @staticmethod
    def _broken_message(what: str, reason: str, runs: int) -> str:
        return (
            f"TMDB answered {what} broken ({reason}) on every try in {runs} runs: not asked again "
            "(tmdb_http.retry_broken: true asks again)"
        )

    def _fetch(
        self, url: str, query: dict[str, Any], what: str, parse: Callable[[bytes, str | None], T], authenticated: bool
    ) -> tuple[bytes, T]:
        problems: list[_Retry] = []
        for retry in range(self.retry.max_retries + 1):
            outcome = self._attempt(url, query, what, parse, authenticated, retry + 1)
            if not isinstance(outcome, _Retry):
                return outcome
            problems.append(outcome)
            if outcome.connect is not None and retry >= min(self.retry.connect_retries, self.retry.max_retries):
                raise self._stop_run(TmdbUnreachable(self._unreachable_message(url, outcome.connect, retry + 1)))
            # A 429 is TMDB pacing the run, and a refused connection stops it on its own.
            if outcome.connect is None and not outcome.throttled and self.streak.failed(what, url, outcome.kind):
                raise self._stop_run(TmdbFailing(self._failing_message()))
            if retry < self.retry.max_retries:
                self._retrying(what, outcome)
                self._wait(retry, outcome)
        raise self._gave_up(what, problems)

    def _gave_up(self, what: str, problems: list[_Retry]) -> TmdbUnavailable:
        last = problems[-1]
        advice = f" ({self._timeout_advice()})" if last.timeout else ""
        same = {problem.problem for problem in problems}
        broken = last.problem if len(same) == 1 and last.broken else None
        return TmdbUnavailable(
            f"TMDB request {what} failed {len(problems)} times, the last with {last.problem}{advice}",
            reason=last.problem,
            broken=broken,
        )

    def _attempt(
        self,
        url: str,
        query: dict[str, Any],
        what: str,
        parse: Callable[[bytes, str | None], T],
        authenticated: bool,
        number: int,
    ) -> tuple[bytes, T] | _Retry:
        """Try `number` of a GET: the body and its parsed value, or why to retry; raises when retrying cannot help."""
        params = {**query, **self.credentials.query()} if authenticated else query
        headers = self.credentials.headers() if authenticated else {}
        self.limiter.acquire()
        # Registered before the stop check, so nothing new comes between that check and the send.
        token = self.waiting.started(what, number)
        try:
            self._raise_if_stopped()
            self._count(sent=True)
            response = self._session().get(url, params=params, headers=headers, timeout=self.timeout_s)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            # ChunkedEncodingError: the body was cut short. Only the type: the text holds the URL.
            timeout = isinstance(err, requests.Timeout)
            return _Retry(type(err).__name__, connect=None if timeout else _connect_failure(err), timeout=timeout)
        except requests.RequestException as err:
            raise TmdbRequestFailed(f"TMDB request {what} failed: {type(err).__name__}") from None
        finally:
            self.waiting.finished(token)
        status = response.status_code
        if status == 200:
            try:
                value = parse(response.content, response.headers.get("Content-Type", ""))
            except BadAnswer as err:
                return _Retry(str(err), broken=True)
            self.streak.answered()
            return response.content, value
        if status == 429:
            return _Retry("HTTP 429", _retry_after_s(response.headers.get("Retry-After")), throttled=True)
        if status >= 500:
            return _Retry(f"HTTP {status}")
        answer = _status_message(response)
        self.streak.answered()  # a refusal is an answer: whatever fails, it is not every request
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
        return (
            f"cannot connect to {_host(url)} ({why}; {tries} tries): check the network connection and the "
            f"address (fetch_list.tmdb.api_base_url in params.yaml for the API), then run again{self._kept()}"
        )

    def _failing_message(self) -> str:
        """One screen: what failed, how often, and what to check."""
        return "\n".join(
            [
                self.streak.describe(),
                "Every request fails alike, so the run stopped instead of retrying each one for minutes. Check:",
                "  - the network: a proxy, VPN or captive portal answering in TMDB's place, or a slow link;",
                f"  - TMDB's status: {STATUS_PAGE};",
                "  - the address and the key: fetch_list.tmdb.api_base_url in params.yaml, "
                f"{self.credentials.variable};",
                f"  - the settings in params.yaml: tmdb_http.timeout_s (now {self.timeout_s:g} s) if answers are only "
                f"slow, tmdb_http.max_retries (now {self.retry.max_retries}), tmdb_http.stop_after_failures "
                f"(now {self.streak.limit}).",
                f"Then run again{self._kept()}.",
            ]
        )

    def _timeout_advice(self) -> str:
        return (
            f"no answer within tmdb_http.timeout_s = {self.timeout_s:g} s: check the network connection and "
            f"TMDB's status ({STATUS_PAGE}); raise tmdb_http.timeout_s in params.yaml if answers are only slow"
        )

    def _wait_advice(self) -> str:
        return (
            f"each try gives up after tmdb_http.timeout_s = {self.timeout_s:g} s, "
            f"and a request after {self.retry.max_retries + 1} tries"
        )

    def _kept(self) -> str:
        return f"; what was already fetched is kept in {self.cache.folder}/" if self.cache is not None else ""

    def _session(self) -> requests.Session:
        # One session per worker thread: requests does not promise a shared Session is thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _retrying(self, what: str, outcome: _Retry) -> None:
        with self._lock:
            self.retries[outcome.kind] += 1
        log.debug("retrying %s after %s", what, outcome.problem)

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
