"""Plain words for residents: dossier statuses, and the appliance's messages in the page's language.

The lifecycle lives in appliance.domain.dossier; the labels here are UI strings (translated through
web/translations), so a commune's wording changes here, never in the logic. The appliance's
refusals read "Vietnamese / English"; a page shows the half in its own language.
"""

from __future__ import annotations

from web.i18n import _, current_lang

SEPARATOR = " / "


def N_(message: str) -> str:
    """Marks a message for `make translations` without translating it yet (no request here)."""
    return message


STATUS_LABELS = {
    "draft": N_("Chưa nộp"),
    "queued": N_("Đã nộp tại thôn, chờ gửi lên xã"),
    "sent": N_("Đã gửi lên xã"),
    "received": N_("Xã đã tiếp nhận"),
    "processing": N_("Đang xử lý"),
    "needs_more": N_("Cần bổ sung giấy tờ"),
    "done": N_("Đã có kết quả — mời nhận tại nhà văn hóa"),
    "returned": N_("Đã trả kết quả"),
    "rejected": N_("Không được tiếp nhận"),
    "withdrawn": N_("Đã rút hồ sơ"),
}


def status_label(status: str) -> str:
    """The status in the request's language; an unknown one (a newer upstream) is shown as is."""
    message = STATUS_LABELS.get(status)
    return status if message is None else _(message)


def said(error: Exception | str) -> str:
    """An appliance message ("Vietnamese / English") as this page's language reads it."""
    text = str(error)
    vi, found, en = text.partition(SEPARATOR)
    if not found:
        return text
    return en if current_lang() == "en" else vi
