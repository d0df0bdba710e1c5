"""The residents' SMS: built-in texts per event and language, their placeholders, and the text
policy (whitespace collapsed; diacritics dropped when `sms.unaccented` saves cost).

A technician may reword any event on the technician page; `check_template` says what is wrong
with a wording before it is saved, so a broken template never reaches a resident.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone

from appliance.domain.schedule import DAY_NAMES
from appliance.domain.sms import Segmentation, segment

EVENTS = ("receipt", "received", "needs_more", "rejected", "done", "booking", "reminder")
LANGS = ("vi", "en")
MAX_PARTS = 5  # a longer template costs too much to send to every resident
MAX_CHARS = 1000  # what the page accepts at all, before counting parts
VIETNAM = timezone(timedelta(hours=7), "ICT")  # the SMS says local time
_COMMON = ("hamlet", "box")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "receipt": (*_COMMON, "code", "procedure", "date"),
    "received": (*_COMMON, "code", "procedure", "date", "note"),
    "needs_more": (*_COMMON, "code", "procedure", "note"),
    "rejected": (*_COMMON, "code", "procedure", "note"),
    "done": (*_COMMON, "code", "procedure", "link"),
    "booking": (*_COMMON, "booking", "time"),
    "reminder": (*_COMMON, "booking", "time"),
}
BUILTIN: dict[tuple[str, str], str] = {
    ("receipt", "vi"): "Hộp hỗ trợ {hamlet}: đã nhận hồ sơ {procedure}, mã {code}. "
    "Tra cứu tại {box}",
    ("receipt", "en"): "{hamlet} help point: dossier {code} ({procedure}) received. "
    "Check it at {box}",
    ("received", "vi"): "{hamlet}: xã đã tiếp nhận hồ sơ {code} ({procedure}). "
    "Hẹn trả kết quả: {date}.",
    ("received", "en"): "{hamlet}: the commune accepted dossier {code} ({procedure}). "
    "Result due: {date}.",
    ("needs_more", "vi"): "{hamlet}: hồ sơ {code} cần bổ sung: {note}. "
    "Mời mang giấy tờ đến điểm hỗ trợ.",
    ("needs_more", "en"): "{hamlet}: dossier {code} needs more papers: {note}. "
    "Please bring them to the help point.",
    ("rejected", "vi"): "{hamlet}: hồ sơ {code} ({procedure}) không được tiếp nhận: {note}.",
    ("rejected", "en"): "{hamlet}: dossier {code} ({procedure}) was refused: {note}.",
    ("done", "vi"): "{hamlet}: hồ sơ {code} đã có kết quả, mời nhận tại điểm hỗ trợ. Góp ý: {link}",
    ("done", "en"): "{hamlet}: the result of dossier {code} is ready at the help point. "
    "Rate us: {link}",
    ("booking", "vi"): "{hamlet}: đã đặt lịch hỗ trợ {time}, mã {booking}. Hủy tại {box}",
    ("booking", "en"): "{hamlet}: help booked for {time}, code {booking}. Cancel at {box}",
    ("reminder", "vi"): "{hamlet}: nhắc lịch hỗ trợ lúc {time}, mã {booking}. Mời mang CCCD.",
    ("reminder", "en"): "{hamlet}: reminder, your help slot is at {time}, code {booking}. "
    "Bring your ID card.",
}
# What a missing param reads as, so no sentence ends in an empty colon.
_MISSING = {
    "vi": {"date": "sẽ báo sau", "note": "xin hỏi tổ công nghệ số"},
    "en": {"date": "to be told", "note": "please ask the volunteers"},
}
_SAMPLES = {
    "vi": {"procedure": "Đăng ký khai sinh", "note": "bản sao giấy chứng sinh"},
    "en": {"procedure": "Birth registration", "note": "a copy of the birth certificate"},
}
_SAMPLE_START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TemplateError(ValueError):
    """A template that cannot be rendered; the message is "Vietnamese / English"."""


def builtin(event: str, lang: str) -> str:
    return BUILTIN[(event, lang if lang in LANGS else "vi")]


def _fields(event: str, text: str) -> list[tuple[str, str | None]]:
    """The template as (literal, placeholder) pairs; TemplateError on anything but plain
    placeholders of this event."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError("Dấu ngoặc { } không cân đối / The braces { } do not match") from exc
    allowed = PLACEHOLDERS[event]
    pairs: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in parsed:
        if field is not None and (field not in allowed or spec or conversion):
            raise TemplateError(
                f"Không có chỗ điền {{{field}}} cho tin này; dùng được: {_names(allowed)} / "
                f"{{{field}}} is not a placeholder of this message; use: {_names(allowed)}"
            )
        pairs.append((literal, field))
    return pairs


def _names(allowed: tuple[str, ...]) -> str:
    return " ".join(f"{{{name}}}" for name in allowed)


def render(event: str, template: str, values: Mapping[str, str]) -> str:
    """The template with its placeholders filled; a placeholder without a value reads empty."""
    return "".join(
        literal + (values.get(field, "") if field is not None else "")
        for literal, field in _fields(event, template)
    )


def check_template(event: str, text: str) -> list[str]:
    """What is wrong with a technician's wording ("Vietnamese / English" each); [] when fine."""
    if not text.strip():
        return ["Tin nhắn không được để trống / The message cannot be empty"]
    if len(text) > MAX_CHARS:
        return [f"Tin quá dài (tối đa {MAX_CHARS} ký tự) / Too long (at most {MAX_CHARS})"]
    try:
        _fields(event, text)
    except TemplateError as exc:
        return [str(exc)]
    parts = max(preview(event, text, lang, False)[1].parts for lang in LANGS)
    if parts > MAX_PARTS:
        return [
            f"Tin quá dài: {parts} tin nhắn, tối đa {MAX_PARTS} / "
            f"Too long: {parts} messages, at most {MAX_PARTS}"
        ]
    return []


def unaccent(text: str) -> str:
    """Vietnamese without diacritics ("Hồ sơ đã xong" -> "Ho so da xong"), which GSM-7 can carry."""
    plain = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", plain))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def apply_policy(text: str, unaccented: bool) -> str:
    """The text as sent: whitespace collapsed to single spaces, diacritics dropped if asked."""
    collapsed = " ".join(text.split())
    return unaccent(collapsed) if unaccented else collapsed


def format_date(value: str | None) -> str | None:
    """ "2026-11-20" -> "20/11/2026"; None for nothing or a value that is not a date."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return None if day is None else f"{day.day:02d}/{day.month:02d}/{day.year}"


def format_time(value: str | None, lang: str) -> str | None:
    """An aware ISO datetime as local time: "19:30 Thứ Năm 26/11" / "19:30 Thu 26 Nov"."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    local = moment.astimezone(VIETNAM)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if lang == "en":
        day = DAY_NAMES["en"][local.weekday()][:3]
        return f"{clock} {day} {local.day} {_MONTHS[local.month - 1]}"
    return f"{clock} {DAY_NAMES['vi'][local.weekday()]} {local.day:02d}/{local.month:02d}"


def values(
    params: Mapping[str, str | None],
    lang: str,
    *,
    hamlet: str,
    box_url: str,
    procedure_name: str | None,
) -> dict[str, str]:
    """Every placeholder's text for one message, from the row's params and the box's facts."""
    lang = lang if lang in LANGS else "vi"
    code = params.get("code") or ""
    computed = {
        "hamlet": hamlet,
        "box": box_url,
        "code": code,
        "booking": params.get("booking") or "",
        "procedure": procedure_name or params.get("procedure") or "",
        "date": format_date(params.get("date")),
        "time": format_time(params.get("start"), lang),
        "note": (params.get("note") or "").strip() or None,
        "link": f"{box_url}danh-gia/{code}?tu=sms",  # the feedback page records the channel
    }
    missing = _MISSING[lang]
    return {key: value or missing.get(key, "") for key, value in computed.items()}


def preview(event: str, template: str, lang: str, unaccented: bool) -> tuple[str, Segmentation]:
    """The template filled with sample values, as it would be sent, and its parts."""
    sample = _SAMPLES.get(lang, _SAMPLES["vi"])
    params = {
        "code": "TD-7K3M",
        "booking": "H7K2",
        "date": "2026-11-20",
        "start": _SAMPLE_START.isoformat(),
        "note": sample["note"],
    }
    filled = values(
        params,
        lang,
        hamlet="Thôn Đông",
        box_url="http://10.42.0.1/",
        procedure_name=sample["procedure"],
    )
    text = apply_policy(render(event, template, filled), unaccented)
    return text, segment(text)
