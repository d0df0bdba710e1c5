"""The text of a citizen ID card's QR (CCCD) -> CitizenId, with the ID number's structure checked.

Pure: no I/O. What cannot come from a real card is refused with an IdCardError; what is merely
suspect (the number disagrees with the date of birth, an unknown province, a date after the box's
clock, which has no RTC) becomes a warning code the volunteer must confirm against the card.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

Gender = Literal["male", "female"]

# Province codes of birth registration in the first three digits of the ID number (the 63 provinces
# before the 2025 mergers; numbers issued since keep them). Data, not logic: correct it here.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

MAX_NAME = 100
MAX_ADDRESS = 300
MAX_TEXT = 2000  # far above any card's QR; longer text is something else
MAX_AGE = 130
FIRST_YEAR, LAST_YEAR = 1900, 2399  # the years the century/sex digit can express (0..9)

ERRORS: dict[str, tuple[str, str]] = {
    "no_qr": ("Không đọc được mã QR", "Could not read the QR code"),
    "not_id_qr": (
        "Mã QR này không phải của thẻ căn cước",
        "This QR code is not from a citizen ID card",
    ),
    "bad_id_number": (
        "Số định danh trong mã QR phải gồm đúng 12 chữ số",
        "The ID number in the QR code must be exactly 12 digits",
    ),
    "bad_old_id": (
        "Số CMND cũ trong mã QR phải gồm 9 hoặc 12 chữ số",
        "The old ID number in the QR code must be 9 or 12 digits",
    ),
    "missing_name": ("Mã QR không có họ tên", "The QR code has no name"),
    "name_too_long": ("Họ tên trong mã QR dài bất thường", "The name in the QR code is too long"),
    "missing_address": ("Mã QR không có nơi thường trú", "The QR code has no address"),
    "address_too_long": (
        "Địa chỉ trong mã QR dài bất thường",
        "The address in the QR code is too long",
    ),
    "control_chars": (
        "Mã QR chứa ký tự điều khiển không hợp lệ",
        "The QR code contains invalid control characters",
    ),
    "bad_birth_date": (
        "Ngày sinh trong mã QR không phải một ngày có thật",
        "The date of birth in the QR code is not a real date",
    ),
    "bad_issue_date": (
        "Ngày cấp trong mã QR không phải một ngày có thật",
        "The issue date in the QR code is not a real date",
    ),
    "issue_before_birth": (
        "Ngày cấp trong mã QR sớm hơn ngày sinh",
        "The issue date in the QR code is before the date of birth",
    ),
    "bad_gender": (
        "Giới tính trong mã QR phải là Nam hoặc Nữ",
        "The gender in the QR code must be Nam or Nữ",
    ),
}

WARNINGS: dict[str, tuple[str, str]] = {
    "birth_year_mismatch": (
        "Năm sinh trong số định danh không khớp với ngày sinh; hãy đối chiếu với thẻ",
        "The birth year in the ID number does not match the date of birth; check the card",
    ),
    "gender_mismatch": (
        "Giới tính trong số định danh không khớp với giới tính ghi trên thẻ; hãy đối chiếu",
        "The gender digit of the ID number does not match the gender; check the card",
    ),
    "unknown_province": (
        "Mã tỉnh nơi đăng ký khai sinh trong số định danh không có trong danh sách; hãy đối chiếu",
        "The province code in the ID number is not in the known list; check the card",
    ),
    "future_date": (
        "Có ngày muộn hơn hôm nay theo đồng hồ của máy; hãy kiểm tra thẻ và đồng hồ",
        "A date is later than today by the box's clock; check the card and the clock",
    ),
    "implausible_age": (
        f"Theo ngày sinh, người này hơn {MAX_AGE} tuổi; hãy đối chiếu với thẻ",
        f"By the date of birth this person is over {MAX_AGE}; check the card",
    ),
    "unusual_name": (
        "Họ tên có ký tự lạ (chữ số hoặc ký hiệu); hãy đối chiếu với thẻ",
        "The name has unusual characters (digits or symbols); check the card",
    ),
}

_DIGITS12 = re.compile(r"[0-9]{12}")
_OLD_ID = re.compile(r"[0-9]{9}|[0-9]{12}")
_DATE = re.compile(r"([0-9]{2})([/.-]?)([0-9]{2})\2([0-9]{4})")
_NAME_CHARS = re.compile(r"[^\W\d_]|[ '.-]")  # letters (any script) and a few separators
_EDGE_JUNK = "\ufeff\x00\r\n\t "  # BOM, NUL padding and line ends some scanners add


class IdCardError(ValueError):
    """A QR text that cannot come from a real card; `.code` names why, the message is vi / en."""

    def __init__(self, code: str) -> None:
        vi, en = ERRORS[code]
        super().__init__(f"{vi} / {en}")
        self.code = code

    def text(self, lang: str) -> str:
        """The message in one language, for a page that shows only that one."""
        vi, en = ERRORS[self.code]
        return en if lang == "en" else vi


@dataclass(frozen=True)
class CitizenId:
    id_number: str
    old_id: str  # "" when the card has none
    full_name: str
    date_of_birth: date
    gender: Gender
    address: str
    issue_date: date | None
    warnings: tuple[str, ...]  # codes of WARNINGS, in a stable order
    extra: tuple[str, ...] = ()  # fields after the seventh (newer cards), kept but not used

    @property
    def gender_vi(self) -> str:
        """The word printed on the card."""
        return "Nam" if self.gender == "male" else "Nữ"

    @property
    def birth_province(self) -> str | None:
        return PROVINCES.get(self.id_number[:3])


def warning_text(code: str, lang: str) -> str:
    """A warning's message in `lang` ("vi" or "en"; anything else gets Vietnamese)."""
    vi, en = WARNINGS[code]
    return en if lang == "en" else vi


def province_name(code: str) -> str | None:
    return PROVINCES.get(code)


def century_sex_digit(year: int, gender: Gender) -> int:
    """The ID number's fourth digit: 0/1 for the 1900s male/female, 2/3 for the 2000s, and so on."""
    return 2 * (year // 100 - 19) + (1 if gender == "female" else 0)


def parse_citizen_qr(text: str, today: date | None = None) -> CitizenId:
    """Parse the QR text by position; `today` is the box's (possibly wrong) idea of the date."""
    fields = _split(text)
    id_number = _id_number(fields[0])
    old_id = _old_id(fields[1])
    name = _text_field(fields[2], MAX_NAME, "missing_name", "name_too_long")
    born = _date(fields[3], "bad_birth_date")
    gender = _gender(fields[4])
    address = _text_field(fields[5], MAX_ADDRESS, "missing_address", "address_too_long")
    issued = _date(fields[6], "bad_issue_date") if len(fields) > 6 and fields[6].strip() else None
    if issued is not None and issued < born:
        raise IdCardError("issue_before_birth")
    extra = tuple(_strip_controls(f) for f in fields[7:])
    warnings = _warnings(id_number, name, born, gender, issued, today or date.today())
    return CitizenId(id_number, old_id, name, born, gender, address, issued, warnings, extra)


def _split(text: str) -> list[str]:
    """NFC, trimmed of scanner junk, split on '|'; six or more fields or it is not a card's QR."""
    if len(text) > MAX_TEXT:
        raise IdCardError("not_id_qr")
    fields = unicodedata.normalize("NFC", text).strip(_EDGE_JUNK).split("|")
    if len(fields) < 6:
        raise IdCardError("not_id_qr")
    return fields


def _id_number(field: str) -> str:
    value = field.strip()
    if not _DIGITS12.fullmatch(value):
        raise IdCardError("bad_id_number")
    return value


def _old_id(field: str) -> str:
    value = field.strip()
    if value and not _OLD_ID.fullmatch(value):
        raise IdCardError("bad_old_id")
    return value


def _text_field(field: str, limit: int, missing: str, too_long: str) -> str:
    """Whitespace collapsed; control and format characters refused (they hide or reorder text)."""
    if any(_is_ctl(ch) for ch in field):
        raise IdCardError("control_chars")
    value = " ".join(field.split())
    if not value:
        raise IdCardError(missing)
    if len(value) > limit:
        raise IdCardError(too_long)
    return value


def _is_ctl(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029"


def _strip_controls(field: str) -> str:
    return "".join(ch for ch in field if not _is_ctl(ch)).strip()


def _date(field: str, code: str) -> date:
    match = _DATE.fullmatch(field.strip())
    if match is None:
        raise IdCardError(code)
    day, month, year = int(match[1]), int(match[3]), int(match[4])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise IdCardError(code)
    try:
        return date(year, month, day)
    except ValueError:
        raise IdCardError(code) from None


def _gender(field: str) -> Gender:
    value = field.strip().casefold()  # the text is NFC already
    if value == "nam":
        return "male"
    if value == "nữ":
        return "female"
    raise IdCardError("bad_gender")


def _warnings(
    id_number: str, name: str, born: date, gender: Gender, issued: date | None, today: date
) -> tuple[str, ...]:
    found: list[str] = []
    if int(id_number[4:6]) != born.year % 100 or int(id_number[3]) // 2 != born.year // 100 - 19:
        found.append("birth_year_mismatch")
    if int(id_number[3]) % 2 != (1 if gender == "female" else 0):
        found.append("gender_mismatch")
    if id_number[:3] not in PROVINCES:
        found.append("unknown_province")
    if born > today or (issued is not None and issued > today):
        found.append("future_date")
    if _age(born, today) > MAX_AGE:
        found.append("implausible_age")
    if not all(_NAME_CHARS.fullmatch(ch) for ch in name):
        found.append("unusual_name")
    return tuple(found)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
