"""The technician's pages: printable posters for now; technician login arrives with a later issue.

Until that login exists, these pages answer only requests from the box itself (loopback): a phone on
the hotspot must not read the Wi-Fi password off a poster page or make the box render PDFs for it.
"""

from __future__ import annotations

import ipaddress
from io import BytesIO

from flask import Blueprint, Response, abort, render_template, request, send_file

from appliance.pdf_layout import PosterError
from web.context import catalog, services, settings

bp = Blueprint("technician", __name__, url_prefix="/tech")
LANGS = ("vi", "en")
PDF = "application/pdf"
LOCAL_ONLY = (
    "Trang kỹ thuật chỉ mở được trên chính Hamlet Box (localhost) cho đến khi có đăng nhập "
    "cho kỹ thuật viên.\n"
    "The technician pages open only on the Hamlet Box itself (localhost) until technician "
    "login arrives.\n"
)


def is_loopback(address: str | None) -> bool:
    """127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses; anything unreadable is not."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


@bp.before_request
def _local_only() -> Response | None:
    if is_loopback(request.remote_addr):
        return None
    response = Response(LOCAL_ONLY, status=403, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


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
    response.headers["Cache-Control"] = "no-store"
    return response
