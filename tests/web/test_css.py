"""The stylesheet: large text, big tap targets, AA contrast, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "web" / "static" / "style.css"
ROOT_PX = 16.0  # the browsers' default root font size
AA_TEXT = 4.5
AA_NON_TEXT = 3.0  # borders of inputs and controls, focus outlines (WCAG 1.4.11)
TAP_PX = 44.0


def rules() -> list[tuple[list[str], dict[str, str]]]:
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        decls = {}
        for decl in body.split(";"):
            if ":" in decl:
                name, value = decl.split(":", 1)
                decls[name.strip()] = value.strip()
        found.append(([s.strip() for s in selectors.split(",")], decls))
    return found


def rule(selector: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for selectors, decls in rules():
        if selector in selectors:
            merged.update(decls)
    assert merged, f"no rule for {selector}"
    return merged


def px(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(px|rem|em|%)?", value.strip())
    assert match, value
    number, unit = float(match[1]), match[2] or "px"
    return number * {"px": 1.0, "rem": ROOT_PX, "em": ROOT_PX, "%": ROOT_PX / 100}[unit]


def colours(value: str) -> list[str]:
    return re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value)


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def background(decls: dict[str, str]) -> str | None:
    for name in ("background-color", "background"):
        found = colours(decls.get(name, ""))
        if found:
            return found[0]
    return None


def body_pair() -> tuple[str, str]:
    body = rule("body")
    fg, bg = colours(body["color"]), background(body)
    assert fg and bg
    return fg[0], bg


def text_pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background) for every rule that sets either; the other comes from
    the body. The stylesheet sets both wherever text sits on anything but the page background."""
    ink, paper = body_pair()
    pairs = []
    for selectors, decls in rules():
        fg, bg = colours(decls.get("color", "")), background(decls)
        if fg or bg:
            pairs.append((",".join(selectors), fg[0] if fg else ink, bg or paper))
    return pairs


def test_contrast_helper_matches_known_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#fff", "#fff") == pytest.approx(1.0)


def test_every_text_colour_pair_meets_aa() -> None:
    pairs = text_pairs()
    assert len(pairs) >= 10
    for selector, fg, bg in pairs:
        assert contrast(fg, bg) >= AA_TEXT, f"{selector}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_borders_and_focus_outlines_are_visible() -> None:
    """A border must stand out from the element's own fill or from the page around it."""
    _, paper = body_pair()
    for selectors, decls in rules():
        own = background(decls) or paper
        for name in ("border", "border-left", "border-top", "border-left-color", "outline"):
            for colour in colours(decls.get(name, "")):
                ratio = max(contrast(colour, own), contrast(colour, paper))
                assert ratio >= AA_NON_TEXT, f"{selectors} {name}: {colour} is {ratio:.2f}:1"


def test_body_text_is_large_and_airy() -> None:
    body = rule("body")
    assert px(body["font-size"]) >= 18
    assert float(body["line-height"]) >= 1.4


def test_no_text_smaller_than_18px() -> None:
    """Notes, badges and the footer are read by elderly residents too: nothing below body size."""
    for selectors, decls in rules():
        if "font-size" in decls:
            assert px(decls["font-size"]) >= 18, selectors


def test_system_fonts_only_and_nothing_fetched() -> None:
    css = CSS.read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert rule("body")["font-family"].startswith("system-ui")


@pytest.mark.parametrize(
    "selector", [".proc", ".langs a", "button", ".btn", "input", ".brand", ".back"]
)
def test_tap_targets_are_at_least_44px_high(selector: str) -> None:
    assert px(rule(selector)["min-height"]) >= TAP_PX


@pytest.mark.parametrize("selector", [".langs a", "button", ".btn"])
def test_small_buttons_are_at_least_44px_wide(selector: str) -> None:
    assert px(rule(selector)["min-width"]) >= TAP_PX


def test_focus_is_always_visible() -> None:
    for selector in ("a:focus-visible", "button:focus-visible", "input:focus-visible"):
        outline = rule(selector)["outline"]
        assert re.match(r"\d+px solid #", outline) and px(outline.split()[0]) >= 2


def test_stylesheet_is_small() -> None:
    assert CSS.stat().st_size < 8_000
