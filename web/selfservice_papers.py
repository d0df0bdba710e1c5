"""The phone flow's paper screens: one paper per screen, photographed or promised as an original.

A photo comes from `<input type=file accept="image/*" capture="environment">`, so a phone opens its
camera; several files at once become several pages. A refused file (a PDF renamed .jpg, a
truncated JPEG, a HEIC, a 100-megapixel PNG, one too big) is named on the same screen with the
reason, and the pages already added stay. Turning, moving, deleting, retaking and re-cropping a
page are web/page_edit.py's routes, shared with the station.

An ID card is never photographed here: the box keeps no image of one (the law makes it sensitive
data), so for an ID paper the phone offers only "I'll bring the original".
"""

from __future__ import annotations

import unicodedata

from flask import Blueprint, abort, g, redirect, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from appliance.capture.camera import CameraError
from appliance.capture.images import UploadError
from appliance.domain.catalog import Paper
from appliance.domain.dossier import DossierError, PaperState, paper_key
from web import page_edit
from web.i18n import _
from web.ownership import own_drafts
from web.selfservice import Draft, owned, screen
from web.wording import said

MB = 1024 * 1024
FILES_MAX = 10  # pages added by one upload; more is a mistake, not a paper
ID_CARD_WORDS = ("căn cước", "cccd", "cmnd", "chứng minh nhân dân")

bp = Blueprint("selfservice_papers", __name__, url_prefix="/nop")


def is_id_card(paper: Paper) -> bool:
    """Whether a paper is a citizen ID card (by its Vietnamese name, as the catalog writes it)."""
    name = unicodedata.normalize("NFC", paper.name.vi).casefold()
    return any(word in name for word in ID_CARD_WORDS)


def _paper_url(uuid: str) -> str:
    """Where a page edit returns: the screen of the paper the page was on (_remember_paper)."""
    number = g.get("paper_number")
    if number is None:
        return url_for("selfservice.resume", uuid=uuid)
    return url_for(".paper", uuid=uuid, number=number)


@bp.before_request
def _remember_paper() -> None:
    """Before a page edit runs (a deleted page is gone afterwards), note which paper it is on."""
    args = request.view_args or {}
    uuid, page_id = args.get("uuid"), args.get("page_id")
    if not isinstance(uuid, str) or not isinstance(page_id, int) or uuid not in own_drafts():
        return
    intake = page_edit.intake()
    try:
        dossier = intake.get(uuid)
        procedure = intake.procedure(dossier.procedure_code)
    except DossierError:
        return
    name = next((p.paper_name for p in dossier.pages if p.id == page_id), None)
    keys = [paper_key(p) for p in procedure.papers]
    if name in keys:
        g.paper_number = keys.index(name) + 1


page_edit.register(
    bp,
    prefix="/hs/<uuid>",
    allowed=lambda uuid: uuid in own_drafts(),
    back=_paper_url,
    camera=False,
    corners_template="selfservice/corners.html",
)


def _state(draft: Draft, number: int) -> PaperState:
    if not 1 <= number <= len(draft.papers):
        abort(404)
    return draft.papers[number - 1]


@bp.get("/hs/<uuid>/giay/<int:number>")
def paper(uuid: str, number: int) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    return _screen(found, number)


@bp.post("/hs/<uuid>/giay/<int:number>/anh")
def upload(uuid: str, number: int) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    state = _state(found, number)
    if is_id_card(state.paper):
        abort(404)
    files = [f for f in request.files.getlist("photo") if f.filename][:FILES_MAX]
    if not files:
        return _screen(found, number, [_("Chưa chọn ảnh nào. Hãy bấm “Chụp ảnh” trước.")], 400)
    problems = []
    for index, upload in enumerate(files, start=1):
        try:
            _add(found, paper_key(state.paper), upload)
        except (DossierError, UploadError, CameraError) as exc:
            prefix = _("Ảnh %(n)s", n=index) + ": " if len(files) > 1 else ""
            problems.append(prefix + said(exc))
    if problems:
        return _screen(owned_again(uuid), number, problems, 400)
    return _back_to(uuid, number)


def _add(draft: Draft, paper_name: str, upload: FileStorage) -> None:
    """Read at most the size limit (plus one byte, to tell that it is over) and add the page."""
    limit = draft.intake.settings.intake.max_image_mb * MB
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        size = (len(data) + _rest(upload)) / MB
        raise UploadError(
            _(
                "Ảnh quá lớn (%(size).1f MB, tối đa %(limit)s MB) — hãy chụp lại với độ phân "
                "giải thấp hơn",
                size=size,
                limit=limit // MB,
            )
        )
    draft.intake.add_photo(draft.uuid, paper_name, data)


def _rest(upload: FileStorage) -> int:
    """The bytes left unread in an upload, counted without holding them in memory."""
    here = upload.stream.tell()
    end = upload.stream.seek(0, 2)
    return max(0, end - here)


def owned_again(uuid: str) -> Draft:
    """The draft as it is now, after some pages were added."""
    found = owned(uuid)
    if isinstance(found, Response):
        abort(404)
    return found


@bp.post("/hs/<uuid>/giay/<int:number>/ban-chinh")
def original(uuid: str, number: int) -> Response:
    found = owned(uuid)
    if isinstance(found, Response):
        return found
    state = _state(found, number)
    if state.paper.bring != "original":
        abort(404)
    bring = request.form.get("bring") == "yes"
    found.intake.mark_bring_original(uuid, paper_key(state.paper), bring)
    if bring:  # promised: on to the next paper, as the resident expects
        return _next(uuid, number, len(found.papers))
    return _back_to(uuid, number)


def _next(uuid: str, number: int, papers: int) -> Response:
    if number < papers:
        return redirect(url_for(".paper", uuid=uuid, number=number + 1), 303)
    return redirect(url_for("selfservice.review", uuid=uuid), 303)


def _back_to(uuid: str, number: int) -> Response:
    return redirect(url_for(".paper", uuid=uuid, number=number), 303)


def _screen(
    draft: Draft, number: int, problems: list[str] | None = None, status: int = 200
) -> Response:
    state = _state(draft, number)
    name = paper_key(state.paper)
    pages = [p for p in draft.record.pages if p.paper_name == name]
    after = (
        url_for(".paper", uuid=draft.uuid, number=number + 1)
        if number < len(draft.papers)
        else url_for("selfservice.review", uuid=draft.uuid)
    )
    before = (
        url_for(".paper", uuid=draft.uuid, number=number - 1)
        if number > 1
        else url_for("selfservice.applicant", uuid=draft.uuid)
    )
    return screen(
        "selfservice/paper.html",
        draft,
        number + 1,
        status,
        state=state,
        number=number,
        pages=pages,
        id_card=is_id_card(state.paper),
        problems=problems or [],
        after=after,
        before=before,
    )
