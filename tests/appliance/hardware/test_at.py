"""AT answers, line by line: what the session decides from the text a modem sends back."""

from __future__ import annotations

import pytest

from appliance.hardware import at
from appliance.hardware.at import Final
from appliance.hardware.modem_api import REGISTRATIONS, SIM_STATES


def test_commands() -> None:
    assert at.INIT == ("ATE0", "AT+CMEE=1", "AT+CMGF=0")
    assert (at.CPIN, at.CREG, at.CSQ, at.COPS) == ("AT+CPIN?", "AT+CREG?", "AT+CSQ", "AT+COPS?")
    assert at.cmgs(23) == "AT+CMGS=23"
    assert at.command_line("AT+CSQ") == b"AT+CSQ\r"


@pytest.mark.parametrize(
    ("line", "final"),
    [
        ("OK", Final("ok")),
        ("ERROR", Final("error")),
        ("+CMS ERROR: 500", Final("cms", 500)),
        ("+CMS ERROR:331", Final("cms", 331)),
        ("+CME ERROR: 10", Final("cme", 10)),
        ("+CME ERROR: SIM not inserted", Final("cme", 10, "SIM not inserted")),
        ("+CMS ERROR: network timeout", Final("cms", 332, "network timeout")),
        ("+CME ERROR: something new", Final("cme", None, "something new")),
        ("+CMGS: 12", None),
        ("RING", None),
        ("OK?", None),
        ("ERROR 5", None),
        ("AT+CSQ", None),
    ],
)
def test_final_result(line: str, final: Final | None) -> None:
    assert at.final_result(line) == final


@pytest.mark.parametrize(
    ("text", "sim"),
    [
        ("READY", "ready"),
        ("SIM PIN", "pin"),
        ("PH-SIM PIN", "pin"),
        ("SIM PUK", "puk"),
        ("SIM PUK2", "puk"),
        ('"READY"', "ready"),
        ("NOT INSERTED", "absent"),
        ("SIM PIN2 BLOCKED", "unknown"),
    ],
)
def test_parse_cpin(text: str, sim: str) -> None:
    assert at.parse_cpin(text) == sim
    assert sim in SIM_STATES


@pytest.mark.parametrize(
    ("final", "sim"),
    [
        (Final("cme", 10), "absent"),
        (Final("cme", 10, "SIM not inserted"), "absent"),
        (Final("cme", 11), "pin"),
        (Final("cme", 12), "puk"),
        (Final("cme", 13), "error"),
        (Final("cme", 14), "unknown"),
        (Final("error"), "error"),
        (Final("cms", 10), "error"),
    ],
)
def test_sim_from_error(final: Final, sim: str) -> None:
    assert at.sim_from_error(final) == sim


@pytest.mark.parametrize(
    ("text", "registration"),
    [
        ("0,0", "not_registered"),
        ("0,1", "home"),
        ("0,2", "searching"),
        ("0,3", "denied"),
        ("0,4", "unknown"),
        ("0,5", "roaming"),
        ("0,6", "home"),
        ("0,7", "roaming"),
        ('2,1,"00C3","1A2B"', "home"),
        ("5", "roaming"),  # unsolicited form: the state alone
        ("0,9", "unknown"),
        ("x,y", "unknown"),
    ],
)
def test_parse_creg(text: str, registration: str) -> None:
    assert at.parse_creg(text) == registration
    assert registration in REGISTRATIONS


@pytest.mark.parametrize(
    ("text", "dbm"),
    [
        ("0,0", -113),
        ("1,0", -111),
        ("2,0", -109),
        ("15,99", -83),
        ("30,0", -53),
        ("31,0", -51),
        ("99,99", None),
        ("32,0", None),
        ("", None),
    ],
)
def test_parse_csq(text: str, dbm: int | None) -> None:
    assert at.parse_csq(text) == dbm


@pytest.mark.parametrize(
    ("text", "reference"), [("17", 17), ('0,"26/11/22,19:30:00+28"', 0), ("", None), ("x", None)]
)
def test_parse_cmgs(text: str, reference: int | None) -> None:
    assert at.parse_cmgs(text) == reference


@pytest.mark.parametrize(
    ("text", "operator"),
    [
        ('0,0,"Viettel",7', "Viettel"),
        ('1,0,"VN VINAPHONE"', "VN VINAPHONE"),
        ('0,2,"45204",2', "45204"),
        ('0,0,""', None),
        ("0", None),
    ],
)
def test_parse_cops(text: str, operator: str | None) -> None:
    assert at.parse_cops(text) == operator


@pytest.mark.parametrize(
    ("final", "transient"),
    [
        (Final("cms", 1), False),
        (Final("cms", 21), False),
        (Final("cms", 27), False),
        (Final("cms", 28), False),
        (Final("cms", 29), False),
        (Final("cms", 96), False),
        (Final("cms", 38), True),
        (Final("cms", 42), True),
        (Final("cms", 47), True),
        (Final("cms", 330), True),
        (Final("cms", 331), True),
        (Final("cms", 332), True),
        (Final("cms", 500), True),
        (Final("cme", 10), True),
        (Final("cme", 11), True),
        (Final("cme", 13), True),
        (Final("cme", 30), True),
    ],
)
def test_describe_known_codes(final: Final, transient: bool) -> None:
    info = at.describe(final)
    assert info.transient is transient
    vietnamese, english = info.message.split(" / ")
    assert vietnamese and english


def test_describe_plain_words() -> None:
    assert at.describe(Final("cme", 10)).message == "Chưa lắp SIM / No SIM in the modem"
    assert "không nhận được tin nhắn" in at.describe(Final("cms", 21)).message


def test_describe_unknown_codes_name_the_number() -> None:
    info = at.describe(Final("cms", 999))
    assert info.transient
    assert info.message == "Modem báo lỗi CMS 999 / The modem reported CMS error 999"
    text = at.describe(Final("cme", None, "Weird thing"))
    assert "Weird thing" in text.message
    plain = at.describe(Final("error"))
    assert plain.message == "Modem từ chối lệnh / The modem refused the command"


@pytest.mark.parametrize(("kind", "code"), sorted(at.ERRORS))
def test_error_lines_in_every_cmee_mode_read_back(kind: str, code: int) -> None:
    assert at.error_line(kind, code, 0) == "ERROR"
    assert at.final_result(at.error_line(kind, code, 1)) == Final(kind, code)  # type: ignore[arg-type]
    verbose = at.final_result(at.error_line(kind, code, 2))
    assert verbose is not None
    assert (verbose.kind, verbose.code) == (kind, code)
    assert verbose.text == at.ERRORS[(kind, code)].name


@pytest.mark.parametrize(
    ("data", "lines", "left"),
    [
        (b"\r\nOK\r\n", ["OK"], b""),
        (b"\r\n+CSQ: 20,0\r\n\r\nOK\r\n", ["+CSQ: 20,0", "OK"], b""),
        (b"AT\r\r\nOK\r\n", ["AT", "OK"], b""),
        (b'\nRING\n\n+CMTI: "SM",1\r\nO', ["RING", '+CMTI: "SM",1'], b"O"),
        (b"\xff\xfeOK\r\n", ["\ufffd\ufffdOK"], b""),
        (b"\r\n> ", [], b"> "),
    ],
)
def test_pop_line(data: bytes, lines: list[str], left: bytes) -> None:
    buffer = bytearray(data)
    found = []
    while (line := at.pop_line(buffer)) is not None:
        found.append(line)
    assert found == lines
    assert bytes(buffer) == left


@pytest.mark.parametrize(
    ("data", "prompt"), [(b"\r\n> ", True), (b"> ", True), (b">", True), (b"\r\nOK\r\n", False)]
)
def test_take_prompt(data: bytes, prompt: bool) -> None:
    buffer = bytearray(data)
    assert at.take_prompt(buffer) is prompt
    assert bytes(buffer) == (b"" if prompt else data)
