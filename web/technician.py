"""The technician's pages: printable posters, and what the relay stopped sending.

Only a logged-in technician gets in: a phone on the hotspot must not read the Wi-Fi password off a
poster page or make the box render PDFs for it. Routes added here later are covered too.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, Response, abort, render_template, request, send_file

from appliance.pdf_layout import PosterError
from appliance.store.queue_view import QueueView
from web.auth import protect
from web.context import catalog, services, settings
from web.headers import no_store
from web.station_queue import clock

bp = Blueprint("technician", __name__, url_prefix="/tech")
protect(bp, "technician")
LANGS = ("vi", "en")
PDF = "application/pdf"


@bp.errorhandler(PosterError)
def _cannot_print(exc: PosterError) -> Response:
    """Say what the box is missing (a font package) instead of a bare server error."""
    return Response(f"{exc}\n", status=503, mimetype="text/plain")


@bp.get("/posters")
def posters() -> str:
    return render_template(
        "technician/posters.html",
        procedures=catalog().procedures,
        catalog_problem=services().catalog.problem,
    )


@bp.get("/outbox")
def outbox() -> str:
    """Items the commune refused or holds differently: the relay never resends them itself."""
    stuck = QueueView(services().sessions).stuck()
    return render_template("technician/outbox.html", stuck=stuck, clock=clock)


@bp.get("/posters/hotspot.pdf")
def hotspot_pdf() -> Response:
    from appliance.posters import hotspot_poster

    return _pdf(hotspot_poster(settings()), "hamletbox-wifi.pdf")


@bp.get("/posters/procedure/<code>.pdf")
def procedure_pdf(code: str) -> Response:
    from appliance.posters import procedure_poster

    lang = request.args.get("lang", "vi")
    if lang not in LANGS:
        abort(400)
    procedure = catalog().get(code)
    if procedure is None:
        abort(404)
    return _pdf(procedure_poster(settings(), procedure, lang), f"thu-tuc-{code}-{lang}.pdf")


def _pdf(data: bytes, name: str) -> Response:
    """A download, never cached: the settings or the catalog may change between two prints."""
    response = send_file(BytesIO(data), mimetype=PDF, as_attachment=True, download_name=name)
    return no_store(response)
