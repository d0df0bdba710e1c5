"""The technician's poster page: for a logged-in technician only."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.pdf_layout import FontFiles
from appliance.services import Services
from tests.web.test_auth import add_user, log_in
from web import create_app

URLS = ("/tech/posters", "/tech/posters/hotspot.pdf", "/tech/posters/procedure/1.001193.pdf")


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services.settings, services)


@pytest.fixture
def client(technician: FlaskClient) -> FlaskClient:
    """A technician, logged in."""
    return technician


def test_poster_page_lists_the_wifi_poster_and_every_procedure(client: FlaskClient) -> None:
    response = client.get("/tech/posters")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Áp phích để in" in html
    assert 'href="/tech/posters/hotspot.pdf"' in html
    assert "Đăng ký khai sinh" in html
    assert 'href="/tech/posters/procedure/1.001193.pdf?lang=en"' in html


def test_hotspot_poster_downloads_as_pdf(client: FlaskClient) -> None:
    response = client.get("/tech/posters/hotspot.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_procedure_poster_downloads_in_either_language(client: FlaskClient, lang: str) -> None:
    response = client.get(f"/tech/posters/procedure/1.001193.pdf?lang={lang}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert f"thu-tuc-1.001193-{lang}.pdf" in response.headers["Content-Disposition"]


def test_unknown_procedure_is_not_found(client: FlaskClient) -> None:
    assert client.get("/tech/posters/procedure/9.999999.pdf").status_code == 404


def test_unknown_language_is_refused(client: FlaskClient) -> None:
    assert client.get("/tech/posters/procedure/1.001193.pdf?lang=fr").status_code == 400


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("address", ["10.42.0.23", "127.0.0.1", "::1"])
def test_without_a_login_nobody_gets_in(app: Flask, url: str, address: str) -> None:
    """Not a phone on the hotspot, and no longer the box itself (loopback) either."""
    response = app.test_client().get(url, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/tech/posters")
    assert not response.data.startswith(b"%PDF")


@pytest.mark.parametrize("url", URLS)
def test_a_volunteer_is_refused(app: Flask, services: Services, url: str) -> None:
    volunteer = app.test_client()
    add_user(services, "lan", "volunteer")
    log_in(volunteer, "lan")
    response = volunteer.get(url)
    assert response.status_code == 403
    assert not response.data.startswith(b"%PDF")


def test_missing_font_is_explained(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = (FontFiles(tmp_path / "Sans.ttf", tmp_path / "Sans-Bold.ttf"),)
    monkeypatch.setattr("appliance.pdf_layout.FONT_CANDIDATES", missing)
    response = client.get("/tech/posters/hotspot.pdf")
    assert response.status_code == 503
    assert "fonts-dejavu-core" in response.get_data(as_text=True)


def test_refused_catalog_override_is_shown_to_the_technician(tmp_path: Path) -> None:
    from appliance import config
    from appliance.services import build
    from tests.conftest import write_settings

    broken = tmp_path / "catalog.toml"
    broken.write_text("version = 1\n[[procedures]]\ncode = 'x'\n", encoding="utf-8")
    path = write_settings(tmp_path, f'\n[catalog]\noverride = "{broken}"\n')
    services = build(config.load(path, environ={}))
    try:
        client = create_app(services.settings, services).test_client()
        add_user(services, "kt", "technician")
        log_in(client, "kt")
        html = client.get("/tech/posters").get_data(as_text=True)
        assert "Tệp danh mục của xã bị từ chối" in html
        assert str(broken) in html
        assert "Đăng ký khai sinh" in html  # the built-in catalog still serves
    finally:
        services.close()
