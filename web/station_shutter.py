"""The copy stand's shutter button: which dossier and paper a press photographs into.

The volunteer "arms" the button by pressing "Chụp" on a paper or choosing the paper for the
button; each press then adds a page to that paper. The press arrives on gpiozero's thread, outside
any request, so it uses the services directly (the camera's own lock serialises captures). A press
that fails (no paper armed, the dossier was submitted, the camera failed) is remembered and shown
on the workspace; the button itself is never silenced.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import current_app

from appliance.capture.camera import CameraError
from appliance.capture.images import UploadError
from appliance.domain.dossier import DossierError
from appliance.intake import Intake
from appliance.services import Services

EXTENSION = "hamletbox.shutter"
NOTHING_ARMED = (
    "Nút chụp chưa được chọn cho giấy tờ nào — bấm “Chụp” ở giấy cần chụp trước / "
    "The shutter button has no paper yet — press “Take photo” on a paper first"
)
log = logging.getLogger("hamletbox.shutter")


@dataclass(frozen=True)
class Target:
    uuid: str
    paper: str


class ArmedShutter:
    """The (dossier, paper) a button press photographs into, and how the last press went."""

    def __init__(self, box: Services) -> None:
        self._box = box
        self._lock = threading.Lock()
        self._handled = threading.Condition(self._lock)
        self._target: Target | None = None
        self._problem: tuple[str, str] | None = None  # (dossier uuid or "", message)
        self.presses = 0  # presses handled so far: the workspace reloads when this changes

    @property
    def present(self) -> bool:
        return self._box.shutter is not None

    def arm(self, uuid: str, paper: str) -> None:
        with self._lock:
            self._target = Target(uuid, paper)
            self._problem = None

    def disarm(self, uuid: str) -> None:
        """Forget a dossier that was submitted or discarded."""
        with self._lock:
            if self._target is not None and self._target.uuid == uuid:
                self._target = None

    def target(self) -> Target | None:
        with self._lock:
            return self._target

    def problem(self, uuid: str) -> str | None:
        """Why the last press for this dossier (or with nothing armed) added no page."""
        with self._lock:
            if self._problem is not None and self._problem[0] in (uuid, ""):
                return self._problem[1]
            return None

    def press(self) -> None:
        """Photograph the armed paper: what the button's callback runs."""
        from web.camera import capture_still

        target = self.target()
        problem = None
        if target is None:
            problem = ("", NOTHING_ARMED)
        else:
            try:
                Intake(self._box).add_image(target.uuid, target.paper, capture_still(self._box))
            except (CameraError, DossierError, UploadError) as exc:
                problem = (target.uuid, str(exc))
        if problem is not None:
            log.warning(
                "shutter press added no page / nút chụp không thêm được trang: %s", problem[1]
            )
        with self._handled:
            self._problem = problem
            self.presses += 1
            self._handled.notify_all()

    def wait_for(self, presses: int, timeout: float) -> bool:
        """Whether `presses` presses have been handled within `timeout` seconds (for tests and
        scripts driving the button: the press is handled on gpiozero's thread)."""
        with self._handled:
            return self._handled.wait_for(lambda: self.presses >= presses, timeout)


def init_app(app_extensions: dict[str, object], box: Services) -> ArmedShutter:
    """One armed shutter per app; the button (if the box has one) presses it."""
    armed = ArmedShutter(box)
    app_extensions[EXTENSION] = armed
    if box.shutter is not None:
        box.shutter.when_pressed(armed.press)
    return armed


def armed_shutter() -> ArmedShutter:
    found: ArmedShutter = current_app.extensions[EXTENSION]
    return found
