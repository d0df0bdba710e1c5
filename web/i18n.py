"""Languages: Vietnamese (the source language of every message) and English.

The language comes from `?lang=`, else the `lang` cookie set by the vi/en switch, else Vietnamese.
This is the only module that imports flask_babel (it ships no type information).
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_babel import Babel, gettext  # type: ignore[import-untyped]

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Translations live in web/translations; the locale is whatever `current_lang()` says."""
    Babel(app, default_locale=DEFAULT_LANG, locale_selector=current_lang)


def _(message: str, **variables: object) -> str:
    """Translate a Vietnamese message into the request's language (`%(name)s` placeholders)."""
    return cast(str, gettext(message, **variables))


def current_lang() -> str:
    """The language of this request, decided once and remembered on `g`."""
    lang: str | None = g.get("lang")
    if lang is None:
        lang = pick_lang(request.args.get("lang"), request.cookies.get(COOKIE))
        g.lang = lang
    return lang


def pick_lang(*choices: str | None) -> str:
    """The first choice that is a language we have, else Vietnamese."""
    for choice in choices:
        if choice in LANGS:
            return choice
    return DEFAULT_LANG


def safe_next(target: str | None) -> str:
    """A local path to go back to after switching language; anything else becomes the home page.

    Refuses absolute and scheme-relative URLs, backslashes (browsers read `/\\evil` as
    `//evil`) and control characters (browsers drop tabs and newlines: `/<TAB>/evil` is `//evil`).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
