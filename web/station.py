"""The station: a volunteer files a dossier with a resident at the copy stand.

One workspace per dossier, driven by its procedure's checklist: the applicant (the ID card's QR
under the camera, or a typed name), the phone number, each paper's pages (camera, the box's
shutter button, or uploads) or "bring the original", the consent notice, and submit. Every step
is saved as it is taken, so a reload or a reboot loses nothing; a refused step re-renders the
page with what was typed and every page already added. Volunteers and technicians only.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from werkzeug.wrappers import Response

from appliance.capture.camera import CameraError
from appliance.capture.images import UploadError
from appliance.domain.citizen_id import IdCardError
from appliance.domain.dossier import DossierError, IncompleteError, paper_key
from appliance.domain.phone import PhoneError
from appliance.services import Services
from appliance.store.blobs import StorageFullError
from web import (
    page_edit,
    station_bookings,
    station_queue,
    station_reports,
    station_shutter,
)
from web import station_workspace as workspace
from web.auth import current_user, protect
from web.context import catalog, services
from web.headers import allow_own_scripts, no_store
from web.ownership import remember_receipt
from web.page_edit import intake, paper_anchor

bp = Blueprint("station", __name__, url_prefix="/station")
protect(bp, "volunteer", "technician")
bp.after_request(allow_own_scripts)
bp.register_blueprint(station_queue.bp)  # the relay's pages: /station/hang-doi, /station/ket-qua
bp.register_blueprint(station_bookings.bp)  # today's help-slot bookings
bp.register_blueprint(station_reports.bp)  # reports, the assistance log

RECEIPT_URL = "/bien-nhan/{code}"  # the receipt page (web/receipt.py); volunteers may open any
ChangeError = (DossierError, PhoneError, IdCardError, UploadError, CameraError)
CONFIRM_FIRST = (
    "Hãy xác nhận đã kiểm tra thông tin căn cước với người dân trước khi nộp / "
    "Confirm that you checked the ID details with the resident before submitting"
)
CHECK_BOX = (
    "Hãy đánh dấu ô “Tôi đã kiểm tra” sau khi đối chiếu / "
    "Tick “I checked” once you have compared them"
)


def init_app(app: Flask, box: Services) -> None:
    """The blueprint, and the shutter button wired to whichever paper is armed."""
    station_shutter.init_app(app.extensions, box)
    app.register_blueprint(bp)


page_edit.register(
    bp,
    prefix="/d/<uuid>",
    allowed=lambda uuid: True,
    back=workspace.url,
    camera=True,
    corners_template="station/corners.html",
)


@bp.get("")
def home() -> str:
    return render_template(
        "station/home.html",
        groups=catalog().grouped(),
        drafts=workspace.drafts(),
        camera=services().camera is not None,
        user=current_user(),
        counts=station_queue.counts(),
    )


@bp.post("/new")
def new() -> Response:
    try:
        uuid = intake().start_draft(request.form.get("procedure", ""), "station")
    except StorageFullError as exc:
        flash(str(exc), "problem")
        return no_store(redirect(flask_url_for(".home"), 303))
    except DossierError:
        abort(404)
    return workspace.back(uuid)


@bp.before_request
def _drafts_only() -> Response | None:
    """A dossier's pages answer only while it is a draft; once submitted, its receipt."""
    uuid = (request.view_args or {}).get("uuid")
    if uuid is None or request.endpoint == "station.version":
        return None
    found = workspace.found(uuid)
    if found.status == "draft":
        return None
    if found.receipt_code is None:
        abort(404)
    remember_receipt(found.receipt_code, uuid)  # a volunteer who reopens it may see the receipt
    return no_store(redirect(RECEIPT_URL.format(code=found.receipt_code), 303))


@bp.get("/d/<uuid>")
def dossier(uuid: str) -> str:
    return workspace.render(uuid)


@bp.get("/d/<uuid>/ho-so.pdf")
def dossier_pdf(uuid: str) -> Response:
    """The papers as the commune will receive them: one PDF, pages in order."""
    try:
        pdf = intake().dossier_pdf(uuid)
    except DossierError as exc:
        abort(404, description=str(exc))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="ho-so-{uuid[:8]}.pdf"'
    return no_store(response)


@bp.get("/d/<uuid>/version")
def version(uuid: str) -> Response:
    """What the workspace polls: a new page or a shutter press (e.g. one that failed) means
    reload; so does the dossier leaving the draft state."""
    found = workspace.found(uuid)
    armed = station_shutter.armed_shutter()
    response = jsonify(pages=len(found.pages), presses=armed.presses, status=found.status)
    return no_store(response)


@bp.post("/d/<uuid>/scan")
def scan(uuid: str) -> Response | tuple[str, int]:
    """Read the ID card under the camera; the frame stays in memory and is never stored."""
    from web.camera import capture_still

    try:
        card = intake().set_applicant_from_frame(uuid, capture_still(services()))
    except ChangeError as exc:
        return workspace.render(uuid, error=str(exc)), 422
    if (buzzer := services().buzzer) is not None:
        buzzer.beep()  # the volunteer hears that the card was read, eyes on the stand
    workspace.pending(uuid, list(card.warnings))
    return workspace.back(uuid, "nguoi-nop")


@bp.post("/d/<uuid>/checked")
def checked(uuid: str) -> Response | tuple[str, int]:
    if not request.form.get("checked"):
        return workspace.render(uuid, error=CHECK_BOX), 422
    workspace.pending(uuid, [])
    return workspace.back(uuid, "nguoi-nop")


@bp.post("/d/<uuid>/applicant")
def applicant(uuid: str) -> Response | tuple[str, int]:
    """A typed name (replacing what the card gave) and/or the phone number."""
    name, phone = request.form.get("name", ""), request.form.get("phone", "")
    try:
        if request.form.get("typed"):
            intake().set_applicant_typed(uuid, name, phone or None)
            workspace.pending(uuid, [])
        else:
            intake().set_phone(uuid, phone)
    except ChangeError as exc:
        return workspace.render(uuid, error=str(exc), typed={"name": name, "phone": phone}), 422
    return workspace.back(uuid, "nguoi-nop")


@bp.post("/d/<uuid>/capture")
def capture(uuid: str) -> Response | tuple[str, int]:
    """A photo from the camera into a paper; the box's shutter button then adds to it too."""
    from web.camera import capture_still

    paper = request.form.get("paper", "")
    _arm(uuid, paper)
    try:
        intake().add_image(uuid, paper, capture_still(services()))
    except ChangeError as exc:
        return workspace.render(uuid, error=str(exc)), 422
    return workspace.back(uuid, paper_anchor(paper))


@bp.post("/d/<uuid>/arm")
def arm(uuid: str) -> Response:
    paper = request.form.get("paper", "")
    _arm(uuid, paper)
    return workspace.back(uuid, paper_anchor(paper))


@bp.post("/d/<uuid>/upload")
def upload(uuid: str) -> Response | tuple[str, int]:
    """Photos from a file picker; each is a page, and one bad file does not stop the others."""
    paper = request.form.get("paper", "")
    files = [f for f in request.files.getlist("photos") if f.filename]
    problems = []
    for file in files:
        try:
            intake().add_photo(uuid, paper, file.read())
        except ChangeError as exc:
            problems.append(f"{file.filename}: {exc}")
    if not files:
        problems.append(page_edit.NO_FILE)
    if problems:
        return workspace.render(uuid, error="\n".join(problems)), 422
    return workspace.back(uuid, paper_anchor(paper))


@bp.post("/d/<uuid>/original")
def original(uuid: str) -> Response | tuple[str, int]:
    paper = request.form.get("paper", "")
    try:
        intake().mark_bring_original(uuid, paper, request.form.get("bring") == "1")
    except ChangeError as exc:
        return workspace.render(uuid, error=str(exc)), 422
    return workspace.back(uuid, paper_anchor(paper))


@bp.post("/d/<uuid>/submit")
def submit(uuid: str) -> Response | tuple[str, int]:
    consent = bool(request.form.get("consent"))
    if workspace.unconfirmed(uuid):
        return workspace.render(uuid, error=CONFIRM_FIRST, consent=consent), 422
    user = current_user()
    actor = f"{user.role}:{user.name}" if user else "station"
    try:
        done = intake().submit(uuid, consent, actor=actor)
    except IncompleteError as exc:
        missing = {paper_key(p) for p in exc.missing}
        return workspace.render(uuid, error=str(exc), missing=missing, consent=consent), 422
    except DossierError as exc:
        return workspace.render(uuid, error=str(exc), consent=consent), 422
    station_shutter.armed_shutter().disarm(uuid)
    workspace.pending(uuid, [])
    remember_receipt(done.receipt_code, uuid)  # this session may open the receipt page
    return no_store(redirect(RECEIPT_URL.format(code=done.receipt_code), 303))


@bp.post("/d/<uuid>/discard")
def discard(uuid: str) -> Response:
    try:
        intake().discard(uuid)
    except DossierError:
        abort(404)
    station_shutter.armed_shutter().disarm(uuid)
    workspace.pending(uuid, [])
    return redirect(flask_url_for(".home"), 303)


def _arm(uuid: str, paper: str) -> None:
    if paper in {paper_key(p.paper) for p in intake().checklist(uuid)}:
        station_shutter.armed_shutter().arm(uuid, paper)
