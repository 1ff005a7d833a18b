"""Answers TMDB serves broken the same way on every try, run after run: facts, not trouble to retry forever.

A poster served truncated on all seven tries of one run may be a glitch; the same truncated poster
on every try of a second run is what TMDB has. From that run on, the request is not sent again:
the caller drops its movie and counts it, and the reason stays in `<cache_dir>/broken_answers.json`
(the request without credentials, the reason, how many runs saw it). `tmdb_http.retry_broken: true`
asks again; a good answer then removes the entry.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from movie_genres.files import atomic_path

FILE_NAME = "broken_answers.json"
# Runs in which every try got the same broken answer before the request counts as broken for good.
RUNS = 2


@dataclass(frozen=True)
class Sighting:
    reason: str
    runs: int

    @property
    def for_good(self) -> bool:
        return self.runs >= RUNS


class BrokenAnswers:
    """The ledger of broken answers in `folder`, as this run sees it; `ask_again` sends even those broken for good."""

    def __init__(self, folder: Path, ask_again: bool = False) -> None:
        self.path = Path(folder) / FILE_NAME
        self.ask_again = ask_again
        entries = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self._entries = {key: Sighting(entry["reason"], entry["runs"]) for key, entry in entries.items()}
        self._seen_this_run: set[str] = set()
        self._lock = threading.Lock()

    def known(self, key: str) -> Sighting | None:
        """The sighting that makes `key` broken for good, unless this run asks again."""
        sighting = self._entries.get(key)
        if self.ask_again or sighting is None or not sighting.for_good:
            return None
        return sighting

    def saw(self, key: str, reason: str) -> Sighting:
        """Every try of `key` got the answer broken as `reason`: one more run that saw it (once a run)."""
        with self._lock:
            before = self._entries.get(key)
            if key in self._seen_this_run and before is not None:
                return before
            self._seen_this_run.add(key)
            runs = before.runs + 1 if before is not None and before.reason == reason else 1
            self._entries[key] = Sighting(reason, runs)
            self._save()
            return self._entries[key]

    def answered(self, key: str) -> None:
        """`key` got a good answer: whatever was broken about it is no longer."""
        if key not in self._entries:
            return
        with self._lock:
            if self._entries.pop(key, None) is not None:
                self._save()

    def _save(self) -> None:
        entries = {key: {"reason": s.reason, "runs": s.runs} for key, s in sorted(self._entries.items())}
        with atomic_path(self.path) as partial:
            partial.write_text(json.dumps(entries, indent=1) + "\n")
