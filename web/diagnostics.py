"""The technician's diagnostics at /tech/chan-doan: the doctor's checks (run on request), the
camera's test capture, the virtual LED panel, and the support bundle.

The web process holds the camera, so its test capture goes through services.camera; every other
check reads what the other daemons publish, as `hamletbox doctor` does. Written in both languages
at once, like the other technician pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from appliance.capture.camera import CameraError
from appliance.doctor import Check, Probes, run_checks
from appliance.doctor.panel_view import virtual_panel
from web.auth import protect
from web.camera import capture_still
from web.context import services, settings
from web.headers import no_store
from web.station_queue import clock

bp = Blueprint("diagnostics", __name__, url_prefix="/tech/chan-doan")
protect(bp, "technician")
LAST_RUN = "hamletbox.diagnostics_last"
TEST_LONGEST = 480  # the test capture is shown small: enough to see focus and framing
PANEL_REFRESH_SECONDS = 5
LED_NAMES = {
    "green": ("Nguồn", "Power"),
    "blue": ("Kết nối xã", "Uplink"),
    "amber": ("Hàng chờ", "Queue"),
    "red": ("Lỗi", "Fault"),
}
PATTERN_NAMES = {
    "off": "tắt / off",
    "on": "sáng / on",
    "slow": "nháy chậm / slow blink",
    "fast": "nháy nhanh / fast blink",
}


@dataclass(frozen=True)
class LastRun:
    at: datetime
    checks: list[Check]


def _now() -> datetime:
    return datetime.now(UTC)


def _checks() -> list[Check]:
    box = services()
    return run_checks(box.settings, box.sessions, Probes(held_camera=box.camera))


def _panel_context() -> dict[str, object]:
    view = virtual_panel(settings(), services().sessions, _now())
    return {"panel": view, "led_names": LED_NAMES, "pattern_names": PATTERN_NAMES}


@bp.get("/")
def page() -> str:
    last = current_app.extensions.get(LAST_RUN)
    return render_template(
        "technician/diagnostics.html",
        last=last,
        clock=clock,
        camera=services().camera is not None,
        **_panel_context(),
    )


@bp.post("/kiem-tra")
def run() -> Response:
    """Run every check now (up to the checks' timeout) and show them on the page."""
    current_app.extensions[LAST_RUN] = LastRun(_now(), _checks())
    return redirect(url_for("diagnostics.page"), 303)


@bp.get("/den")
def panel() -> Response:
    """The virtual panel alone, refreshing itself: for the demo's screen or a second tab."""
    html = render_template(
        "technician/diagnostics_panel.html", refresh=PANEL_REFRESH_SECONDS, **_panel_context()
    )
    return no_store(Response(html, mimetype="text/html"))


@bp.get("/anh-thu.jpg")
def test_capture() -> Response:
    from appliance.capture.images import downscale, encode_jpeg

    try:
        frame = capture_still(services())
    except CameraError as exc:
        return no_store(Response(f"{exc}\n", status=503, mimetype="text/plain"))
    return no_store(Response(encode_jpeg(downscale(frame, TEST_LONGEST)), mimetype="image/jpeg"))


@bp.get("/goi-ho-tro.zip")
def bundle() -> Response:
    """The support bundle, with a fresh run of the checks in it."""
    from appliance.support_bundle import build_bundle

    now = _now()
    data = build_bundle(settings(), services().sessions, _checks(), now)
    name = f"hamletbox-ho-tro-{now.strftime('%Y%m%d-%H%M%S')}.zip"
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return no_store(response)
