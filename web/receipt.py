"""The receipt page after submitting: the code, its QR, what happens next, and the A5 PDF.

Only a browser whose session remembers the code may open it (web/ownership.py): the phone that
submitted the dossier, or the station session that did; anyone else gets the same 404 as for a
code that does not exist, so the page reveals nothing about which codes are real. The QR is
inline SVG drawn by segno (imported on first use): the page needs no other file.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup
from werkzeug.wrappers import Response

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import (
    DossierError,
    ReceiptCodeError,
    normalize_receipt_code,
    paper_key,
)
from appliance.intake import Intake
from appliance.receipts import lookup_url
from appliance.store.dossiers import DossierRecord
from web import page_edit
from web.context import catalog, settings
from web.headers import no_store
from web.i18n import _, current_lang
from web.ownership import own_receipts

bp = Blueprint("receipt", __name__)


def _dossier(code: str) -> tuple[Intake, DossierRecord]:
    """The submitted dossier behind `code` if this request may see it; else a 404."""
    try:
        canonical = normalize_receipt_code(code)
    except ReceiptCodeError:
        abort(404)
    uuid = own_receipts().get(canonical)
    if uuid is None:
        abort(404)
    intake = page_edit.intake()
    try:
        found = intake.get(uuid)
    except DossierError:
        abort(404)
    if found.receipt_code != canonical:
        abort(404)
    return intake, found


@bp.get("/bien-nhan/<code>")
def page(code: str) -> Response:
    _intake, dossier = _dossier(code)
    procedure = catalog().get(dossier.procedure_code)
    lang = current_lang()
    code = dossier.receipt_code or code
    html = render_template(
        "receipt.html",
        code=code,
        dossier=dossier,
        procedure_name=procedure.name.get(lang) if procedure else dossier.procedure_code,
        originals=_originals(dossier, procedure, lang),
        qr=qr_svg(lookup_url(settings(), code), _("Mã QR để xem tình trạng")),
        box_ssid=settings().hotspot.ssid,
        lookup_address=f"{settings().box_url}tra-cuu",
    )
    return _private(Response(html, mimetype="text/html"))


def _originals(dossier: DossierRecord, procedure: Procedure | None, lang: str) -> list[str]:
    """The papers whose original the resident promised to bring, named in the page's language."""
    if procedure is None:
        return sorted(dossier.originals)
    return [p.name.get(lang) for p in procedure.papers if paper_key(p) in dossier.originals]


@bp.get("/bien-nhan/<code>.pdf")
def pdf(code: str) -> Response:
    intake, dossier = _dossier(code)
    body = intake.receipt(dossier.uuid, current_lang())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="bien-nhan-{dossier.receipt_code}.pdf"'
    )
    return _private(response)


def qr_svg(text: str, title: str) -> Markup:
    """A QR code of `text` as inline SVG that scales with its box (no width, a viewBox)."""
    import segno

    code = segno.make(text, error="m")
    svg: str = code.svg_inline(omitsize=True, border=4, dark="#000", light="#fff", title=title)
    return Markup(svg)  # segno's own markup; the text inside is only path data


def _private(response: Response) -> Response:
    return no_store(response)
