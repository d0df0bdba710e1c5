"""The station camera's live preview, for volunteers and technicians only (ID cards pass under it).

The page shows the preview as an <img> on stream.mjpg: a multipart/x-mixed-replace stream that
every browser plays without a script (the box's pages run none). A stream occupies one of
waitress's threads for as long as it runs, so at most MAX_STREAMS run at once and each ends after
STREAM_SECONDS; the station page is reloaded by every capture anyway, which opens a fresh stream.
The last frame is sent dimmed, so a picture that has stopped never looks live. preview.jpg is one
frame, for a still look or a page that refreshes itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app
from flask.blueprints import BlueprintSetupState

from appliance.capture.camera import Camera, CameraError
from appliance.services import Services
from web.auth import require_role
from web.context import services
from web.headers import no_store

if TYPE_CHECKING:
    import numpy

bp = Blueprint("camera", __name__, url_prefix="/station/camera")

FPS = 4.0
STREAM_SECONDS = 120.0
MAX_STREAMS = 2  # of waitress's 8 threads: the station screen and one volunteer's phone
QUALITY = 70
BOUNDARY = "hamletbox-frame"
STREAMS = "hamletbox.camera_streams"
NO_CAMERA = (
    "Hộp chưa có máy ảnh — hãy dùng nút tải ảnh lên / "
    "No camera is connected to the box — upload photos instead"
)
BUSY = (
    "Màn xem trước đang mở ở hai nơi khác — hãy đóng bớt rồi tải lại trang / "
    "The preview is already open in two other places — close one and reload the page"
)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.extensions[STREAMS] = threading.BoundedSemaphore(MAX_STREAMS)


def capture_still(box: Services) -> numpy.ndarray:
    """A full-resolution still from the station camera, for a view or the shutter's callback
    (which runs outside any request, hence the explicit services)."""
    if box.camera is None:
        raise CameraError(NO_CAMERA)
    return box.camera.capture()


@bp.get("/preview.jpg")
@require_role("volunteer", "technician")
def preview_jpg() -> Response:
    from appliance.capture.images import encode_jpeg

    camera = services().camera
    if camera is None:
        return _text(404, NO_CAMERA)
    try:
        frame = camera.preview()
    except CameraError as exc:
        return _text(503, str(exc))
    response = Response(encode_jpeg(frame, QUALITY), mimetype="image/jpeg")
    return no_store(response)


@bp.get("/stream.mjpg")
@require_role("volunteer", "technician")
def stream_mjpg() -> Response:
    camera = services().camera
    if camera is None:
        return _text(404, NO_CAMERA)
    slots: threading.BoundedSemaphore = current_app.extensions[STREAMS]
    if not slots.acquire(blocking=False):
        return _text(503, BUSY)
    body = MjpegStream(mjpeg_parts(camera, seconds=STREAM_SECONDS, fps=FPS), slots.release)
    response = Response(
        body,
        content_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        direct_passthrough=True,
    )
    return no_store(response)


class MjpegStream:
    """The stream's body; gives its slot back when the server closes it, which happens whether
    the stream ran out, the browser went away, or it never started (a HEAD request)."""

    def __init__(self, parts: Iterator[bytes], release: Callable[[], None]) -> None:
        self._parts = parts
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self._parts

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            close = getattr(self._parts, "close", None)
            if close is not None:
                close()
            release()


def mjpeg_parts(
    camera: Camera,
    *,
    seconds: float,
    fps: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bytes]:
    """Preview frames as multipart parts, `fps` a second for `seconds`, then the last one dimmed;
    a camera error ends the stream (the page still works without it)."""
    from appliance.capture.images import encode_jpeg

    interval = 1.0 / fps
    end = clock() + seconds
    last = None
    while (started := clock()) < end:
        try:
            last = camera.preview()
        except CameraError:
            break
        yield _part(encode_jpeg(last, QUALITY))
        sleep(max(0.0, interval - (clock() - started)))
    if last is not None:
        yield _part(encode_jpeg(last // 3, QUALITY))


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"


def _text(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    return no_store(response)
