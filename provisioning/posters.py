"""`provision poster`: each box's "connect here" poster, printed by the technician before the trip
so the poster that goes up on the wall matches the image that went onto the box's card.

The page is the box's own (`appliance.posters.hotspot_poster`); only the settings differ per row:
the sheet's box name, hamlet, Wi-Fi name and password over a template settings file (help hours,
commune, station place) or the defaults, and the hotspot address every box has (10.42.0.1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from appliance.config import Settings
from provisioning.devices import Refused, check_hostname, check_password
from provisioning.enroll import Sheet, read_sheet

NEEDED = ("hostname", "hamlet", "box_name", "ssid", "wifi_password")


def row_settings(template: Settings, row: Mapping[str, str]) -> Settings:
    """The settings this row's box runs with, as far as the poster shows them."""
    box = dataclasses.replace(template.box, name=row["box_name"], hamlet=row["hamlet"])
    hotspot = dataclasses.replace(template.hotspot, ssid=row["ssid"], password=row["wifi_password"])
    return dataclasses.replace(template, box=box, hotspot=hotspot)


def write_posters(devices: Path, out: Path, template: Settings) -> list[Path]:
    """One <hostname>-wifi.pdf per row; the whole sheet is checked before the first is made."""
    from appliance.posters import hotspot_poster  # fpdf and qrcode: only when printing

    sheet = read_sheet(devices, NEEDED)
    _check(sheet)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for row in sheet.rows:
        path = out / f"{row['hostname'].lower()}-wifi.pdf"
        data = hotspot_poster(row_settings(template, row))
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # a half-written PDF never takes the final name
        written.append(path)
    return written


def _check(sheet: Sheet) -> None:
    """The same hostname and password rules `provision image` applies; one row per hostname."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(sheet.rows):
        where = f"{sheet.path}: dòng {sheet.row_number(i)} / row {sheet.row_number(i)}"
        problems += [f"{where}: {p}" for p in check_password(row["wifi_password"], row["ssid"])]
        name = row["hostname"].lower()
        problems += [f"{where}: {p}" for p in check_hostname(name)]
        if name in seen:
            problems.append(f"{where}: tên máy trùng / duplicate hostname: {name}")
        seen.add(name)
    if problems:
        raise Refused(problems)
