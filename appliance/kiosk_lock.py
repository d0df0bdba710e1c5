"""The kiosk window's lock: each backend's hook that refuses another origin before a request
leaves the window (see appliance.kiosk for the whole approach).

- Qt WebEngine: a QWebEngineUrlRequestInterceptor on the window's profile blocks every request
  (page, frame, image, fetch) the gate does not allow; pywebview's own interceptor still runs for
  the allowed ones. New-window requests get a page of ours, which shows a same-origin URL in the
  kiosk window and refuses any other: pywebview's own would open a desktop browser (or, with
  that turned off, fails in pywebview 6.2).
- WebKitGTK: a "decide-policy" handler ignores navigations and new windows the gate refuses.
"""

from __future__ import annotations

from typing import Any, Protocol


class Gate(Protocol):
    """What a lock asks: may this URL be fetched; note that it was not."""

    def allows(self, url: str) -> bool: ...

    def refuse(self, url: str) -> None: ...


def lock_window(native: Any, gate: Gate) -> None:
    """Install the lock on pywebview's native window object (its BrowserView)."""
    if hasattr(native, "request_interceptor"):
        _lock_qt(native, gate)
    elif hasattr(native, "webview"):
        _lock_gtk(native.webview, gate)


def _lock_qt(native: Any, gate: Gate) -> None:
    """Qt WebEngine: block every request to another origin before it is sent, and answer
    new-window requests ourselves (pywebview's handler would open a desktop browser)."""
    from qtpy.QtCore import QUrl
    from qtpy.QtWebEngineCore import (
        QWebEnginePage,
        QWebEngineUrlRequestInfo,
        QWebEngineUrlRequestInterceptor,
    )

    previous = native.request_interceptor  # pywebview's: its request_sent event

    class Lock(QWebEngineUrlRequestInterceptor):
        def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
            url = info.requestUrl().toString()
            if gate.allows(url):
                previous.interceptRequest(info)
            else:
                info.block(True)
                gate.refuse(url)

    class NewWindow(QWebEnginePage):
        def acceptNavigationRequest(self, url: QUrl, _kind: Any, _main: bool) -> bool:
            wanted = url.toString()
            if gate.allows(wanted):  # the station's own page: shown here, not in a new window
                native.load_url(wanted)
            else:
                gate.refuse(wanted)
            page.nav_handler = NewWindow(page.profile(), page)  # one page per request
            self.deleteLater()
            return False

    native.kiosk_lock = Lock(native)  # parented and referenced: lives as long as the window
    native.profile.setUrlRequestInterceptor(native.kiosk_lock)
    page = native.webview.page()
    page.nav_handler = NewWindow(page.profile(), page)  # what pywebview's createWindow returns


def _lock_gtk(view: Any, gate: Gate) -> None:
    """WebKitGTK: ignore navigations and new windows to another origin (pywebview's own
    handler, connected first, has run by then and returned nothing)."""

    def decide(_view: Any, decision: Any, _kind: Any) -> bool:
        action = getattr(decision, "get_navigation_action", None)
        url = "" if action is None else action().get_request().get_uri()
        if action is None or gate.allows(url):
            return False
        decision.ignore()
        gate.refuse(url)
        return True

    view.connect("decide-policy", decide)
