"""The captive portal: probes before and after "Tiếp tục", per phone, expiry, and other sites."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import PHONE, parse, text
from tests.web.test_auth import csrf_token_of
from web.captive import MAX_CLIENTS, AcceptedClients, box_hosts, host_name
from web.portal import EXTENSION, Portal

WELCOME = "http://10.42.0.1/portal"
APPLE = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
PROBES = [
    ("connectivitycheck.gstatic.com", "/generate_204"),
    ("clients3.google.com", "/generate_204"),
    ("connectivitycheck.android.com", "/gen_204"),
    ("captive.apple.com", "/hotspot-detect.html"),
    ("www.apple.com", "/library/test/success.html"),
    ("www.msftconnecttest.com", "/connecttest.txt"),
    ("www.msftncsi.com", "/ncsi.txt"),
    ("www.msftconnecttest.com", "/redirect"),
]
ONLINE = {
    "/generate_204": (204, ""),
    "/gen_204": (204, ""),
    "/hotspot-detect.html": (200, APPLE),
    "/library/test/success.html": (200, APPLE),
    "/connecttest.txt": (200, "Microsoft Connect Test"),
    "/ncsi.txt": (200, "Microsoft NCSI"),
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def probe(client: FlaskClient, host: str, path: str, address: str = PHONE) -> TestResponse:
    return client.get(path, headers={"Host": host}, environ_base={"REMOTE_ADDR": address})


def accept(client: FlaskClient, address: str = PHONE) -> None:
    """Tap "Tiếp tục" on the welcome page, as that phone."""
    data = {"csrf_token": csrf_token_of(client, "/portal")}
    response = client.post("/portal/accept", data=data, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("host", "path"), PROBES)
def test_a_new_phone_is_sent_to_the_welcome_page(client: FlaskClient, host: str, path: str) -> None:
    response = probe(client, host, path)
    assert response.status_code == 302
    assert response.headers["Location"] == WELCOME
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("host", "path"), [p for p in PROBES if p[1] in ONLINE])
def test_after_accepting_probes_say_online(client: FlaskClient, host: str, path: str) -> None:
    accept(client)
    response = probe(client, host, path)
    status, body = ONLINE[path]
    assert response.status_code == status
    assert response.get_data(as_text=True) == body
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in response.headers


def test_windows_redirect_goes_home_after_accepting(client: FlaskClient) -> None:
    accept(client)
    response = probe(client, "www.msftconnecttest.com", "/redirect")
    assert response.status_code == 302
    assert response.headers["Location"] == "http://10.42.0.1/"


def test_acceptance_is_per_phone(client: FlaskClient) -> None:
    accept(client, "10.42.0.50")
    assert (
        probe(client, "captive.apple.com", "/hotspot-detect.html", "10.42.0.50").status_code == 200
    )
    other = probe(client, "captive.apple.com", "/hotspot-detect.html", "10.42.0.51")
    assert other.status_code == 302


def test_acceptance_expires(app: Flask, client: FlaskClient) -> None:
    clock = FakeClock()
    state: Portal = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = dataclasses.replace(state, clients=AcceptedClients(12, clock))
    accept(client)
    clock.now += 12 * 3600 - 1
    assert probe(client, "x", "/generate_204").status_code == 204
    clock.now += 2
    assert probe(client, "x", "/generate_204").status_code == 302


def test_portal_hours_come_from_settings(app: Flask) -> None:
    clients = app.extensions[EXTENSION].clients
    assert isinstance(clients, AcceptedClients)
    assert clients._ttl == 12 * 3600


def test_welcome_page_is_short_and_shows_the_plain_address(phone: FlaskClient) -> None:
    response = phone.get("/portal")
    assert response.status_code == 200
    html = text(response)
    assert "Điểm hỗ trợ dịch vụ công" in html and "Thôn Xà Bang 1" in html
    assert '<p class="addr">10.42.0.1</p>' in html
    tags = parse(html).tags
    forms = [v for tag, v in tags if tag == "form"]
    assert {"action": "/portal/accept", "method": "post"} in [
        {"action": f.get("action"), "method": f.get("method")} for f in forms
    ]
    assert '<button type="submit">Tiếp tục</button>' in html


def test_welcome_page_in_english(phone: FlaskClient) -> None:
    html = text(phone.get("/portal?lang=en"))
    assert "Public service help point" in html
    assert '<button type="submit">Continue</button>' in html


def test_accept_then_home(phone: FlaskClient) -> None:
    accept(phone)
    response = phone.get("/")
    assert response.status_code == 200
    assert "Thủ tục hành chính" in text(response)


def test_accept_only_by_post(phone: FlaskClient) -> None:
    assert phone.get("/portal/accept").status_code == 405
    assert phone.get("/generate_204").status_code == 302


@pytest.mark.parametrize("host", ["google.com", "www.facebook.com:80", "zalo.me", "10.0.0.9"])
@pytest.mark.parametrize("path", ["/", "/search?q=x", "/anything", "/portal"])
def test_other_sites_go_to_the_box(client: FlaskClient, host: str, path: str) -> None:
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 302
    assert response.headers["Location"] == "http://10.42.0.1/"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "host",
    [
        "10.42.0.1",
        "10.42.0.1:80",
        "hamlet.box",
        "Hamlet.Box.",
        "hamlet.box:8080",
        "localhost",
        "localhost:5000",
        "127.0.0.1:8080",
        "[::1]:8080",
    ],
)
def test_the_box_by_any_of_its_names(client: FlaskClient, host: str) -> None:
    assert client.get("/", headers={"Host": host}).status_code == 200


def test_the_test_clients_default_host_is_the_box(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200


def test_the_name_the_server_is_bound_to_is_the_box(client: FlaskClient) -> None:
    response = client.get("/", base_url="http://hamletbox-pi/")
    assert response.request.environ["SERVER_NAME"] == "hamletbox-pi"
    assert response.status_code == 200


def test_host_names() -> None:
    assert host_name("Hamlet.Box.:8080") == "hamlet.box"
    assert host_name("[::1]:80") == "::1"
    assert host_name("[fe80::1]") == "fe80::1"
    assert host_name("fe80::1") == "fe80::1"
    assert host_name("10.42.0.1") == "10.42.0.1"
    assert host_name("") == ""


def test_box_hosts_drop_wildcard_binds() -> None:
    hosts = box_hosts(["10.42.0.1", "hamlet.box", "0.0.0.0"])
    assert hosts == {"10.42.0.1", "hamlet.box", "localhost", "127.0.0.1", "::1"}


def test_accepted_clients_forget_after_their_hours() -> None:
    clock = FakeClock()
    clients = AcceptedClients(1, clock)
    clients.accept("a")
    assert clients.is_accepted("a") and not clients.is_accepted("b")
    clock.now += 3600
    assert not clients.is_accepted("a")
    assert len(clients) == 0


def test_accepting_again_extends_the_time() -> None:
    clock = FakeClock()
    clients = AcceptedClients(1, clock)
    clients.accept("a")
    clock.now += 3000
    clients.accept("a")
    clock.now += 3000
    assert clients.is_accepted("a")


def test_accepted_clients_stay_bounded() -> None:
    clock = FakeClock()
    clients = AcceptedClients(1, clock)
    for n in range(MAX_CLIENTS + 10):
        clients.accept(f"10.0.{n // 256}.{n % 256}")
    assert len(clients) == MAX_CLIENTS
    assert clients.is_accepted(f"10.0.{(MAX_CLIENTS + 9) // 256}.{(MAX_CLIENTS + 9) % 256}")
    assert not clients.is_accepted("10.0.0.0")


def test_accepted_clients_are_thread_safe() -> None:
    clients = AcceptedClients(1)

    def work(n: int) -> None:
        for i in range(200):
            clients.accept(f"{n}.{i}")
            clients.is_accepted(f"{n}.{i - 1}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 1600
