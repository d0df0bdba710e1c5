"""Runs the box's web UI under waitress, the production WSGI server (pure Python, fine on a Pi)."""

from __future__ import annotations

import logging

from appliance.config import Settings
from appliance.services import build

log = logging.getLogger("hamletbox.web")


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Build the services, then serve until the process is stopped."""
    from waitress import serve as waitress_serve

    from web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines are start-up noise
    services = build(settings)
    app = create_app(settings, services)
    bind_host = host or settings.web.host
    bind_port = port or settings.web.port
    log.info("serving on http://%s:%d/", bind_host, bind_port)
    try:
        waitress_serve(
            app,
            host=bind_host,
            port=bind_port,
            threads=settings.web.threads,
            ident="hamletbox",
            clear_untrusted_proxy_headers=True,
        )
    finally:
        services.close()
