"""The captive portal: answers the phones' connectivity probes and shows a short welcome page.

Every name resolves to the box (dnsmasq). Until a phone (by its address) taps "Tiếp tục", its
probes are redirected to the welcome page, so it opens its portal sheet; afterwards they get the
answer that means "online". A request for another site's name is sent to the box's home page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from appliance.config import Settings
from web.captive import AcceptedClients, box_hosts, host_name
from web.context import settings
from web.headers import no_store

EXTENSION = "hamletbox.portal"
APPLE_SUCCESS = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
ANDROID_PROBES = ("/generate_204", "/gen_204")
APPLE_PROBES = ("/hotspot-detect.html", "/library/test/success.html")
WINDOWS_PROBES = {"/connecttest.txt": "Microsoft Connect Test", "/ncsi.txt": "Microsoft NCSI"}
WINDOWS_REDIRECT = "/redirect"
PROBES = frozenset({*ANDROID_PROBES, *APPLE_PROBES, *WINDOWS_PROBES, WINDOWS_REDIRECT})

bp = Blueprint("portal", __name__)


@dataclass(frozen=True)
class Portal:
    clients: AcceptedClients
    hosts: frozenset[str]  # host names that mean the box
    welcome_url: str  # at the box's plain address, which every phone on the hotspot can reach
    home_url: str

    def is_box(self, host: str, server_name: str) -> bool:
        """Whether a Host header names the box (any port), or the name the server is bound to."""
        name = host_name(host)
        return name in self.hosts or (bool(server_name) and name == host_name(server_name))


def init_app(app: Flask, settings: Settings) -> None:
    bound = (settings.hotspot.address, settings.hotspot.hostname, settings.web.host)
    app.extensions[EXTENSION] = Portal(
        clients=AcceptedClients(settings.portal.client_hours),
        hosts=box_hosts(bound),
        welcome_url=f"{settings.box_url}portal",
        home_url=settings.box_url,
    )
    app.register_blueprint(bp)


def portal() -> Portal:
    state: Portal = current_app.extensions[EXTENSION]
    return state


@bp.before_app_request
def other_sites() -> Response | None:
    """A resident typed another site's name (it resolved to the box): show the box instead."""
    server_name = request.environ.get("SERVER_NAME", "")
    if request.path in PROBES or portal().is_box(request.host, server_name):
        return None
    return no_store(redirect(portal().home_url, 302))


def _probe(online: Callable[[], Response]) -> Response:
    if portal().clients.is_accepted(request.remote_addr or ""):
        return no_store(online())
    return no_store(redirect(portal().welcome_url, 302))


@bp.route("/generate_204")
@bp.route("/gen_204")
def android() -> Response:
    return _probe(lambda: Response(status=204))


@bp.route("/hotspot-detect.html")
@bp.route("/library/test/success.html")
def apple() -> Response:
    return _probe(lambda: Response(APPLE_SUCCESS, mimetype="text/html"))


@bp.route("/connecttest.txt")
@bp.route("/ncsi.txt")
def windows() -> Response:
    return _probe(lambda: Response(WINDOWS_PROBES[request.path], mimetype="text/plain"))


@bp.route(WINDOWS_REDIRECT)
def windows_redirect() -> Response:
    """Windows opens this in a browser once it has seen the portal; after "Tiếp tục", go home."""
    return _probe(lambda: redirect(portal().home_url, 302))


@bp.get("/portal")
def welcome() -> Response:
    """Rendered for each phone, never from the page cache: its form carries the session's token."""
    html = render_template("portal.html", address=settings().hotspot.address)
    return no_store(Response(html, mimetype="text/html"))


@bp.post("/portal/accept")
def accept() -> Response:
    portal().clients.accept(request.remote_addr or "")
    return no_store(redirect("/", 303))
