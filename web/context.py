"""What views and templates share: the services handed to create_app, and the page context."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, current_app

from appliance.config import Settings
from appliance.domain.catalog import Catalog
from appliance.services import Services
from web.i18n import current_lang

EXTENSION = "hamletbox"


def init_app(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services
    app.context_processor(template_context)


def services() -> Services:
    return cast(Services, current_app.extensions[EXTENSION])


def settings() -> Settings:
    return services().settings


def catalog() -> Catalog:
    """The catalog in force now; a new object whenever the commune's catalog file changes."""
    return services().catalog.current()


def template_context() -> dict[str, Any]:
    lang = current_lang()
    current = settings()
    return {
        "lang": lang,
        "box": current.box,
        "help_hours": [hours.label(lang) for hours in current.help_hours],
    }
