"""Runs the box's web UI under waitress, the production WSGI server (pure Python, fine on a Pi).

While it serves, a beat thread rewrites runtime_dir/web.json (the panel, doctor and the
technician page read it: is the web alive, is the camera there) and pings systemd's watchdog.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from appliance.box_state import WEB_FILE
from appliance.config import Settings
from appliance.errors import HamletBoxError
from appliance.liveness import write_beat
from appliance.relay import systemd
from appliance.services import Services, build

log = logging.getLogger("hamletbox.web")
BEAT_SECONDS = 10.0


class ListenError(HamletBoxError):
    """The address to serve on cannot be taken (in use, not ours, no permission)."""


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Build the services, take the address, then serve until the process is stopped."""
    from waitress import create_server

    from web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("alembic", "fontTools"):  # INFO lines at every start or every poster
        logging.getLogger(noisy).setLevel(logging.WARNING)
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    services = build(settings)
    beat = WebBeat(services)
    try:
        app = create_app(settings, services)
        server = create_server(
            app,
            sockets=[_listen(bind_host, bind_port)],
            threads=settings.web.threads,
            ident="hamletbox",
            clear_untrusted_proxy_headers=True,
        )
        log.info("serving on http://%s:%d/", bind_host, bind_port)
        beat.start()
        systemd.notify("READY=1")  # the socket listens: requests queue until run() takes them
        server.run()
    finally:
        beat.stop()
        services.close()


def camera_state(services: Services) -> str:
    """web.json's "camera": "ok" when open, "missing" when one is configured but did not open,
    "off" when none is configured."""
    if services.camera is not None:
        return "ok"
    return "off" if services.settings.camera.backend == "none" else "missing"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebBeat:
    """web.json and systemd's WATCHDOG=1 every `every` seconds, from its own thread, so a
    busy or stuck request pool does not stop it but a dead process does."""

    def __init__(
        self,
        services: Services,
        *,
        clock: Callable[[], datetime] = _utcnow,
        environ: Mapping[str, str] | None = None,
        every: float = BEAT_SECONDS,
    ) -> None:
        self.path = services.settings.runtime_dir / WEB_FILE
        self._services, self._clock, self._environ, self._every = services, clock, environ, every
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed = False

    def beat(self) -> None:
        try:
            write_beat(self.path, {"camera": camera_state(self._services)}, self._clock())
            self._failed = False
        except OSError as exc:
            if not self._failed:  # say it once: serving residents does not depend on it
                log.warning("cannot write %s: %s", self.path, exc)
            self._failed = True
        systemd.notify("WATCHDOG=1", self._environ)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="web-beat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self._every)
            self._thread = None

    def _run(self) -> None:
        while True:
            self.beat()
            if self._stopping.wait(self._every):
                return


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves: a refused bind is reported plainly and leaks nothing."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise _cannot_listen(host, port, exc) from None
    return sock


def _cannot_listen(host: str, port: int, exc: OSError) -> ListenError:
    return ListenError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        " / không mở được cổng (đang có chương trình khác dùng?)"
    )
