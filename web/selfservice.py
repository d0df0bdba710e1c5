"""A resident files a dossier from their own phone, one step per screen, with no account.

The draft belongs to the browser that started it: its UUID is kept in the (signed, permanent)
session cookie, and every step first checks that the UUID in the URL is one of them, so a phone
can neither see nor change anyone else's draft (a stranger's UUID gets the same 404 as an unknown
one). Drafts themselves are rows in SQLite, so a reload or a reboot of the box loses nothing.
Steps: start → name and phone → each paper (web/selfservice_papers.py) → review and consent →
submit → the receipt page (web/receipt.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from appliance.domain.catalog import Procedure
from appliance.domain.consent import AGREE
from appliance.domain.dossier import DossierError, PaperState, clean_name
from appliance.domain.phone import PhoneError, display, normalize_vn_mobile
from appliance.intake import Intake, notice
from appliance.store.dossiers import DossierRecord
from web import page_edit
from web.context import catalog, settings
from web.errors import error_page
from web.headers import no_store
from web.i18n import _, current_lang
from web.ownership import add_draft, drop_draft, own_drafts, own_receipts, remember_receipt
from web.wording import said

CHANNEL = "phone"

bp = Blueprint("selfservice", __name__, url_prefix="/nop")


@dataclass(frozen=True)
class Draft:
    """A draft this browser owns, with what every screen needs to draw itself."""

    intake: Intake
    record: DossierRecord
    procedure: Procedure
    papers: list[PaperState]

    @property
    def uuid(self) -> str:
        return self.record.uuid

    @property
    def steps(self) -> int:
        """Name and phone, one screen per paper, then the review."""
        return len(self.papers) + 2


def owned(uuid: str) -> Draft | Response:
    """This browser's draft, or a redirect to its receipt once it is submitted; else a 404."""
    if uuid not in own_drafts() and uuid not in own_receipts().values():
        abort(404)
    intake = page_edit.intake()
    try:
        record = intake.get(uuid)
        procedure = intake.procedure(record.procedure_code)
    except DossierError:  # discarded, or its procedure left the catalog
        drop_draft(uuid)
        abort(404)
    if record.status != "draft":
        if record.receipt_code is None:
            abort(404)
        remember_receipt(record.receipt_code, uuid)
        return redirect(url_for("receipt.page", code=record.receipt_code), 303)
    session.modified = True  # a fresh cookie: twelve more hours from each step
    return Draft(intake, record, procedure, intake.checklist(uuid))


def screen(template: str, draft: Draft, step: int, status: int = 200, **values: object) -> Response:
    """A self-service screen: never cached (it is this browser's draft and carries a token)."""
    html = render_template(
        template, draft=draft, p=draft.procedure, step=step, steps=draft.steps, **values
    )
    response = Response(html, status=status, mimetype="text/html")
    return no_store(response)


@bp.get("/<code>")
def start(code: str) -> Response:
    procedure = catalog().get(code)
    if procedure is None:
        return _no_procedure()
    unfinished = [uuid for uuid, proc in own_drafts().items() if proc == procedure.code]
    html = render_template("selfservice/start.html", p=procedure, unfinished=unfinished[-1:])
    response = Response(html, mimetype="text/html")
    return no_store(response)


@bp.post("/<code>")
def begin(code: str) -> Response:
    procedure = catalog().get(code)
    if procedure is None:
        return _no_procedure()
    uuid = page_edit.intake().start_draft(procedure.code, CHANNEL)
    add_draft(uuid, procedure.code)
    return redirect(url_for(".applicant", uuid=uuid), 303)


@bp.get("/hs/<uuid>")
def resume(uuid: str) -> Response:
    """Back to the first step still to do: the name, the first missing paper, or the review."""
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    if found.record.applicant is None or found.record.phone is None:
        return redirect(url_for(".applicant", uuid=uuid), 303)
    for number, state in enumerate(found.papers, start=1):
        if not state.satisfied:
            return redirect(url_for("selfservice_papers.paper", uuid=uuid, number=number), 303)
    return redirect(url_for(".review", uuid=uuid), 303)


@bp.route("/hs/<uuid>/nguoi-nop", methods=["GET", "POST"])
def applicant(uuid: str) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    record = found.record
    if request.method == "GET":
        name = record.applicant.full_name if record.applicant else ""
        phone = display(record.phone) if record.phone else ""
        return screen("selfservice/applicant.html", found, 1, name=name, phone=phone, errors={})
    name, phone = request.form.get("name", ""), request.form.get("phone", "")
    errors = _applicant_errors(name, phone)
    if not errors:
        try:
            found.intake.set_applicant_typed(found.uuid, name, phone)
        except (DossierError, PhoneError) as exc:
            errors = {"form": said(exc)}
    if errors:
        values = {"name": name, "phone": phone, "errors": errors}
        return screen("selfservice/applicant.html", found, 1, 400, **values)
    first = url_for("selfservice_papers.paper", uuid=uuid, number=1)
    return redirect(first if found.papers else url_for(".review", uuid=uuid), 303)


def _applicant_errors(name: str, phone: str) -> dict[str, str]:
    """Both fields checked before anything is written, so each gets its own message."""
    errors = {}
    try:
        clean_name(name)
    except DossierError as exc:
        errors["name"] = said(exc)
    try:
        normalize_vn_mobile(phone)
    except PhoneError as exc:
        errors["phone"] = said(exc)
    return errors


@bp.get("/hs/<uuid>/xem-lai")
def review(uuid: str) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    return _review(found)


@bp.post("/hs/<uuid>/nop")
def submit(uuid: str) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    if request.form.get("consent") != "yes":
        message = _("Hãy đánh dấu vào ô “Tôi đồng ý” ở trên, rồi bấm Nộp hồ sơ.")
        return _review(found, message, 400)
    try:
        done = found.intake.submit(found.uuid, consent=True, actor="resident", lang=current_lang())
    except DossierError as exc:
        return _review(found, said(exc), 400)
    drop_draft(found.uuid)
    remember_receipt(done.receipt_code, found.uuid)
    return redirect(url_for("receipt.page", code=done.receipt_code), 303)


def _review(draft: Draft, problem: str | None = None, status: int = 200) -> Response:
    lang = current_lang()
    record = draft.record
    return screen(
        "selfservice/review.html",
        draft,
        draft.steps,
        status,
        problem=problem,
        phone=display(record.phone) if record.phone else None,
        missing=[n for n, s in enumerate(draft.papers, start=1) if not s.satisfied],
        notice=notice(settings(), lang),
        agree=AGREE.get(lang),
    )


def _no_procedure() -> Response:
    return error_page(
        404,
        _("Không tìm thấy thủ tục này"),
        _("Có thể mã thủ tục đã thay đổi. Hãy tìm lại hoặc xem tất cả thủ tục."),
        search=True,
    )
