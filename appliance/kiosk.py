"""`hamletbox kiosk`: the station touchscreen's fullscreen window, locked to the local station UI.

The volunteer's screen must show the station and nothing else, so the window is a pywebview
window without browser chrome (no context menu, no zoom, no text selection), on a URL that must
be the box's own web. How other origins are kept out, before a request leaves the box:
- Qt (tests, desktops): a QWebEngineUrlRequestInterceptor on the window's profile blocks every
  request (page, new window, image, fetch) to another origin; pywebview's own interceptor still
  runs for the allowed ones. A blocked page leaves Qt's error page, which the next check replaces.
- GTK (the Pi, WebKitGTK under cage): a "decide-policy" handler ignores navigations and
  new-window requests to another origin.
- Every backend: after each load, a page on another origin is replaced by the station again.
New windows never open: a same-origin one loads in this window, any other is refused.
A background thread polls the web; while it does not answer (boot, restart) a local "starting"
page shows, and the station comes back as soon as it answers again.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from appliance.config import Settings
from appliance.kiosk_lock import lock_window
from appliance.liveness import write_beat

if TYPE_CHECKING:
    import webview

log = logging.getLogger("hamletbox.kiosk")
KIOSK_FILE = "kiosk.json"
BEAT_SECONDS = 10.0  # kiosk.json is rewritten this often, and after every page load
POLL_SECONDS = 1.0  # how soon a web restart shows the starting page, and its return the station
ANSWER_TIMEOUT = 1.0
ASK_SECONDS = 3.0  # the longest wait for the page to answer a script
KEPT_REFUSALS = 5
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Schemes that fetch nothing from the network: the starting page (data:, about:blank), Qt's
# bridge script (qrc:).
INERT_SCHEMES = frozenset({"about", "data", "qrc"})
STARTING_TITLE = "Đang khởi động… / Starting…"
STARTING_HTML = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{STARTING_TITLE}</title>
<style>
body {{ margin: 0; height: 100vh; display: flex; flex-direction: column; align-items: center;
  justify-content: center; font-family: sans-serif; background: #fff; color: #1a1a1a;
  user-select: none; cursor: default; }}
p {{ margin: 0.2em; font-size: 9vmin; }}
p.en {{ font-size: 6vmin; color: #555; }}
</style></head>
<body><p>Đang khởi động…</p><p class="en">Starting…</p></body></html>
"""

Origin = tuple[str, str, int]
T = TypeVar("T")


def station_url(settings: Settings, url: str | None) -> str:
    """The page the kiosk shows: --url, else kiosk.url, else the local web's /station."""
    return url or settings.kiosk.url or f"http://127.0.0.1:{settings.web.port}/station"


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL; None for any other URL or a malformed one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def local_url_problem(url: str, settings: Settings) -> str | None:
    """Why `url` cannot be the kiosk's page ("Vietnamese / English"); None when it can: http on
    the box itself (loopback or the hotspot address), so the screen never shows someone else's
    site."""
    found = origin(url)
    hosts = sorted(LOCAL_HOSTS | {settings.hotspot.address})
    if found is None or found[0] != "http" or found[1] not in hosts:
        return (
            f"Địa chỉ kiosk phải là trang http của chính hộp ({', '.join(hosts)}): {url!r} / "
            f"The kiosk URL must be an http page of the box itself ({', '.join(hosts)}): {url!r}"
        )
    return None


def web_answers(url: str, timeout: float = ANSWER_TIMEOUT) -> bool:
    """Whether the web process answers `url` with any HTTP reply (an error page is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


class Kiosk:
    """One locked window: which page it shows, what it refused, and its beat file."""

    def __init__(
        self,
        url: str,
        beat_path: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.url = url
        self.origin = origin(url)
        self.beat_path = beat_path
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.showing = "starting"  # or "station"
        self.refused: list[str] = []
        self.current = ""  # the URL of the last page loaded
        self.loads = 0
        self.stopping = threading.Event()
        self._changed = threading.Condition()
        self._window: webview.Window | None = None
        self._last_beat: datetime | None = None
        self._beating = threading.Lock()  # the watcher and page loads both beat

    def allows(self, url: str) -> bool:
        """Whether the window may fetch `url`: the station's origin, or nothing from a network."""
        scheme = urlsplit(url).scheme.lower()
        if not url or scheme in INERT_SCHEMES:  # "": nothing loaded yet
            return True
        if scheme == "blob":  # blob:http://host:port/uuid belongs to that origin
            return origin(url[len("blob:") :]) == self.origin
        return origin(url) == self.origin

    def refuse(self, url: str) -> None:
        """Note a refused URL (kept for kiosk.json) and wake whoever waits on a change."""
        log.warning("refused / từ chối: %s", url)
        with self._changed:
            self.refused = [*self.refused, url][-KEPT_REFUSALS:]
            self._changed.notify_all()

    def wait_until(self, check: Callable[[], bool], timeout: float) -> bool:
        """Block until `check()` holds after a load or a refusal (False on timeout). `check`
        reads this object only: a call into the window from it could wait on the GUI thread,
        which may be waiting for this lock."""
        with self._changed:
            return self._changed.wait_for(check, timeout)

    @property
    def window(self) -> webview.Window:
        """The open window (an error before `run` opened it)."""
        if self._window is None:
            raise RuntimeError("the kiosk window is not open")
        return self._window

    def run(self, backend: str, also: Callable[[Kiosk], None] | None = None) -> None:
        """Open the window and run the GUI until it closes (main thread only). `also` runs in
        its own thread beside the GUI: a test drives the window from it."""
        import webview

        webview.settings["OPEN_EXTERNAL_LINKS_IN_BROWSER"] = False  # new windows load here
        self._window = webview.create_window(
            "Hamlet Box",
            html=STARTING_HTML,
            fullscreen=True,
            frameless=True,
            easy_drag=False,
            zoomable=False,
            text_select=False,
            confirm_close=False,
        )
        self.window.events.before_show += self._lock
        self.window.events.loaded += self._loaded
        self.window.events.closed += self.stopping.set
        if also is not None:
            threading.Thread(target=also, args=(self,), name="kiosk-also", daemon=True).start()
        webview.start(self._watch, gui="gtk" if backend == "gtk" else "qt")

    def _lock(self, window: webview.Window) -> None:
        """Install the backend's refusal hook before any page of the station is requested."""
        lock_window(window.native, self)

    def _loaded(self, window: webview.Window) -> None:
        """After every load: a page from elsewhere (say after a blocked link) gives way to the
        station; then the beat says what shows."""
        current = bounded(window.get_current_url) or ""
        with self._changed:
            self.current = current
            self.loads += 1
            self._changed.notify_all()
        if not self.allows(current):
            self.refuse(current)
            window.load_url(self.url)
        self._beat()

    def _watch(self) -> None:
        """Poll the web: the starting page while it is away, the station once it answers."""
        while not self.stopping.is_set():
            answers = web_answers(self.url)
            if answers and self.showing == "starting":
                self.showing = "station"
                self.window.load_url(self.url)
            elif not answers and self.showing == "station":
                self.showing = "starting"
                self.window.load_html(STARTING_HTML, base_uri="about:blank")  # not file:
            last = self._last_beat
            if last is None or (self.clock() - last).total_seconds() >= BEAT_SECONDS:
                self._beat()
            self.stopping.wait(self.poll_seconds)

    def _beat(self) -> None:
        """kiosk.json for doctor and tests: the page shown, its title, what was refused."""
        if self.stopping.is_set():
            return
        with self._beating:
            title = bounded(lambda: self.window.run_js("document.title"))  # no eval: the CSP
            document = {
                "url": bounded(self.window.get_current_url) or "",
                "title": title if isinstance(title, str) else "",
                "showing": self.showing,
                "refused": list(self.refused),
            }
            self._last_beat = self.clock()
            write_beat(self.beat_path, document, self._last_beat)


def bounded(call: Callable[[], T], timeout: float = ASK_SECONDS) -> T | None:
    """`call()`'s result, or None if it fails or has not answered within `timeout`. A script
    run just as the page navigates away, or any call as the window closes, never answers: it
    must neither stall the kiosk nor keep the process from exiting (pywebview's threads are not
    daemons; the stuck helper is)."""
    answer: list[T] = []

    def ask() -> None:
        with contextlib.suppress(Exception):
            answer.append(call())

    helper = threading.Thread(target=ask, name="kiosk-ask", daemon=True)
    helper.start()
    helper.join(timeout)
    return answer[0] if answer else None


def run_command(settings: Settings, url: str | None) -> int:
    """`hamletbox kiosk`: refuse a non-local URL before any window opens (exit 2), else run."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    page = station_url(settings, url)
    problem = local_url_problem(page, settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        import webview  # noqa: F401
    except ImportError:
        print(
            "Thiếu pywebview: cài gói `hamletbox[kiosk]` / "
            "pywebview is missing: install `hamletbox[kiosk]`",
            file=sys.stderr,
        )
        return 1
    Kiosk(page, settings.runtime_dir / KIOSK_FILE).run(settings.kiosk.backend)
    return 0
