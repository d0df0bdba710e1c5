"""The resident's A5 receipt, and printing it on the station's CUPS printer.

Modelled on the one-stop "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" (Mẫu số 01, Thông tư
01/2018/TT-VPCP): national motto, who received what and when, the time limit, where to collect.
The box is not the one-stop office, so the slip says "biên nhận" and points to the commune's own
receipt that follows. The code is printed large with a QR of the box's status page.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from appliance.config import Settings
from appliance.domain.catalog import Procedure, Text
from appliance.domain.dossier import checklist, paper_key
from appliance.errors import HamletBoxError
from appliance.pdf_layout import A5_H, A5_W, Line, Page
from appliance.store.dossier_records import DossierRecord

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving: a fixed offset is exact
M = 10.0  # margin, mm
W = A5_W - 2 * M
QR = 34.0
FOOTER_H = 15.0
PRINT_TIMEOUT_S = 30
_PRINTER_NAME = re.compile(r"^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,126}$")  # CUPS queue names

LABELS = {
    "office": Text("UBND {commune}", "{commune} People's Committee"),
    "motto1": Text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "motto2": Text("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "dated": Text("{place}, ngày {d:02d} tháng {m:02d} năm {y}", "{place}, {d:02d}/{m:02d}/{y}"),
    "title": Text("GIẤY BIÊN NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "DOSSIER RECEIPT AND APPOINTMENT"),
    "code": Text("Mã biên nhận", "Receipt code"),
    "scan": Text("Quét mã QR để xem tình trạng hồ sơ", "Scan the QR code to see the status"),
    "applicant": Text("Người nộp hồ sơ: {name}", "Applicant: {name}"),
    "procedure": Text("Thủ tục: {name} (mã {code})", "Procedure: {name} (code {code})"),
    "papers": Text("Giấy tờ đã nhận:", "Papers received:"),
    "pages": Text("{n} trang", "{n} page(s)"),
    "original": Text("bản chính mang đến xã", "original brought to the commune"),
    "received": Text("Nhận hồ sơ lúc: {time}", "Received: {time}"),
    "limit": Text(
        "Thời hạn giải quyết (từ khi xã tiếp nhận): {text}",
        "Time limit (from when the commune receives it): {text}",
    ),
    "collect": Text("Nhận kết quả tại: {place}", "Collect the result at: {place}"),
    "lookup": Text("Xem tình trạng hồ sơ", "How to see the status"),
    "how": Text(
        "Bạn sẽ nhận tin nhắn SMS khi xã tiếp nhận hồ sơ và khi có kết quả. Hoặc kết nối Wi-Fi "
        "“{ssid}”, mở {url}, nhập mã biên nhận và 4 số cuối số điện thoại đã đăng ký.",
        "You get a text message when the commune receives your dossier and when the result is "
        "ready. Or join the Wi-Fi “{ssid}”, open {url}, and enter the receipt code and the last "
        "4 digits of your phone number.",
    ),
    "applicant_sign": Text("NGƯỜI NỘP HỒ SƠ", "APPLICANT"),
    "receiver_sign": Text("NGƯỜI TIẾP NHẬN", "RECEIVED BY"),
    "sign_note": Text("(Ký, ghi rõ họ tên)", "(signature and name)"),
    "keep": Text(
        "Giữ giấy này đến khi nhận kết quả.", "Keep this slip until you collect the result."
    ),
    "help": Text("Hỗ trợ: {phone}", "Help: {phone}"),
}


class PrintError(HamletBoxError):
    """The receipt could not be printed; the dossier is submitted all the same."""


def _t(key: str, lang: str, **values: object) -> str:
    return LABELS[key].get(lang).format(**values)


def lookup_url(settings: Settings, code: str) -> str:
    """The box's status page for a receipt code: what the receipt's QR opens."""
    return f"{settings.box_url}tra-cuu?ma={quote(code, safe='')}"


def local_time(moment: datetime) -> datetime:
    """A stored UTC time as the clock on the cultural house's wall shows it."""
    return moment.astimezone(VIETNAM)


def receipt_pdf(
    settings: Settings, dossier: DossierRecord, procedure: Procedure, lang: str = "vi"
) -> bytes:
    """The A5 receipt of a submitted dossier, as PDF bytes."""
    code, submitted = dossier.receipt_code, dossier.submitted_at
    if code is None or submitted is None or dossier.applicant is None:
        raise ValueError("only a submitted dossier has a receipt")
    page = Page(f"{_t('title', lang)} {code}", lang, paper=(A5_W, A5_H))
    y = _header(page, settings, local_time(submitted), lang)
    y = _code_block(page, settings, code, y, lang)
    bottom = A5_H - M - FOOTER_H - (20 if dossier.channel == "station" else 0)
    details = _details(settings, dossier, procedure, local_time(submitted), lang)
    page.block(details, M, y, W, bottom - y)
    if dossier.channel == "station":
        _signatures(page, bottom + 2, lang)
    _footer(page, settings, lang)
    return page.output()


def _header(page: Page, settings: Settings, when: datetime, lang: str) -> float:
    box, left_w = settings.box, 50.0
    left = [
        Line(_t("office", lang, commune=box.commune).upper(), 7.5, align="C", max_lines=2),
        Line(box.hamlet.upper(), 7.5, bold=True, align="C", max_lines=2),
    ]
    right = [
        Line(_t("motto1", lang), 7.5, bold=True, align="C", max_lines=1),
        Line(_t("motto2", lang), 8, bold=True, align="C", max_lines=1),
    ]
    used = max(page.block(left, M, M, left_w, 14), page.block(right, M + left_w, M, W - left_w, 9))
    page.rule(M + used + 1, M + left_w + 22, W - left_w - 44)
    dated = _t("dated", lang, place=box.commune, d=when.day, m=when.month, y=when.year)
    y = M + used + 3
    y += page.block([Line(dated, 8.5, gray=True, align="R", max_lines=1)], M, y, W, 6) + 2
    title = [Line(_t("title", lang), 12.5, bold=True, align="C", max_lines=2)]
    if lang != "en":
        title.append(Line(LABELS["title"].en.capitalize(), 8, gray=True, align="C", gap=0.5))
    return y + page.block(title, M, y, W, 16) + 3


def _code_block(page: Page, settings: Settings, code: str, y: float, lang: str) -> float:
    page.qr(lookup_url(settings, code), M - 2, y, QR)
    lines = [
        Line(_t("code", lang) + ("" if lang == "en" else " / Receipt code"), 8.5, gray=True),
        Line(code, 24, bold=True, mono=True, gap=1, max_lines=1),
        Line(_t("scan", lang), 8.5, gap=2, max_lines=2),
    ]
    page.block(lines, M + QR + 2, y + 4, W - QR, QR - 4)
    return y + QR + 2


def _details(
    settings: Settings, dossier: DossierRecord, procedure: Procedure, when: datetime, lang: str
) -> list[Line]:
    assert dossier.applicant is not None
    name = procedure.name.get(lang)
    return [
        Line(_t("applicant", lang, name=dossier.applicant.full_name), 11.5, bold=True),
        Line(_t("procedure", lang, name=name, code=procedure.code), 10.5, gap=1.5),
        Line(_t("papers", lang), 10.5, gap=1.5),
        *(
            Line(f"– {text}", 9.5, gap=0.5, max_lines=2)
            for text in _papers(dossier, procedure, lang)
        ),
        Line(_t("received", lang, time=when.strftime("%H:%M, %d/%m/%Y")), 10.5, gap=1.5),
        Line(_t("limit", lang, text=procedure.time_limit.get(lang)), 10.5, gap=1.5, max_lines=3),
        Line(_t("collect", lang, place=settings.box.station_place), 10.5, gap=1.5, max_lines=2),
        Line(_t("lookup", lang), 10.5, bold=True, gap=3),
        Line(_how(settings, lang), 9.5, gap=0.5, max_lines=4),
    ]


def _papers(dossier: DossierRecord, procedure: Procedure, lang: str) -> list[str]:
    """One line per paper that came with the dossier: its pages, or the original to follow."""
    known = {paper_key(p) for p in procedure.papers}
    counts = dossier.pages_by_paper()
    out = []
    for state in checklist(procedure, counts, dossier.originals):
        name = state.paper.name.get(lang)
        if state.pages:
            out.append(f"{name}: {_t('pages', lang, n=state.pages)}")
        if state.bring_original:
            out.append(f"{name}: {_t('original', lang)}")
    # Pages filed under a paper the catalog has since renamed are still listed.
    out += [f"{n}: {_t('pages', lang, n=c)}" for n, c in counts.items() if n not in known]
    return out


def _how(settings: Settings, lang: str) -> str:
    return _t("how", lang, ssid=settings.hotspot.ssid, url=f"{settings.box_url}tra-cuu")


def _signatures(page: Page, y: float, lang: str) -> None:
    for i, key in enumerate(("applicant_sign", "receiver_sign")):
        lines = [
            Line(_t(key, lang), 8, bold=True, align="C", max_lines=1),
            Line(_t("sign_note", lang), 7, gray=True, align="C", max_lines=1),
        ]
        page.block(lines, M + i * W / 2, y, W / 2, 8)


def _footer(page: Page, settings: Settings, lang: str) -> None:
    top = A5_H - M - FOOTER_H
    page.rule(top, M, W)
    box = settings.box
    where = " · ".join(p for p in (box.name, box.hamlet, box.commune) if p)
    second = box.station_place
    if box.help_phone:
        second += " · " + _t("help", lang, phone=box.help_phone)
    lines = [
        Line(where, 8, bold=True, max_lines=1),
        Line(second, 7.5, gap=0.5, max_lines=1),
        Line(_t("keep", lang), 7.5, gray=True, gap=0.5, max_lines=1),
    ]
    page.block(lines, M, top + 1.5, W, FOOTER_H - 1.5)


def print_receipt(pdf: bytes, printer: str) -> None:
    """Send the PDF to a CUPS queue with `lp`, on A5; PrintError with a clear message if not."""
    if not _PRINTER_NAME.match(printer):
        raise PrintError(f"Tên máy in không hợp lệ: {printer!r} / Not a printer name: {printer!r}")
    command = ["lp", "-d", printer, "-o", "media=A5", "-"]
    try:
        done = subprocess.run(
            command, input=pdf, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise PrintError(
            "Không tìm thấy lệnh lp để in, cần cài gói cups-client / "
            "The lp command was not found: install the cups-client package"
        ) from None
    except subprocess.TimeoutExpired:
        raise PrintError(
            f"Máy in {printer} không trả lời sau {PRINT_TIMEOUT_S} giây / "
            f"The printer {printer} did not answer within {PRINT_TIMEOUT_S} seconds"
        ) from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:300] or "?"
        raise PrintError(
            f"Không in được giấy biên nhận trên máy in {printer}: {said} / "
            f"The receipt could not be printed on {printer}: {said}"
        )
