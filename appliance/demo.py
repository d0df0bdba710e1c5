"""`hamletbox demo`: the whole box on one machine with sample settings and simulated hardware."""

from __future__ import annotations

from pathlib import Path

from appliance import config

DEMO_SETTINGS = """\
# Written by `hamletbox demo` when missing; edit freely, delete it to get the sample back.
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
"""


def run_demo(folder: Path, port: int) -> int:
    """Write the sample settings if missing, then run the web UI in the foreground."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    settings_file = folder / "hamletbox.toml"
    if not settings_file.exists():
        text = DEMO_SETTINGS.format(data=folder / "data", run=folder / "run", port=port)
        settings_file.write_text(text, encoding="utf-8")
    settings = config.load(settings_file)
    base = f"http://127.0.0.1:{port}"
    print(
        f"\nHamlet Box demo — settings in {settings_file}\n"
        f"  resident UI (open at a phone size):  {base}/\n"
        f"  captive-portal welcome:              {base}/portal\n"
        f"  posters (technician, localhost):     {base}/tech/posters\n"
        "Stop with Ctrl-C.\n",
        flush=True,
    )
    from web.server import serve

    serve(settings, host="127.0.0.1", port=port)
    return 0
