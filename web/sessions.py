"""Flask's signed-cookie sessions, without their cost on requests that carry no session cookie.

Residents browsing the catalog never get a session; building the signer for each of their requests
was a measurable share of a page's time on a Pi.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class LazySessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
