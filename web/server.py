"""Runs the box's web UI under waitress, the production WSGI server (pure Python, fine on a Pi)."""

from __future__ import annotations

import logging
import socket

from appliance.config import Settings
from appliance.errors import HamletBoxError
from appliance.services import build

log = logging.getLogger("hamletbox.web")


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
        server.run()
    finally:
        services.close()


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
