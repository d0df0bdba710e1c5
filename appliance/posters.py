"""A4 posters for the cultural house wall: one QR board per procedure, and a "connect here" poster.

Read from two metres by elderly residents: few words, large type, Vietnamese first. Each returns the
PDF as bytes; the CLI writes them to a file and the technician page serves them.
"""

from __future__ import annotations

from urllib.parse import quote

from appliance.config import Settings
from appliance.domain.catalog import Procedure, Text
from appliance.pdf_layout import CONTENT_W, MARGIN, PAGE_H, READABLE, Line, Page, PosterError

__all__ = ["PosterError", "hotspot_poster", "procedure_poster", "procedure_url", "wifi_payload"]

LABELS = {
    "kind": Text("THỦ TỤC HÀNH CHÍNH", "ADMINISTRATIVE PROCEDURE"),
    "code": Text("Mã", "Code"),
    "bring": Text("Mang theo", "Bring"),
    "more": Text("… và {n} giấy tờ khác: xem mã QR", "… and {n} more papers: see the QR code"),
    "fee": Text("Lệ phí", "Fee"),
    "time": Text("Thời hạn giải quyết", "Time limit"),
    "on_box": Text("Xem trên {box}", "See it on the {box}"),
    "portal": Text("Cổng Dịch vụ công quốc gia", "National Public Service Portal"),
    "wifi_first": Text("Kết nối Wi-Fi “{ssid}” trước", "Join the Wi-Fi “{ssid}” first"),
    "help": Text("Giờ có người hỗ trợ", "Help hours"),
    "connect": Text("Kết nối Wi-Fi tại đây", "Connect to Wi-Fi here"),
    "scan": Text("1. Quét mã để kết nối", "1. Scan to join"),
    "network": Text("Tên mạng", "Network"),
    "password": Text("Mật khẩu", "Password"),
    "no_password": Text("(không cần mật khẩu)", "(no password)"),
    "open": Text("2. Mở trình duyệt, gõ địa chỉ:", "2. Open a browser and type:"),
    "or_scan": Text("hoặc quét mã này", "or scan this code"),
}
# The escapes of the WIFI: scheme (ZXing's spec): segno's helper leaves "," unescaped.
_WIFI_ESCAPES = str.maketrans({c: "\\" + c for c in '\\;,:"'})
QR_SIZE = 74.0
FOOTER_H = 24.0
HEADING_H = 70.0  # a long name shrinks within this; the list below keeps its own size


def _t(key: str, lang: str, **values: str) -> str:
    return LABELS[key].get(lang).format(**values)


def _both(key: str, lang: str) -> str:
    """A heading in the poster's language; on a Vietnamese poster, English follows it."""
    label = LABELS[key]
    return label.en if lang == "en" else f"{label.vi} / {label.en}"


def wifi_payload(ssid: str, password: str) -> str:
    """The text of a Wi-Fi join QR: phones offer to join the network when they scan it."""
    if not password:
        return f"WIFI:T:nopass;S:{ssid.translate(_WIFI_ESCAPES)};;"
    return f"WIFI:T:WPA;S:{ssid.translate(_WIFI_ESCAPES)};P:{password.translate(_WIFI_ESCAPES)};;"


def procedure_url(settings: Settings, code: str) -> str:
    """The procedure's page on the box, as a phone on the hotspot reaches it."""
    return f"{settings.box_url}p/{quote(code, safe='')}"


def procedure_poster(settings: Settings, procedure: Procedure, lang: str = "vi") -> bytes:
    """The QR board for one procedure: what to bring, fee, time limit, and two QR codes."""
    page = Page(procedure.name.get(lang), lang)
    qr_top = PAGE_H - MARGIN - FOOTER_H - 30 - QR_SIZE
    heading = _procedure_heading(procedure, lang)
    top = MARGIN + page.block(heading, MARGIN, MARGIN, CONTENT_W, HEADING_H)
    height, tail = qr_top - 6 - top, _fee_and_time(procedure, lang)
    papers = _checklist(page, procedure, lang, tail, height)
    page.block(papers + tail, MARGIN, top, CONTENT_W, height)
    _qr_pair(page, settings, procedure, lang, qr_top)
    _footer(page, settings, lang, hours=True)
    return page.output()


def _procedure_heading(procedure: Procedure, lang: str) -> list[Line]:
    code = f"{_t('kind', lang)} · {_t('code', lang)} {procedure.code}"
    lines = [Line(code, 13, gray=True), Line(procedure.name.get(lang), 34, bold=True, gap=2)]
    other = procedure.name.vi if lang == "en" else procedure.name.en
    if other and other != procedure.name.get(lang):
        lines.append(Line(other, 18, gray=True, gap=1, max_lines=2))
    return lines


def _fee_and_time(procedure: Procedure, lang: str) -> list[Line]:
    return [
        Line(_both("fee", lang), 13, gray=True, gap=5),
        Line(procedure.fee.get(lang), 18, bold=True, max_lines=2),
        Line(_both("time", lang), 13, gray=True, gap=3),
        Line(procedure.time_limit.get(lang), 18, bold=True, max_lines=2),
    ]


def _checklist(
    page: Page, procedure: Procedure, lang: str, around: list[Line], height: float
) -> list[Line]:
    """The required papers as boxes to tick; any that do not fit readably become '… and N more'."""
    names = [paper.name.get(lang) for paper in procedure.papers if paper.required]
    if not names:
        return []
    heading = Line(_both("bring", lang), 20, bold=True, gap=6)
    shown = len(names)
    while True:
        items = [Line(name, 18, tick=True, gap=1.5, max_lines=2) for name in names[:shown]]
        if shown < len(names):
            items.append(Line(_t("more", lang, n=str(len(names) - shown)), 15, gray=True, gap=1.5))
        lines = [heading, *items]
        if shown == 0 or page.fits(around + lines, CONTENT_W, height, READABLE):
            return lines
        shown -= 1


def _qr_pair(page: Page, settings: Settings, procedure: Procedure, lang: str, top: float) -> None:
    """Two QR codes side by side: the page on this box, and the page on the national portal."""
    column = CONTENT_W / 2
    box_url = procedure_url(settings, procedure.code)
    wifi_note = _t("wifi_first", lang, ssid=settings.hotspot.ssid)
    pairs = (
        (box_url, _t("on_box", lang, box=settings.box.name), f"{box_url}\n{wifi_note}"),
        (procedure.portal_url, _t("portal", lang), procedure.portal_url),
    )
    for i, (payload, caption, small) in enumerate(pairs):
        x = MARGIN + i * column
        page.qr(payload, x + (column - QR_SIZE) / 2, top, QR_SIZE)
        caption_lines = [
            Line(caption, 16, bold=True, align="C", max_lines=2),
            Line(small, 9, gray=True, align="C", gap=1, max_lines=4),
        ]
        page.block(caption_lines, x + 2, top + QR_SIZE + 1, column - 4, 28)


def _footer(page: Page, settings: Settings, lang: str, hours: bool) -> None:
    """Where the station is: hamlet, commune, the cultural house, and when volunteers are there."""
    top = PAGE_H - MARGIN - FOOTER_H
    page.rule(top)
    box = settings.box
    lines = [
        Line(" · ".join(p for p in (box.hamlet, box.commune, box.province) if p), 14, bold=True),
        Line(box.station_place, 12, gap=1, max_lines=1),
    ]
    if hours and settings.help_hours:
        text = " · ".join(h.label(lang) for h in settings.help_hours)
        lines.append(Line(f"{_t('help', lang)}: {text}", 12, gap=1, max_lines=2))
    page.block(lines, MARGIN, top + 2.5, CONTENT_W, FOOTER_H - 2.5)


def hotspot_poster(settings: Settings) -> bytes:
    """'Connect here': the Wi-Fi join QR with name and password in print, then the box address."""
    page = Page(LABELS["connect"].vi, "vi")
    title = [
        Line(LABELS["connect"].vi, 40, bold=True, align="C", max_lines=2),
        Line(LABELS["connect"].en, 20, gray=True, align="C", gap=1),
    ]
    y = MARGIN + page.block(title, MARGIN, MARGIN, CONTENT_W, 36) + 6
    hot = settings.hotspot
    page.qr(wifi_payload(hot.ssid, hot.password), MARGIN, y, 80)
    page.block(_join_lines(settings), MARGIN + 86, y + 4, CONTENT_W - 86, 76)
    y += 88
    page.qr(settings.box_url, MARGIN, y, 62)
    page.block(_open_lines(settings), MARGIN + 86, y + 4, CONTENT_W - 86, 58)
    y += 68
    page.block(_hours_lines(settings), MARGIN, y, CONTENT_W, PAGE_H - MARGIN - FOOTER_H - y - 2)
    _footer(page, settings, "vi", hours=False)
    return page.output()


def _join_lines(settings: Settings) -> list[Line]:
    hot = settings.hotspot
    password = (
        Line(hot.password, 26, bold=True, mono=True, max_lines=3)
        if hot.password
        else Line(LABELS["no_password"].vi, 20, bold=True)
    )
    return [
        Line(LABELS["scan"].vi, 18, bold=True),
        Line(LABELS["scan"].en, 13, gray=True),
        Line(_both("network", "vi"), 13, gray=True, gap=5),
        Line(hot.ssid, 26, bold=True, mono=True, max_lines=2),
        Line(_both("password", "vi"), 13, gray=True, gap=4),
        password,
    ]


def _open_lines(settings: Settings) -> list[Line]:
    return [
        Line(LABELS["open"].vi, 18, bold=True),
        Line(LABELS["open"].en, 13, gray=True),
        Line(settings.box_url, 26, bold=True, mono=True, gap=5, max_lines=2),
        Line(_both("or_scan", "vi"), 13, gray=True, gap=3),
    ]


def _hours_lines(settings: Settings) -> list[Line]:
    hours = settings.help_hours
    if not hours:
        return []
    return [
        Line(_both("help", "vi"), 18, bold=True),
        *(Line(h.label("vi"), 18, gap=1, max_lines=1) for h in hours),
        Line(" · ".join(h.label("en") for h in hours), 12, gray=True, gap=2, max_lines=2),
    ]
