"""Errors in the providers' shapes: every refusal of the practice API is built here.

An API error looks like OpenAI's (``{"error": {"message", "type", "param", "code"}}``); the token
endpoint answers in the OAuth standard's own shape (``{"error", "error_description"}``, RFC 6749 §5.2)::

    >>> import json
    >>> json.loads(error_response(404, "No such File object: file-9", code="file_not_found").body)["error"]["code"]
    'file_not_found'
    >>> json.loads(oauth_error(400, "invalid_scope", "Unknown scope(s): admin.").body)["error"]
    'invalid_scope'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class ErrorDetail(BaseModel):
    """What went wrong, in OpenAI's words."""

    message: str = Field(description="A sentence for a human: what is wrong and how to fix it.")
    type: str = Field(description="The kind of error, e.g. `invalid_request_error`, `rate_limit_error`.")
    param: str | None = Field(description="The parameter at fault, if one is.")
    code: str | None = Field(description="A stable code to test in your program, e.g. `invalid_api_key`.")


class ErrorBody(BaseModel):
    """The body of every error answer of the ``/v1`` routes (OpenAI's shape)."""

    error: ErrorDetail


OAuthErrorCode = Literal["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"]


class OAuthErrorBody(BaseModel):
    """The body of an error from ``POST /oauth/token`` (RFC 6749 §5.2)."""

    error: OAuthErrorCode
    error_description: str


class APIError(Exception):
    """An error answer in OpenAI's shape; raise it anywhere in a route or a dependency.

    >>> APIError(409, "Job ftjob-001 is already cancelled.", code="job_already_cancelled").response().status_code
    409
    """

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The JSON answer for this error."""
        return error_response(self.status, self.message, self.type, self.param, self.code, self.headers)


def error_response(
    status: int,
    message: str,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"error": {"message", "type", "param", "code"}}`` with a status code (example at the top)."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An OAuth token-endpoint error (never cached, as RFC 6749 §5.1 asks of its answers)."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"cache-control": "no-store", **(headers or {})},
    )


STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "bad_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "insufficient_scope"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", "invalid_value"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
"""The ``type`` and ``code`` an error of each status gets when nothing more precise is known."""


def loc_param(loc: Iterable[Any]) -> str | None:
    """The parameter a validation error points at, written as a learner would: ``messages[0].role``.

    >>> loc_param(("body", "messages", 0, "role")), loc_param(("body",))
    ('messages[0].role', None)
    """
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


def invalid_request(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation error as the provider says it: 400 for a body that isn't JSON, else 422."""
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        loc = tuple(first.get("loc", ()))
        if len(loc) > 1 and isinstance(loc[1], int):
            detail += f" at character {loc[1]}"
        return error_response(
            400,
            "We could not parse the JSON body of your request "
            f"({detail}). The practice API expects a JSON payload: send it with json=..., "
            "or check your quotes, commas and brackets.",
            code="invalid_json",
        )
    if tuple(first.get("loc", ())) == ("body",) and isinstance(first.get("input"), bytes):
        return error_response(
            400,
            "The request body is not JSON. Send a JSON object with json=... "
            "(which also sets Content-Type: application/json).",
            code="invalid_json",
        )
    param = loc_param(first.get("loc", ()))
    if first.get("type") == "missing":
        message, code = f"Missing required parameter: '{param}'.", "missing_required_parameter"
    elif first.get("type") == "extra_forbidden":
        message, code = f"Unrecognized request argument supplied: '{param}'.", "unknown_parameter"
    else:
        where = f"'{param}'" if param else "the request body"
        message, code = f"Invalid value for {where}: {first.get('msg', 'Invalid value')}.", "invalid_value"
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this request.)"
    return error_response(422, message, param=param, code=code)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this request's path (Starlette's 405 names only the first route's)."""
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own refusals (unknown URL, wrong method, unreadable body) in the provider's shape."""
    type_, code = STATUS_ERRORS.get(exc.status_code, ("invalid_request_error", None))
    if exc.status_code == 404:
        message = (
            f"Unknown request URL: {request.method} {request.url.path}. Please check the URL for "
            "typos; every route is listed in /openapi.json."
        )
        code = "unknown_url"
    elif exc.status_code == 405:
        allowed = ", ".join(allowed_methods(request))
        message = f"Method {request.method} is not allowed on {request.url.path} (allowed: {allowed})."
        return error_response(405, message, type_, None, code, {**dict(exc.headers or {}), "Allow": allowed})
    elif exc.status_code == 400 and "parsing the body" in str(exc.detail):
        message = "We could not parse the body of your request: send a JSON object with json=...."
        code = "invalid_json"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, type_, None, code, dict(exc.headers or {}))


def install_error_handlers(app: FastAPI, check_key: Callable[[Request], object]) -> None:
    """Make every error JSON in the provider's shape, and never a 500 for a bad request.

    ``check_key(request)`` raises :class:`APIError` for a missing or wrong key: like the real APIs, the
    practice API says who you are before what you sent (FastAPI reads the body before the dependencies).
    """

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith("/v1/"):
            try:
                check_key(request)
            except APIError as refused:
                return refused.response()
        return invalid_request(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        return error_response(500, f"The practice server failed: {exc!r}", "server_error", None, None)
