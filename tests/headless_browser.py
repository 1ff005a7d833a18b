"""A page opened in headless Chromium, watched through the DevTools protocol (for tests).

Chromium talks the protocol over two pipes (`--remote-debugging-pipe`: commands in on fd 3, answers
and events out on fd 4, each message JSON ended by a NUL byte), so no port, no websocket library.
Every request the page makes, every console message and every uncaught exception is recorded.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Debian's package installs `chromium`; other systems name it differently.
CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)

# No sandbox (containers, root), no GPU, no background traffic of the browser's own (updates, sync,
# safe-browsing lists, first-run pages), and every host name unresolvable: whatever the page asks
# the network for fails, and is recorded.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


@dataclass
class PageLog:
    """What a page did while it was open."""

    requests: list[str] = field(default_factory=list)  # every URL it asked for, itself included
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text): console.* calls, browser log
    exceptions: list[str] = field(default_factory=list)  # uncaught JavaScript errors

    def problems(self) -> list[str]:
        """Console errors and warnings, and uncaught exceptions, as lines."""
        levels = {"error", "warning", "assert"}
        return [f"{level}: {text}" for level, text in self.console if level in levels] + [
            f"exception: {text}" for text in self.exceptions
        ]


class Browser:
    """One headless Chromium; `open` loads a page in a fresh tab and returns its log."""

    def __init__(self, user_data_dir: Path, window_size: tuple[int, int] = (1400, 1000)) -> None:
        if CHROMIUM is None:
            raise RuntimeError("no chromium on PATH")
        self._window_size = window_size
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Above fd 4, so that putting them at 3 and 4 in the child overwrites neither.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def pipes_at_3_and_4() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self._process = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={user_data_dir}",
                f"--window-size={window_size[0]},{window_size[1]}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=pipes_at_3_and_4,
        )
        os.close(child_in)
        os.close(child_out)
        self._next_id = 0
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        self._messages.put(None)  # the browser closed its end

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _pump(self, timeout_s: float, log: PageLog | None) -> dict[str, Any]:
        """The next message; events are recorded into `log` on the way."""
        try:
            message = self._messages.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"chromium sent nothing for {timeout_s} s") from None
        if message is None:
            raise RuntimeError("chromium closed the DevTools pipe")
        if log is not None:
            _record(message, log)
        return message

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        *,
        log: PageLog | None = None,
        timeout_s: float = 20.0,
    ) -> Any:
        """Send a command and wait for its answer."""
        sent = self._send(method, params, session)
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._pump(max(deadline - time.monotonic(), 0.01), log)
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(
        self, url: str, probe_js: str, done: Callable[[Any], bool], timeout_s: float = 20.0
    ) -> tuple[PageLog, Any]:
        """Load `url` in a new tab and evaluate `probe_js` (an expression) until `done(its value)`.

        Returns the page's log and the last value, done or not after `timeout_s`.
        """
        log = PageLog()
        width, height = self._window_size
        target = self.call(
            "Target.createTarget", {"url": "about:blank", "newWindow": True, "width": width, "height": height}
        )["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.call(f"{domain}.enable", session=session, log=log)
        self.call("Page.navigate", {"url": url}, session=session, log=log)
        deadline = time.monotonic() + timeout_s
        while True:
            answer = self.call(
                "Runtime.evaluate", {"expression": probe_js, "returnByValue": True}, session=session, log=log
            )
            value = answer.get("result", {}).get("value")
            if done(value) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(0.2)  # whatever the page still had queued (late requests, console messages) ...
        self.call("Runtime.evaluate", {"expression": "1"}, session=session, log=log)  # ... arrives before this
        self.call("Target.closeTarget", {"targetId": target}, log=log)
        return log, value

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        finally:
            os.close(self._to_browser)
            self._reader.join(timeout=5)
            os.close(self._from_browser)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(message: dict[str, Any], log: PageLog) -> None:
    method, params = message.get("method"), message.get("params", {})
    if method == "Network.requestWillBeSent":
        log.requests.append(params["request"]["url"])
    elif method == "Runtime.consoleAPICalled":
        text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
        log.console.append((params["type"], text))
    elif method == "Log.entryAdded":
        entry = params["entry"]
        log.console.append((entry["level"], f"{entry['text']} {entry.get('url', '')}".strip()))
    elif method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        log.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
