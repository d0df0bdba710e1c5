"""The notice a resident agrees to before a dossier leaves the box, one text per version.

Each dossier records the version its resident agreed to (`consent_text_version`), so a text is
never edited in place: a changed notice is a new version here and in `intake.consent_version`.
"""

from __future__ import annotations

from appliance.domain.catalog import Text

NOTICES = {
    "1": Text(
        "Để gửi hồ sơ này đến {office} và nhắn tin báo kết quả cho bạn, hộp lưu: họ tên, số căn "
        "cước, ngày sinh, giới tính, địa chỉ, số điện thoại của bạn và ảnh các giấy tờ bạn nộp. "
        "Hộp không lưu ảnh thẻ căn cước, chỉ lưu chữ đọc được từ mã QR. Ảnh giấy tờ được xóa "
        "khỏi hộp {days} ngày sau khi bạn nhận kết quả. Chỉ người có mã biên nhận và 4 số cuối "
        "số điện thoại của bạn mới xem được tình trạng hồ sơ.",
        "To send this dossier to {office} and text you when the result is ready, the box keeps "
        "your name, ID number, date of birth, gender, address, phone number and photos of the "
        "papers you file. It never keeps a picture of your ID card, only the text read from its "
        "QR code. Photos of your papers are deleted from the box {days} days after you collect "
        "the result. Only someone with your receipt code and the last 4 digits of your phone "
        "number can see the dossier's status.",
    ),
}
AGREE = Text(
    "Tôi đã đọc và đồng ý cho hộp lưu và gửi các thông tin trên",
    "I have read this and agree that the box keeps and sends this information",
)


def consent_notice(version: str, lang: str, *, office: str, retention_days: int) -> str:
    """The notice of `version` in `lang`, with the commune's office and the retention period."""
    text = NOTICES.get(version)
    if text is None:
        raise KeyError(f"no consent notice for version {version!r}: add it to NOTICES")
    return text.get(lang).format(office=office, days=retention_days)
