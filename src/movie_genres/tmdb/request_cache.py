"""An on-disk cache of checked answers, keyed by request, written so that a crash never leaves half a file.

Each answer is written to a temporary file in the same folder and renamed into place (`files.atomic_path`):
a reader (or the next run after a `kill -9`) sees either the whole answer or none. Keys are the request
without its credentials, and files are named by the key's SHA-256, so no secret ever reaches a file name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlencode

from movie_genres.files import atomic_path


def request_key(url: str, query: dict[str, object] | None = None) -> str:
    """The request as one string: URL plus its query, sorted, without credentials."""
    if not query:
        return url
    return f"{url}?{urlencode(sorted((name, str(value)) for name, value in query.items()))}"


class RequestCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.folder / digest[:2] / digest

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        # No fsync: a killed process loses nothing the kernel already has; power loss is out of scope.
        with atomic_path(self.path(key)) as partial:
            partial.write_bytes(data)

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()
