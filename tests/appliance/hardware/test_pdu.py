"""SMS-SUBMIT PDUs against known-good ones from public references, and read back by the decoder."""

from __future__ import annotations

import pytest

from appliance.domain import sms
from appliance.hardware.pdu import (
    VALIDITY_24H,
    Submitted,
    decode_submit,
    encode_address,
    pack_septets,
    submit_pdus,
    unpack_septets,
)

# Lars Pettersson's "SMS messages and the PDU format" (dreamfabric.com, mirrored at
# http://www.turbocontrol.com/CoolStuff/SMS%20messages%20and%20the%20PDU%20format.htm): the
# classic SMS-SUBMIT of "hellohello" to +46708251358, validity 0xAA (4 days).
HELLOHELLO = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"

# The README of node-sms-pdu (github.com/futomi/node-sms-pdu, MIT): national number 09012345678,
# no validity period, message reference 0.
NODE_GSM7 = "0001000B819010325476F8000012C8F71D14969741F9771D447EA7DDE71F"
NODE_UCS2 = "0001000B819010325476F800080A30533093306B3061308F"
NODE_LONG_TEXT = (
    "SMS (short message service) is a text messaging service component of most telephone, "
    "Internet, and mobile device systems. It uses standardized communication protocols to enable "
    "mobile devices to exchange short text messages. An intermediary service can facilitate a "
    "text-to-voice conversion to be sent to landlines."
)
NODE_LONG_STARTS = [  # the README shows the first 31 octets of parts 1 and 2, all of part 3
    "0041000B819010325476F80000A0050003000301A6CD29083547BFE57450BB",
    "0041000B819010325476F80000A0050003000302D26F37082E7FD3DFE3377B",
    "0041000B819010325476F8000010050003000303C26E323BED2ECF5D",
]


def test_hellohello() -> None:
    [pdu] = submit_pdus("+46708251358", "hellohello", reference=0, validity=0xAA)
    assert pdu.hex == HELLOHELLO
    assert pdu.length == 23
    assert decode_submit(HELLOHELLO) == Submitted("+46708251358", "hellohello", "gsm7", 0xAA, None)


def test_node_sms_pdu_gsm7_and_ucs2() -> None:
    [gsm7] = submit_pdus("09012345678", "How are you doing?", reference=0, validity=None)
    assert (gsm7.hex, gsm7.length) == (NODE_GSM7, 29)
    [ucs2] = submit_pdus("09012345678", "こんにちわ", reference=0, validity=None)
    assert (ucs2.hex, ucs2.length) == (NODE_UCS2, 23)
    assert decode_submit(NODE_UCS2).text == "こんにちわ"


def test_node_sms_pdu_concatenated() -> None:
    pdus = submit_pdus("09012345678", NODE_LONG_TEXT, reference=0, validity=None)
    assert [p.length for p in pdus] == [153, 153, 27]
    assert [p.hex[: len(start)] for p, start in zip(pdus, NODE_LONG_STARTS, strict=True)] == (
        NODE_LONG_STARTS
    )
    assert pdus[2].hex == NODE_LONG_STARTS[2]
    decoded = [decode_submit(p.hex) for p in pdus]
    assert "".join(d.text for d in decoded) == NODE_LONG_TEXT
    assert [d.concat for d in decoded] == [(0, 3, 1), (0, 3, 2), (0, 3, 3)]


@pytest.mark.parametrize(
    ("address", "octets"),
    [
        ("+84912345678", "0B914819325476F8"),
        ("+46708251358", "0B916407281553F8"),
        ("0912345678", "0A819021436587"),
    ],
)
def test_encode_address(address: str, octets: str) -> None:
    assert encode_address(address).hex().upper() == octets


def test_a_bad_address_is_refused() -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        encode_address("+84 91")


def test_septet_packing() -> None:
    septets = sms.to_septets("hellohello")
    assert pack_septets(septets).hex().upper() == "E8329BFD4697D9EC37"
    assert unpack_septets(pack_septets(septets), 10) == septets
    shifted = pack_septets(septets, shift=49)  # after a 6-octet header: one fill bit
    assert shifted[:6] == bytes(6)
    assert unpack_septets(shifted, 17)[7:] == septets


def test_vietnamese_single_part_is_ucs2_with_24h_validity() -> None:
    text = "Hồ sơ BX7K2 đã có kết quả. Mời ông/bà đến nhận."
    [pdu] = submit_pdus("+84912345678", text, reference=9)
    data = bytes.fromhex(pdu.hex)
    assert data[1] == 0x11  # SMS-SUBMIT, relative validity, no header
    assert pdu.length == len(data) - 1
    assert decode_submit(pdu.hex) == Submitted("+84912345678", text, "ucs2", VALIDITY_24H, None)


@pytest.mark.parametrize(
    "text",
    [
        "Hồ sơ của ông/bà đã có kết quả, mời đến nhà văn hóa thôn nhận vào giờ hỗ trợ. " * 3,
        "Gia [phi] {le}: 10€ ~ |x| ^ \\ " * 12,
        "Ho so cua ong ba da co ket qua. " * 10 + "😀" * 30,
    ],
)
def test_concatenated_parts_decode_back(text: str) -> None:
    pdus = submit_pdus("+84912345678", text, reference=200)
    assert len(pdus) == sms.segment(text).parts > 1
    decoded = [decode_submit(p.hex) for p in pdus]
    assert "".join(d.text for d in decoded) == text
    total = len(pdus)
    assert [d.concat for d in decoded] == [(200, total, i) for i in range(1, total + 1)]
    header = 14  # first octet, MR, address (2 + 6), PID, DCS, validity, UDL
    assert all(p.length - header <= 140 for p in pdus)  # user data never over 140 octets
    assert all(bytes.fromhex(p.hex)[1] == 0x51 for p in pdus)  # header present, validity set


def test_decode_refuses_what_is_not_a_submit() -> None:
    deliver = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    with pytest.raises(ValueError, match="SMS-SUBMIT"):
        decode_submit(deliver)


def test_more_than_255_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="255"):
        submit_pdus("+84912345678", "a" * 153 * 256, reference=1)
