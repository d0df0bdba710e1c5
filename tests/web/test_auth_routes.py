"""Every station, camera and technician route refuses a phone without a login.

Written over the app's URL map, so routes that later blueprints add under these names are covered
without touching this file.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import (
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UUIDConverter,
)

from appliance.services import Services
from tests.web.test_auth import add_user, csrf_token_of, log_in

PROTECTED = ("technician.", "station.", "camera.")
LOGIN_NEEDED = (302, 303, 401, 403)
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def protected_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(PROTECTED)]


def dummy(converter: BaseConverter) -> object:
    """A value each kind of URL parameter accepts."""
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.5
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, PathConverter):
        return "a/b"
    return "x"


def sample_url(rule: Rule) -> str:
    values = {name: dummy(conv) for name, conv in rule._converters.items()}
    built = rule.build(values)
    assert built is not None, rule
    return built[1]


def protected_requests(app: Flask) -> list[tuple[str, str, str]]:
    return [
        (rule.endpoint, method, sample_url(rule))
        for rule in protected_rules(app)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS)
    ]


def test_the_technician_routes_are_among_them(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in protected_requests(app)}
    assert {"technician.posters", "technician.hotspot_pdf", "technician.procedure_pdf"} <= endpoints


def assert_refused(client: FlaskClient, method: str, url: str, roles_page: bool) -> None:
    data = {"csrf_token": csrf_token_of(client)} if method != "GET" else None
    response = client.open(url, method=method, data=data)
    if roles_page:
        assert response.status_code == 403, (method, url, response.status_code)
    else:
        assert response.status_code in LOGIN_NEEDED, (method, url, response.status_code)
    if response.status_code in (302, 303):
        assert response.headers["Location"].startswith("/login"), (method, url)
    assert not response.data.startswith(b"%PDF")


def assert_all_refused(app: Flask, client: FlaskClient) -> None:
    for _endpoint, method, url in protected_requests(app):
        assert_refused(client, method, url, roles_page=False)


def test_a_phone_without_a_login_reaches_none_of_them(app: Flask, phone: FlaskClient) -> None:
    assert_all_refused(app, phone)


def test_the_box_itself_without_a_login_reaches_none_of_them(app: Flask) -> None:
    local = app.test_client()
    local.environ_base.update(REMOTE_ADDR="127.0.0.1")
    assert_all_refused(app, local)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unguarded_camera_route_would_be_caught(
    app: Flask, phone: FlaskClient, method: str
) -> None:
    """The camera blueprint guards each view itself, so a new view that forgets is a real leak."""
    app.add_url_rule(
        "/station/camera/leak/<int:number>/<path:rest>",
        endpoint="camera.leak",
        view_func=lambda number, rest: f"frame {number} {rest}",
        methods=[method],
    )
    assert ("camera.leak", method, "/station/camera/leak/1/a/b") in protected_requests(app)
    with pytest.raises(AssertionError):
        assert_all_refused(app, phone)


def test_a_volunteer_reaches_no_technician_route(
    app: Flask, phone: FlaskClient, services: Services
) -> None:
    add_user(services, "lan", "volunteer")
    log_in(phone, "lan")
    for endpoint, method, url in protected_requests(app):
        if endpoint.startswith("technician."):
            assert_refused(phone, method, url, roles_page=True)
