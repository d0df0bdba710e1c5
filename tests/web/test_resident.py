"""The resident pages: home, procedure, search, the language switch, in Vietnamese and English."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from appliance.services import Services
from tests.web.conftest import parse, text

BIRTH = "1.001193"
ICONS = ("family", "stamp", "link", "house", "doc", "heart")


def test_home_lists_every_procedure_under_its_field(
    client: FlaskClient, services: Services
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="vi">' in html
    assert "Hamlet Box" in html and "Thôn Xà Bang 1" in html
    assert "Thủ tục hành chính" in html
    links = {v["href"] for tag, v in parse(html).tags if tag == "a" and v.get("class") == "proc"}
    catalog = services.catalog.current()
    assert links == {f"/p/{p.code}" for p in catalog.procedures}
    for field, _ in catalog.grouped():
        assert field.name.vi in html
        assert f'<use href="#i-{field.icon}"/>' in html


def test_home_defines_each_icon_once(client: FlaskClient) -> None:
    html = text(client.get("/"))
    for icon in ICONS:
        assert html.count(f'id="i-{icon}"') == 1


def test_home_shows_help_hours_and_station(client: FlaskClient) -> None:
    html = text(client.get("/"))
    assert "Giờ hỗ trợ tại nhà văn hóa" in html
    assert "Nhà văn hóa thôn Xà Bang 1" in html
    assert "Thứ Năm: 08:00–11:00" in html
    assert "Hằng ngày: 19:00–21:00" in html


def test_search_box_has_a_label_and_stable_hooks(client: FlaskClient) -> None:
    tags = parse(text(client.get("/"))).tags
    forms = [v for tag, v in tags if tag == "form" and v.get("action") == "/search"]
    assert forms and forms[0].get("method") == "get"
    assert ("input", {"id": "q", "name": "q"}) in [
        (tag, {"id": v.get("id"), "name": v.get("name")}) for tag, v in tags if tag == "input"
    ]
    assert ("label", {"for": "q"}) in [(tag, v) for tag, v in tags if tag == "label"]


def test_home_in_english(client: FlaskClient) -> None:
    html = text(client.get("/?lang=en"))
    assert '<html lang="en">' in html
    assert "Administrative procedures" in html
    assert "Civil status" in html
    assert "Help hours at the cultural house" in html
    assert "Thursday: 08:00–11:00" in html


def test_procedure_page_says_what_to_bring(client: FlaskClient) -> None:
    response = client.get(f"/p/{BIRTH}")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Đăng ký khai sinh</h1>" in html
    assert '<ul class="papers">' in html
    for words in ("Cần mang theo", "Bắt buộc", "Nếu có", "Mang bản chính"):
        assert words in html
    assert "Chụp ảnh / bản sao là đủ" in html
    for heading in ("Các bước", "Lệ phí", "Thời gian giải quyết", "Nộp ở đâu", "Căn cứ pháp lý"):
        assert heading in html
    assert "Luật Hộ tịch 2014" in html


def test_procedure_page_says_where_to_go(client: FlaskClient) -> None:
    html = text(client.get(f"/p/{BIRTH}"))
    assert "Nhà văn hóa thôn Xà Bang 1" in html
    assert "Giờ hỗ trợ tại nhà văn hóa" in html and "Thứ Năm: 08:00–11:00" in html
    assert "Bộ phận một cửa, UBND xã Xà Bang" in html
    assert "Ấp 3, xã Xà Bang" in html
    assert "7:30–11:30" in html


def test_procedure_page_links_to_the_national_portal(
    client: FlaskClient, services: Services
) -> None:
    procedure = services.catalog.current().get(BIRTH)
    assert procedure is not None
    html = text(client.get(f"/p/{BIRTH}"))
    assert procedure.portal_url in parse(html).urls
    assert "Cổng Dịch vụ công quốc gia" in html


def test_procedure_page_in_english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")
    html = text(client.get(f"/p/{BIRTH}"))
    assert "<h1>Birth registration</h1>" in html
    for words in ("What to bring", "Required", "If you have it", "Bring the original", "Fee"):
        assert words in html
    assert "Cần mang theo" not in html


def test_unknown_procedure_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/p/9.999999")
    assert response.status_code == 404
    html = text(response)
    assert "Không tìm thấy thủ tục này" in html
    assert 'href="/"' in html and 'action="/search"' in html


def test_unknown_page_is_a_vietnamese_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = text(response)
    assert '<html lang="vi">' in html and "Không tìm thấy trang này" in html
    assert 'href="/"' in html


def test_unknown_page_in_english(client: FlaskClient) -> None:
    html = text(client.get("/no/such/page?lang=en"))
    assert "Page not found" in html


def test_search_finds_procedures(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "khai sinh"})
    assert response.status_code == 200
    html = text(response)
    assert f'href="/p/{BIRTH}"' in html
    assert 'value="khai sinh"' in html


def test_search_forgives_missing_accents(client: FlaskClient) -> None:
    assert f'href="/p/{BIRTH}"' in text(client.get("/search?q=khai+sinh"))
    assert 'href="/p/1.000894"' in text(client.get("/search?q=ket+hon"))


def test_search_without_results_suggests_asking_a_volunteer(client: FlaskClient) -> None:
    html = text(client.get("/search?q=zzzzqqqq"))
    assert "Không tìm thấy thủ tục nào." in html
    assert "tình nguyện viên" in html
    assert "Giờ hỗ trợ tại nhà văn hóa" in html


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_empty_search_goes_home(client: FlaskClient, query: str) -> None:
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_search_without_q_goes_home(client: FlaskClient) -> None:
    assert client.get("/search").headers["Location"] == "/"


@pytest.mark.parametrize(
    "raw_query",
    [
        "q=" + "a" * 10_000,
        "q=khai%00sinh",
        "q=%00%00%00",
        "q=%ff%fe",
        "q=%ed%a0%80",  # an encoded UTF-16 surrogate
        "q=%F0%9F%98%80%F0%9F%91%B6",  # emoji
        "q=%E2%80%8F%D8%B9%D8%B1%D8%A8%D9%8A%E2%80%8E",  # RTL mark, Arabic, LTR mark
        "q=%E2%80%AEkhai+sinh",  # right-to-left override
        "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "q=%25%25%25",
        "q=khai&q=sinh",
        "q=" + "%C3%A1" * 3000,
    ],
)
def test_odd_search_input_gets_a_normal_page(client: FlaskClient, raw_query: str) -> None:
    response = client.get(f"/search?{raw_query}")
    assert response.status_code == 200
    html = text(response)
    assert "<script>" not in html
    assert "\x00" not in html and "\u202e" not in html


def test_search_input_is_escaped(client: FlaskClient) -> None:
    html = text(client.get("/search", query_string={"q": '"><b>x</b>'}))
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;" in html


def test_long_search_is_trimmed(client: FlaskClient) -> None:
    html = text(client.get("/search", query_string={"q": "a" * 10_000}))
    assert "a" * 101 not in html
    assert len(html) < 10_000


@pytest.mark.parametrize("path", ["/", f"/p/{BIRTH}", "/search?q=khai", "/portal", "/nope"])
def test_every_page_has_the_language_switch(client: FlaskClient, path: str) -> None:
    tags = parse(text(client.get(path))).tags
    hreflangs = {
        v.get("hreflang"): v.get("href") for tag, v in tags if tag == "a" and "hreflang" in v
    }
    assert set(hreflangs) == {"vi", "en"}
    assert all(href and href.startswith("/lang/") for href in hreflangs.values())


def test_language_switch_remembers_the_choice(client: FlaskClient) -> None:
    response = client.get(f"/lang/en?next=/p/{BIRTH}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/{BIRTH}"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert '<html lang="en">' in text(client.get("/"))
    client.get("/lang/vi?next=/")
    assert '<html lang="vi">' in text(client.get("/"))


def test_language_switch_link_leads_back_to_the_same_page(client: FlaskClient) -> None:
    html = text(client.get("/search?q=khai+sinh"))
    assert 'href="/lang/en?next=/search?q%3Dkhai%2Bsinh"' in html


def test_query_language_beats_the_cookie(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")
    assert '<html lang="vi">' in text(client.get("/?lang=vi"))


def test_unknown_language_cookie_means_vietnamese(client: FlaskClient) -> None:
    client.set_cookie("lang", "fr")
    assert '<html lang="vi">' in text(client.get("/?lang=xx"))


def test_unknown_language_code_is_404(client: FlaskClient) -> None:
    assert client.get("/lang/fr?next=/").status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",
        "http://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "evil.example",
        "",
    ],
)
def test_language_switch_refuses_to_leave_the_box(client: FlaskClient, target: str) -> None:
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_a_local_path_with_its_query(client: FlaskClient) -> None:
    response = client.get("/lang/en", query_string={"next": "/search?q=khai+sinh"})
    assert response.headers["Location"] == "/search?q=khai+sinh"


PAGES = ["/", f"/p/{BIRTH}", "/p/2.000815", "/search?q=khai", "/search?q=zzz", "/portal", "/nope"]


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_no_external_urls_but_the_national_portal(
    client: FlaskClient, services: Services, path: str, lang: str
) -> None:
    client.set_cookie("lang", lang)
    allowed = {p.portal_url for p in services.catalog.current().procedures}
    for url in parse(text(client.get(path))).urls:
        local = url.startswith("/") and not url.startswith("//")
        assert local or url.startswith("#") or url in ("data:,",) or url in allowed, url
