"""`hamletbox demo`: the whole box on one machine with sample settings and simulated hardware.

Simulated hardware: a folder camera over generated photos (an ID card, then papers) and
gpiozero's MockFactory for the pins. Sample accounts are created once and printed.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

from appliance import config

DEMO_SETTINGS = """\
# Written by `hamletbox demo` at every start; copy it elsewhere to experiment.
data_dir = "{data}"
runtime_dir = "{run}"

[box]
name = "Hamlet Box"
hamlet = "Thôn Xà Bang 1"
commune = "Xã Xà Bang"
province = "Thành phố Hồ Chí Minh"
station_place = "Nhà văn hóa thôn Xà Bang 1"
office = "Bộ phận một cửa, UBND xã Xà Bang"
office_address = "Tổ 3, ấp Xà Bang, xã Xà Bang"
office_hours = "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00"
help_phone = "0912 345 678"

[hotspot]
ssid = "HamletBox-XaBang1"
password = "xabang-2026"
address = "10.42.0.1"

[web]
host = "127.0.0.1"
port = {port}

[help]
hours = ["thu 08:00-11:00", "daily 19:00-21:00"]

[camera]
backend = "folder"
folder = "{camera}"

[gpio]
pin_factory = "mock"
shutter_pin = 17
buzzer_pin = 12
green_pin = 5
blue_pin = 6
amber_pin = 13
red_pin = 19
shutdown_pin = 26
poweroff_command = ""  # the demo's shutdown button must never power off this machine

[intake]
receipt_prefix = "XB1"

[relay]
device_file = "{device}"
poll_seconds = 5
heartbeat_seconds = 30
catalog_seconds = 300
backoff_base_seconds = 2
backoff_cap_seconds = 60
"""

DEMO_ACCOUNTS = (
    ("tinhnguyen", "volunteer", "demo-tinh-nguyen"),
    ("kythuat", "technician", "demo-ky-thuat"),
)


def write_demo_settings(folder: Path, port: int) -> Path:
    path = folder / "hamletbox.toml"
    text = DEMO_SETTINGS.format(
        data=folder / "data",
        run=folder / "run",
        camera=folder / "camera",
        port=port,
        device=folder / "device.json",
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_camera_samples(camera: Path) -> None:
    """The folder camera's photos: an ID card first (by name), then papers, some with a seal."""
    if camera.is_dir() and any(camera.iterdir()):
        return
    from appliance.capture.images import encode_jpeg
    from appliance.samples.cards import card_photo, sample_card_payload
    from appliance.samples.documents import write_samples

    camera.mkdir(parents=True, exist_ok=True)
    card = card_photo(sample_card_payload(1))
    (camera / "01-can-cuoc.jpg").write_bytes(encode_jpeg(card.image, quality=90))
    write_samples(camera, count=3)


def run_demo(folder: Path, port: int) -> int:
    """Write the sample settings, photos and accounts, start the commune's upstream and the relay,
    then run the web UI in the foreground until Ctrl-C."""
    from appliance.accounts import ensure_user
    from appliance.demo_commune import DemoCommune

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config_file = write_demo_settings(folder, port)
    settings = config.load(config_file)
    write_camera_samples(folder / "camera")
    for name, role, password in DEMO_ACCOUNTS:
        ensure_user(settings, name, role, password)
    commune = DemoCommune(folder, settings, config_file, port + 10)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a service manager: same as Ctrl-C
    try:
        commune.start()
        _print_welcome(folder, port, commune.url)
        from web.server import serve

        serve(commune.web_settings(), host="127.0.0.1", port=port)
    except KeyboardInterrupt:
        print("\nstopping the demo…", flush=True)
    finally:
        commune.stop()
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_welcome(folder: Path, port: int, upstream_url: str) -> None:
    from appliance.demo_commune import DEMO_OFFICER

    base = f"http://127.0.0.1:{port}"
    accounts = "\n".join(
        f"    {role:10} {name} / {password}"
        for name, role, password in (*DEMO_ACCOUNTS, (DEMO_OFFICER[0], "officer", DEMO_OFFICER[1]))
    )
    print(
        f"\nHamlet Box demo — settings in {folder / 'hamletbox.toml'}\n"
        f"  resident UI (open at a phone size):  {base}/\n"
        f"  captive-portal welcome:              {base}/portal\n"
        f"  station (volunteers):                {base}/station\n"
        f"  posters (technicians):               {base}/tech/posters\n"
        f"  SMS to residents (technicians):      {base}/tech/sms/\n"
        f"  diagnostics (technicians):           {base}/tech/chan-doan/\n"
        f"  the LED panel, live (technicians):   {base}/tech/chan-doan/den\n"
        f"  commune inbox (officers):            {upstream_url}/\n"
        f"  fleet page (district):               {upstream_url}/thiet-bi\n"
        f"  sample accounts (name / password):\n{accounts}\n"
        f"  the station camera serves the photos in {folder / 'camera'} in turn;\n"
        "  the relay carries submitted dossiers to the commune inbox and brings decisions back.\n"
        "  the relay's modem is simulated: the SMS residents would get are listed on /tech/sms/.\n"
        f"  the LED panel is simulated: what it shows, and why: {folder / 'run' / 'panel.json'}\n"
        "Stop with Ctrl-C.\n",
        flush=True,
    )
