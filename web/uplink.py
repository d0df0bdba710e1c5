"""The link to the commune as the relay last reported it (appliance.relay.status_file), in words
for the volunteer."""

from __future__ import annotations

from appliance.relay.status_file import UplinkReport, read_uplink
from web.i18n import _
from web.wording import said

__all__ = ["detail", "headline", "read_uplink"]


def headline(uplink: UplinkReport) -> str:
    """The link in a few words, for the top of the queue page."""
    return {
        "online": _("Đã kết nối với xã"),
        "sending": _("Đang gửi lên xã"),
        "offline": _("Mất kết nối với xã"),
        "not_enrolled": _("Chưa đăng ký với xã"),
        "revoked": _("Xã đã thu hồi quyền gửi của hộp"),
    }.get(uplink.state, _("Chưa rõ tình trạng kết nối"))


def detail(uplink: UplinkReport) -> str:
    """What it means for the volunteer, and what to do about it."""
    if uplink.state == "unknown":
        return _("Chương trình gửi hồ sơ chưa chạy. Hồ sơ vẫn được giữ an toàn trong hộp.")
    if uplink.needs_technician:
        return _("Hộp chưa gửi được hồ sơ nào. Hãy báo kỹ thuật viên.")
    if uplink.state == "offline":
        reason = said(uplink.last_error) if uplink.last_error else ""
        return " ".join(part for part in (reason, _("Hộp sẽ tự gửi lại khi có kết nối.")) if part)
    return ""
