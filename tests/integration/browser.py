"""A real browser for the integration tests: Debian's chromium, headless,
driven over the Chrome DevTools Protocol (CDP) with websocket-client
(python3-websocket).

    with Browser() as browser:
        page = browser.new_page()
        page.goto("http://127.0.0.1:8080/")
        page.evaluate("document.title")
        page.console_errors, page.requests

Every browser gets a fresh profile in a temporary directory; leaving the
`with` block kills chromium (its whole process group) and removes the
directory, whatever happened. Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket  # python3-websocket (websocket-client)

from helpers import DIE_WITH_PARENT

CHROMIUM = os.environ.get("CASCADE_CHROMIUM", "/usr/bin/chromium")

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-port=0",
    # Belt and braces for "127.0.0.1 only": no other name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


class BrowserError(AssertionError):
    pass


@dataclass
class Request:
    url: str
    method: str
    resource_type: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Browser:
    """One headless chromium process and a CDP connection to it."""

    def __init__(self, timeout: float = 30.0, log_dir: Path | None = None) -> None:
        self.timeout = timeout
        self.log_dir = log_dir
        self.profile: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.last_log = ""  # the log, once the profile holding it is removed
        self.ws: websocket.WebSocket | None = None
        self.version: dict[str, Any] = {}
        self._next_id = 0
        self._pages: dict[str, Page] = {}  # by CDP session id

    # --- Lifetime ---------------------------------------------------------

    def __enter__(self) -> Browser:
        try:
            self._launch()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _launch(self) -> None:
        if not Path(CHROMIUM).exists():
            raise BrowserError(f"{CHROMIUM} not found: scripts/install-deps --test installs it")
        self.profile = Path(tempfile.mkdtemp(prefix="cascade-chromium-"))
        log_dir = self.log_dir or self.profile
        self.log_path = log_dir / "chromium.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*DIE_WITH_PARENT, CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}",
                 "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        # Chromium writes "<port>\n<browser websocket path>" once it listens.
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self.proc.returncode}:\n{self.log()}")
            try:
                lines = port_file.read_text().split("\n")
                if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                    break
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise BrowserError(f"chromium wrote no DevToolsActivePort in {self.timeout} s:\n"
                                   f"{self.log()}")
            time.sleep(0.05)
        port, path = int(lines[0]), lines[1].strip()
        # No Origin header: chromium refuses DevTools connections from origins it
        # was not told about.
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}",
                                              timeout=self.timeout, suppress_origin=True)
        self.version = self.call("Browser.getVersion")

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.settimeout(2)
                self._send("Browser.close", {}, None)
            except Exception:
                pass
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            # The whole group: renderer, GPU and utility processes too.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.profile is not None:
            if self.log_dir is None and self.log_path and self.log_path.exists():
                # Keep the log readable by whoever reports a failure.
                self.last_log = self.log_path.read_text(errors="replace")
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""
        except FileNotFoundError:
            return self.last_log[-4000:]

    # --- CDP messages -----------------------------------------------------

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> int:
        assert self.ws is not None, "the browser is not running"
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """One message, or None if none came before `deadline`; events go to their page."""
        assert self.ws is not None, "the browser is not running"
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self.ws.settimeout(left)
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketConnectionClosedException, ConnectionError) as e:
            raise BrowserError(f"the DevTools connection closed: {e}\n{self.log()}")
        message = json.loads(raw)
        if "method" in message:
            page = self._pages.get(message.get("sessionId", ""))
            if page is not None:
                page._on_event(message["method"], message.get("params", {}))
        return message

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Sends a command and returns its result (events meanwhile are recorded)."""
        wanted = self._send(method, params or {}, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._receive(deadline)
            if message is None:
                raise BrowserError(f"no answer to {method} within {timeout or self.timeout} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def pump(self, seconds: float) -> None:
        """Records events for `seconds`."""
        deadline = time.monotonic() + seconds
        while self._receive(deadline) is not None:
            pass

    # --- Pages ------------------------------------------------------------

    def new_page(self) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        return page


class Page:
    """A tab: navigation, JavaScript evaluation, and what it logged and requested."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session
        self.console_errors: list[str] = []
        self.console: list[str] = []
        self.requests: dict[str, Request] = {}  # by CDP request id
        self._loads = 0

    def call(self, method: str, params: dict[str, Any] | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session, timeout)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append(f"{params['type']}: {text}")
            if params["type"] in ("error", "assert"):
                self.console_errors.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception", {})
            self.console_errors.append(
                f"uncaught: {exception.get('description', details.get('text', ''))}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append(f"{entry['level']}: {entry['text']} {entry.get('url', '')}")
            if entry["level"] == "error":
                self.console_errors.append(f"{entry['text']} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            r = params["request"]
            self.requests[params["requestId"]] = Request(r["url"], r["method"],
                                                         params.get("type", ""))
        elif method == "Network.responseReceived":
            req = self.requests.get(params["requestId"])
            if req is not None:
                req.status = params["response"]["status"]
                req.headers = {k.lower(): v for k, v in params["response"]["headers"].items()}
        elif method == "Page.loadEventFired":
            self._loads += 1

    def goto(self, url: str, timeout: float = 30.0) -> None:
        """Navigates and waits for the load event."""
        loads = self._loads
        result = self.call("Page.navigate", {"url": url}, timeout)
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url}: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while self._loads == loads:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading within {timeout} s")
            self.browser.pump(0.05)

    def evaluate(self, expression: str, timeout: float = 10.0) -> Any:
        """The value of a JavaScript expression (promises awaited), as JSON."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description", details.get("text"))
            raise BrowserError(f"{expression!r} threw: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, message: str | None = None,
                 interval: float = 0.1) -> Any:
        """Evaluates `expression` until it is truthy; fails after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout} s waiting for "
                                   f"{message or expression}; console: {self.console[-10:]}")
            self.browser.pump(interval)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
