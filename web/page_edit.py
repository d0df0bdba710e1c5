"""A draft's pages, edited from any blueprint: preview, turn, move, delete, retake, re-crop.

The station and the phone flow show the same pages with the same buttons; this module adds the
routes to a blueprint and web/templates/_pages.html draws the list. How a blueprint uses it:

    from web import page_edit

    page_edit.register(
        bp,
        prefix="/d/<uuid>",        # where a draft lives in this blueprint's URLs; must hold <uuid>
        allowed=lambda uuid: True, # may this request touch draft `uuid`? (phone: is it this
                                   # session's draft?) False -> 404. Role checks stay the
                                   # blueprint's own (web.auth.protect).
        back=lambda uuid: url_for("station.dossier", uuid=uuid),  # the page to return to
        camera=True,               # offer "retake with the camera" (station only)
        corners_template="station/corners.html",  # page holding _pages.html's corners_form()
    )

Endpoints added under the blueprint (prefix + …):
    GET  /page/<int:page_id>.jpg           .page_image    the cleaned page, small (?size=l: large)
    GET  /page/<int:page_id>/source.jpg    .page_source   the photo it was cut from, ≤ 1280 px
    POST /page/<int:page_id>/rotate        .page_rotate   field turns = 1 | -1 | 2
    POST /page/<int:page_id>/move          .page_move     field to = up | down (within its paper)
    POST /page/<int:page_id>/delete        .page_delete
    POST /page/<int:page_id>/retake        .page_retake   file field photo, or camera=1
    GET  /page/<int:page_id>/corners       .page_corners  renders corners_template
    POST /page/<int:page_id>/corners       .page_recrop   fields x0 y0 x1 y1 x2 y2 x3 y3, the
                                                          corners in source-photo pixels
In a template: `{% from "_pages.html" import problems, page_list with context %}`, then
`{{ problems() }}` near the top (an action's error is flashed, category "problem") and
`{{ page_list(uuid, pages, camera=False) }}` for one paper's pages (PageRecords). The corners
template gets uuid, page, source_size, corners and back, and calls
`{{ corners_form(uuid, page, source_size, corners) }}`. After an action the browser
goes back to `back(uuid)` at the paper's anchor, `paper_anchor(name)` (a Jinja global): give the
paper's element that id. Images are private to the session and cached by their content's hash.
The corners page works without JavaScript (numeric fields, "use the whole photo"); to let
web/static/corners.js drag the corners, the blueprint adds `bp.after_request(allow_own_scripts)`
(web.headers) and the template loads `asset_url('corners.js')`, as station/corners.html does.
`intake()` gives the filing service for this request; `NO_FILE` is the "choose a photo" message.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from appliance.capture.camera import CameraError
from appliance.capture.images import UploadError, header_size
from appliance.domain.dossier import DossierError
from appliance.intake import Intake
from appliance.store.dossier_records import PageRecord
from web.context import services
from web.headers import no_store

THUMB_PX, LARGE_PX, SOURCE_PX = 320, 1280, 1280
QUALITY = 80
LONG_CACHE = "private, max-age=31536000, immutable"
SHORT_CACHE = "private, no-cache"
TURNS = {"1": 1, "-1": -1, "2": 2}
CORNER_FIELDS = tuple(f"{axis}{i}" for i in range(4) for axis in "xy")
NO_FILE = "Chưa chọn ảnh nào — hãy chụp hoặc chọn ảnh / No photo chosen — take or choose one"
BAD_NUMBERS = "Tọa độ các góc phải là số / The corners must be numbers"
EditError = (DossierError, UploadError, CameraError)


def intake() -> Intake:
    """The filing service over this app's services (cheap: one per request)."""
    return Intake(services())


def paper_anchor(name: str) -> str:
    """A stable element id for a paper of the checklist, so an action returns to it."""
    return "giay-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


def register(
    bp: Blueprint,
    *,
    prefix: str,
    allowed: Callable[[str], bool],
    back: Callable[[str], str],
    camera: bool = False,
    corners_template: str,
) -> None:
    """Add the page routes to `bp` (see the module's docstring)."""
    if "<uuid>" not in prefix:
        raise ValueError(f"prefix {prefix!r} must hold <uuid>")
    edits = _Edits(allowed, back, camera, corners_template)
    base = f"{prefix}/page/<int:page_id>"
    bp.add_url_rule(f"{base}.jpg", "page_image", edits.image, methods=["GET"])
    bp.add_url_rule(f"{base}/source.jpg", "page_source", edits.source, methods=["GET"])
    bp.add_url_rule(f"{base}/rotate", "page_rotate", edits.rotate, methods=["POST"])
    bp.add_url_rule(f"{base}/move", "page_move", edits.move, methods=["POST"])
    bp.add_url_rule(f"{base}/delete", "page_delete", edits.delete, methods=["POST"])
    bp.add_url_rule(f"{base}/retake", "page_retake", edits.retake, methods=["POST"])
    bp.add_url_rule(f"{base}/corners", "page_corners", edits.corners, methods=["GET"])
    bp.add_url_rule(f"{base}/corners", "page_recrop", edits.recrop, methods=["POST"])
    bp.add_app_template_global(paper_anchor, "paper_anchor")


class _Edits:
    """The views, bound to one blueprint's access rule and return page."""

    def __init__(
        self,
        allowed: Callable[[str], bool],
        back: Callable[[str], str],
        camera: bool,
        corners_template: str,
    ) -> None:
        self._allowed = allowed
        self._back = back
        self._camera = camera
        self._template = corners_template

    def _page(self, uuid: str, page_id: int) -> PageRecord:
        if not self._allowed(uuid):
            abort(404)
        try:
            return intake().page(uuid, page_id)[1]
        except DossierError:
            abort(404)

    def image(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        longest = LARGE_PX if request.args.get("size") == "l" else THUMB_PX
        data = services().blobs.read(page.sha256)
        return _image(preview_jpeg(data, longest), page.sha256)

    def source(self, uuid: str, page_id: int) -> Response:
        self._page(uuid, page_id)
        try:
            page, data = intake().source_photo(uuid, page_id)
        except DossierError:
            abort(404)
        assert page.cut is not None
        return _image(preview_jpeg(data, SOURCE_PX), page.cut.source_sha256)

    def rotate(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        turns = TURNS.get(request.form.get("turns", ""))
        if turns is None:
            abort(400)
        return self._do(uuid, page, lambda: intake().rotate_page(uuid, page_id, turns))

    def move(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        step = {"up": -1, "down": 1}.get(request.form.get("to", ""))
        if step is None:
            abort(400)
        return self._do(uuid, page, lambda: _move(uuid, page, step))

    def delete(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        return self._do(uuid, page, lambda: intake().remove_page(uuid, page_id))

    def retake(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            data = upload.read()
            return self._do(uuid, page, lambda: intake().replace_photo(uuid, page_id, data))
        if self._camera and request.form.get("camera"):
            from web.camera import capture_still

            return self._do(
                uuid,
                page,
                lambda: intake().replace_image(uuid, page_id, capture_still(services())),
            )
        flash(NO_FILE, "problem")
        return self._return(uuid, page)

    def corners(self, uuid: str, page_id: int) -> Response | str:
        self._page(uuid, page_id)
        try:
            page, data = intake().source_photo(uuid, page_id)
        except DossierError as exc:
            flash(str(exc), "problem")
            return redirect(self._back(uuid), 303)
        width, height = header_size(data, "jpeg") or (1, 1)
        assert page.cut is not None
        points = page.cut.corners or (
            (0, 0),
            (width - 1, 0),
            (width - 1, height - 1),
            (0, height - 1),
        )
        return render_template(
            self._template,
            uuid=uuid,
            page=page,
            source_size=(width, height),
            corners=[(round(x), round(y)) for x, y in points],
            back=self._back(uuid),
        )

    def recrop(self, uuid: str, page_id: int) -> Response:
        page = self._page(uuid, page_id)
        try:
            values = [float(request.form.get(name, "")) for name in CORNER_FIELDS]
        except ValueError:
            flash(BAD_NUMBERS, "problem")
            return redirect(request.path, 303)
        corners = tuple((values[i], values[i + 1]) for i in range(0, 8, 2))
        return self._do(uuid, page, lambda: intake().recrop_page(uuid, page_id, corners))

    def _do(self, uuid: str, page: PageRecord, action: Callable[[], object]) -> Response:
        """Run an edit; its refusal is flashed and nothing already saved changes."""
        try:
            action()
        except EditError as exc:
            flash(str(exc), "problem")
        return self._return(uuid, page)

    def _return(self, uuid: str, page: PageRecord) -> Response:
        response = redirect(f"{self._back(uuid)}#{paper_anchor(page.paper_name)}", 303)
        return no_store(response)


def _move(uuid: str, page: PageRecord, step: int) -> None:
    """Swap places with the paper's previous (-1) or next (+1) page; at an end, stay."""
    siblings = [p for p in intake().get(uuid).pages if p.paper_name == page.paper_name]
    index = next(i for i, p in enumerate(siblings) if p.id == page.id) + step
    if 0 <= index < len(siblings):
        intake().move_page(uuid, page.id, siblings[index].position)


def whole_photo(width: int, height: int) -> tuple[tuple[float, float], ...]:
    """The corners of the whole photo: where the handles start when no page edges were found."""
    right, bottom = float(width - 1), float(height - 1)
    return ((0.0, 0.0), (right, 0.0), (right, bottom), (0.0, bottom))


def preview_jpeg(data: bytes, longest: int) -> bytes:
    """A small JPEG of a page blob (G4 TIFF or JPEG) or a source photo, for the screen."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (longest, longest))  # JPEG: decode at a reduced scale, much faster
        small = image.convert("L" if image.mode in ("1", "L") else "RGB")
    small.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()


def _image(jpeg: bytes, sha: str) -> Response:
    """Cached long by the browser only when the URL names this content (?v=first 12 hex)."""
    response = Response(jpeg, mimetype="image/jpeg")
    fresh = request.args.get("v") == sha[:12]
    response.headers["Cache-Control"] = LONG_CACHE if fresh else SHORT_CACHE
    return response
