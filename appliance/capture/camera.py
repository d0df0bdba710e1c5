"""The station's camera: a Protocol, the Pi camera behind picamera2, and a folder of images.

Only one process can hold a Pi camera, so the web process opens it once at start and keeps it for
its lifetime; every request and the shutter button go through that one object, under a lock
(waitress serves from several threads). picamera2 exists only on a Pi, numpy and Pillow are
heavy: all are imported when a camera is actually opened or used, never at import time.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from appliance.errors import HamletBoxError

if TYPE_CHECKING:
    import numpy

    from appliance.config import Settings

log = logging.getLogger("hamletbox.camera")

PREVIEW_LONGEST = 640
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
FOLDER_MAX_BYTES = 64 * 1024 * 1024  # sample photos are ours, but a stray huge file still stops


class CameraError(HamletBoxError):
    """The camera cannot give a picture; the message says why, Vietnamese then English."""


class Camera(Protocol):
    name: str

    def capture(self) -> numpy.ndarray:
        """A full-resolution still, H×W×3 RGB uint8."""
        ...

    def preview(self) -> numpy.ndarray:
        """A small live frame, RGB, longest side at most PREVIEW_LONGEST."""
        ...

    def close(self) -> None: ...


def preview_size(sensor: tuple[int, int], longest: int = PREVIEW_LONGEST) -> tuple[int, int]:
    """The preview's size: the sensor's shape scaled to `longest`, even numbers, so the preview
    shows exactly the field of view the still will have (no crop from a 4:3 preview of a 16:9
    sensor)."""
    width, height = sensor
    scale = min(1.0, longest / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class PiCamera:
    """picamera2 in a small preview mode all day, switching to a full-resolution still
    configuration only for the moment of a capture.

    A lores stream alongside a running still configuration would keep the sensor in its slowest,
    hottest full-resolution mode all day, and on a Pi 4 lores can only be YUV420 (a colour
    conversion per preview frame); switch_mode_and_capture_array returns to the preview mode by
    itself after the still.
    """

    name = "picamera2"

    def __init__(self, camera_num: int = 0) -> None:
        from picamera2 import Picamera2

        self._lock = threading.Lock()
        self._closed = False
        self._camera: Any = Picamera2(camera_num)
        try:
            width, height = (int(v) for v in self._camera.sensor_resolution)
            self._still = self._camera.create_still_configuration(
                main={"size": (width, height), "format": "RGB888"}
            )
            preview = self._camera.create_preview_configuration(
                main={"size": preview_size((width, height)), "format": "RGB888"}
            )
            self._camera.configure(preview)
            self._camera.start()
        except Exception:
            self._camera.close()
            raise

    def capture(self) -> numpy.ndarray:
        with self._lock:
            self._check_open()
            frame = self._camera.switch_mode_and_capture_array(self._still, "main")
        return _bgr_to_rgb(frame)

    def preview(self) -> numpy.ndarray:
        from appliance.capture.images import downscale

        with self._lock:
            self._check_open()
            frame = self._camera.capture_array("main")
        return downscale(_bgr_to_rgb(frame), PREVIEW_LONGEST)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._camera.stop()
            finally:
                self._camera.close()

    def _check_open(self) -> None:
        if self._closed:
            raise CameraError("Máy ảnh đã tắt / The camera has been closed")


def _bgr_to_rgb(frame: numpy.ndarray) -> numpy.ndarray:
    """picamera2's "RGB888" is [B, G, R] in memory (the DRM naming); pages expect R, G, B."""
    import numpy

    return numpy.ascontiguousarray(frame[..., 2::-1])


class FolderCamera:
    """A camera that "photographs" the images of a folder in turn (sorted by name, then again
    from the first): the demo's and the tests' stand-in for the copy stand."""

    name = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._next = 0
        self._preview: tuple[Path, int, numpy.ndarray] | None = None
        self._images()  # a missing or empty folder is reported when the camera is opened

    def capture(self) -> numpy.ndarray:
        with self._lock:
            images = self._images()
            path = images[self._next % len(images)]
            self._next = (self._next + 1) % len(images)
        return self._load(path)

    def preview(self) -> numpy.ndarray:
        """The image the next capture will return, small; decoded once while it stays next."""
        from appliance.capture.images import downscale

        with self._lock:
            images = self._images()
            path = images[self._next % len(images)]
        stamp = path.stat().st_mtime_ns
        cached = self._preview
        if cached is not None and cached[0] == path and cached[1] == stamp:
            return cached[2]
        small = downscale(self._load(path), PREVIEW_LONGEST)
        self._preview = (path, stamp, small)
        return small

    def close(self) -> None:
        self._preview = None

    def _images(self) -> list[Path]:
        try:
            images = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as exc:
            raise CameraError(
                f"Không mở được thư mục ảnh {self.folder} / "
                f"Cannot open the camera's image folder {self.folder}: {exc.strerror or exc}"
            ) from None
        if not images:
            raise CameraError(
                f"Thư mục ảnh {self.folder} không có ảnh JPEG hay PNG nào / "
                f"The camera's image folder {self.folder} has no JPEG or PNG images"
            )
        return images

    def _load(self, path: Path) -> numpy.ndarray:
        from appliance.capture.images import UploadError, load_upload

        try:
            return load_upload(path.read_bytes(), FOLDER_MAX_BYTES)
        except (OSError, UploadError) as exc:
            raise CameraError(f"{path}: {exc}") from None


def open_camera(settings: Settings) -> Camera | None:
    """The camera the settings ask for, or None: a camera that will not open is logged and the
    box goes on serving residents without it."""
    backend = settings.camera.backend
    if backend == "none":
        return None
    try:
        if backend == "folder":
            if settings.camera.folder is None:
                raise CameraError("camera.folder is not set / chưa đặt camera.folder")
            return FolderCamera(settings.camera.folder)
        if backend == "picamera2":
            return PiCamera()
    except Exception as exc:
        log.warning(
            "camera %s did not open, going on without a camera / "
            "không mở được máy ảnh, hộp vẫn chạy tiếp: %s",
            backend,
            _describe(exc),
        )
        return None
    raise ValueError(f"unknown camera backend {backend!r}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return f"cannot import picamera2 ({exc}); on a Pi: apt install python3-picamera2"
    return f"{type(exc).__name__}: {exc}"
