"""The device API's refusals: one exception carrying the status and code, answered as JSON.

Every error body is `{"error": code, "message": "Vietnamese / English", …}` so that a box can act
on the code and a technician can read the message in the box's log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from appliance.domain.protocol import PREFIX


class ApiError(Exception):
    """A request refused: `status` and `code` for the box, `message` for people, `extra` fields."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"Dữ liệu gửi lên quá lớn (tối đa {limit} byte) / The body is too large"
        f" (at most {limit} bytes)",
        limit=limit,
    )


def bad_request(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(400, code, message, **extra)


def json_bytes(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(json_bytes(body), status, mimetype="application/json")


def register(app: Flask) -> None:
    """JSON answers for refusals, and for unknown paths and methods under the API's prefix."""
    app.register_error_handler(ApiError, _api_error)
    for status in (404, 405, 500):
        app.register_error_handler(status, _http_error)


def _api_error(error: ApiError) -> Response:
    return json_response(error.body(), error.status)


_HTTP_ERRORS = {
    404: ("not_found", "Không có địa chỉ này / No such path"),
    405: ("method_not_allowed", "Địa chỉ này không nhận phương thức này / Method not allowed"),
    500: ("server_error", "Máy chủ gặp lỗi, hãy thử lại sau / Server error, try again later"),
}


def _http_error(error: HTTPException) -> Response | HTTPException:
    """Only the device API answers in JSON; the officers' pages keep their own error pages."""
    if not _in_api(request.path):
        return error
    code, message = _HTTP_ERRORS[error.code or 500]
    response = json_response({"error": code, "message": message}, error.code or 500)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _in_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
