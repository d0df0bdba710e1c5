"""SMS-SUBMIT PDUs (3GPP TS 23.040) for AT+CMGS in PDU mode, and the decoder the fake modem uses.

PDU mode is what concatenated messages need: each part carries a user data header with the
message's reference, the number of parts and its own index, so the phone joins them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.domain import sms

VALIDITY_24H = 0xA7  # relative validity: (0xA7 - 143) * 30 min + 12 h = 24 h
_SUBMIT = 0x01
_VPF_RELATIVE = 0x10
_UDHI = 0x40
_DCS = {"gsm7": 0x00, "ucs2": 0x08}
_INTERNATIONAL = 0x91
_NATIONAL = 0x81
_CONCAT_8BIT = 0x00
_CONCAT_16BIT = 0x08


@dataclass(frozen=True)
class Pdu:
    hex: str  # what goes after the "> " prompt, before Ctrl-Z
    length: int  # the TPDU's octets, the SMSC part not counted: the number AT+CMGS wants


@dataclass(frozen=True)
class Submitted:
    """One decoded SMS-SUBMIT: what a modem (the fake) reads back out of a PDU."""

    address: str  # "+84912345678" for an international number, the digits as given otherwise
    text: str
    encoding: sms.Encoding
    validity: int | None
    concat: tuple[int, int, int] | None  # (reference, total, index) of a concatenated part


def submit_pdus(
    address: str, text: str, *, reference: int, validity: int | None = VALIDITY_24H
) -> list[Pdu]:
    """The PDUs that send `text` to `address` ("+84912345678": international; digits alone:
    national), one per part; `reference` (0..255) ties the parts of one message together."""
    parts = sms.split(text)
    if len(parts) > 255:
        raise ValueError("a message of more than 255 parts cannot be sent")
    encoding = sms.encoding_of(text)
    pdus = []
    for index, part in enumerate(parts, start=1):
        concat = (reference & 0xFF, len(parts), index) if len(parts) > 1 else None
        pdus.append(_submit(address, part, encoding, validity, concat))
    return pdus


def _submit(
    address: str,
    text: str,
    encoding: sms.Encoding,
    validity: int | None,
    concat: tuple[int, int, int] | None,
) -> Pdu:
    first = _SUBMIT | (_VPF_RELATIVE if validity is not None else 0) | (_UDHI if concat else 0)
    header = bytes([5, _CONCAT_8BIT, 3, *concat]) if concat else b""
    length, data = _user_data(text, encoding, header)
    tpdu = bytes([first, 0x00]) + encode_address(address) + bytes([0x00, _DCS[encoding]])
    tpdu += bytes([validity] if validity is not None else []) + bytes([length]) + data
    return Pdu(hex=(b"\x00" + tpdu).hex().upper(), length=len(tpdu))


def _user_data(text: str, encoding: sms.Encoding, header: bytes) -> tuple[int, bytes]:
    """TP-UDL and TP-UD: septets (GSM-7, header padded to a septet boundary) or octets (UCS-2)."""
    if encoding == "ucs2":
        data = header + text.encode("utf-16-be")
        return len(data), data
    skip = (len(header) * 8 + 6) // 7  # septets the header occupies, fill bits included
    septets = sms.to_septets(text)
    packed = pack_septets(septets, shift=skip * 7)
    return skip + len(septets), header + packed[len(header) :]


def pack_septets(septets: list[int], *, shift: int = 0) -> bytes:
    """Septets packed low bits first, starting `shift` bits into the first octet."""
    bits = shift + 7 * len(septets)
    value = sum(septet << (shift + 7 * i) for i, septet in enumerate(septets))
    return value.to_bytes((bits + 7) // 8, "little")


def unpack_septets(data: bytes, count: int) -> list[int]:
    value = int.from_bytes(data, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def encode_address(address: str) -> bytes:
    """TP-DA: number of digits, type of address, digits as swapped semi-octets (F-padded)."""
    international = address.startswith("+")
    digits = address[1:] if international else address
    if not digits.isdigit():
        raise ValueError(f"not a phone number: {address!r}")
    padded = digits + "F" * (len(digits) % 2)
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    toa = _INTERNATIONAL if international else _NATIONAL
    return bytes([len(digits), toa]) + bytes.fromhex(swapped)


def decode_submit(pdu_hex: str) -> Submitted:
    """Read an SMS-SUBMIT back (SMSC part included, as sent after AT+CMGS); ValueError if it is
    not one."""
    data = bytes.fromhex(pdu_hex)
    pos = 1 + data[0]  # skip the SMSC information
    first = data[pos]
    if first & 0x03 != _SUBMIT:
        raise ValueError("not an SMS-SUBMIT PDU")
    digits_count, toa = data[pos + 2], data[pos + 3]
    octets = (digits_count + 1) // 2
    semi = data[pos + 4 : pos + 4 + octets].hex().upper()
    digits = "".join(semi[i + 1] + semi[i] for i in range(0, len(semi), 2))[:digits_count]
    pos += 4 + octets
    dcs = data[pos + 1]
    vpf = (first >> 3) & 0x03
    validity = data[pos + 2] if vpf == 2 else None
    pos += 2 + {0: 0, 2: 1}.get(vpf, 7)
    length, user_data = data[pos], data[pos + 1 :]
    encoding: sms.Encoding = "ucs2" if dcs & 0x0C == 0x08 else "gsm7"
    header = user_data[: user_data[0] + 1] if first & _UDHI else b""
    if encoding == "ucs2":
        text = user_data[len(header) : length].decode("utf-16-be")
    else:
        skip = (len(header) * 8 + 6) // 7
        text = sms.from_septets(unpack_septets(user_data, length)[skip:])
    address = ("+" if toa == _INTERNATIONAL else "") + digits
    return Submitted(address, text, encoding, validity, _concat(header))


def _concat(header: bytes) -> tuple[int, int, int] | None:
    """(reference, total, index) from the concatenation element of a user data header."""
    pos = 1
    while pos + 1 < len(header):
        element, size = header[pos], header[pos + 1]
        body = header[pos + 2 : pos + 2 + size]
        if element == _CONCAT_8BIT and size == 3:
            return body[0], body[1], body[2]
        if element == _CONCAT_16BIT and size == 4:
            return int.from_bytes(body[:2], "big"), body[2], body[3]
        pos += 2 + size
    return None
