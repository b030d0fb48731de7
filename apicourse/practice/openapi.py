"""What ``/openapi.json`` says about the answers: every error status each operation can give, in the
provider's shape with an example, and the headers that come with it (``Retry-After`` and the
``x-ratelimit-*`` family on a 429, ``WWW-Authenticate`` on a 401 or 403, ``Location`` on a 201).

Routers and routes pass these to FastAPI's own ``responses=`` argument::

    >>> docs = errors(404, 409)
    >>> sorted(docs), docs[404]["model"].__name__
    ([404, 409], 'ErrorBody')
    >>> sorted(AUTHENTICATED)
    [401, 403, 413, 429]
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from apicourse.practice import schemas
from apicourse.practice.errors import ErrorBody, OAuthErrorBody

Doc = dict[str, Any]


def _header(description: str, type_: str = "string", required: bool = True) -> Doc:
    return {"description": description, "required": required, "schema": {"type": type_}}


RATE_HEADERS: Doc = {
    "x-ratelimit-limit-requests": _header("Requests allowed per window for this key.", "integer"),
    "x-ratelimit-remaining-requests": _header("Requests left in the current window.", "integer"),
    "x-ratelimit-reset-requests": _header("When the request budget is whole again, e.g. `1.5s`, `6m0s`."),
    "x-ratelimit-limit-tokens": _header("Tokens allowed per window for this key.", "integer"),
    "x-ratelimit-remaining-tokens": _header("Tokens left in the current window.", "integer"),
    "x-ratelimit-reset-tokens": _header("When the token budget is whole again."),
}
"""The rate-limit headers every counted answer carries (OpenAI's names)."""

# `retry-after-ms` is not standard; the openai SDK reads it before `retry-after` (openai/_base_client.py,
# the retry-after parsing in the pinned openai 3.57.0).
RETRY_HEADERS: Doc = {
    "retry-after": _header("Whole seconds to wait before trying again (RFC 9110 §10.2.3).", "integer"),
    "retry-after-ms": _header("The same wait in milliseconds (OpenAI's SDK reads it first).", "integer"),
}

CHALLENGE: Doc = {"www-authenticate": _header("How to authenticate (RFC 6750 §3): `Bearer realm=\"practice\"…`.")}


def _example(message: str, type_: str, param: str | None, code: str | None) -> Doc:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_ERRORS: dict[int, tuple[str, Doc, Doc]] = {
    400: (
        "Bad Request: the body can't be read (not JSON, broken JSON), or it names something unusable.",
        _example("We could not parse the JSON body of your request (Expecting value at character 0). …",
                 "invalid_request_error", None, "invalid_json"),
        {},
    ),
    401: (
        "Unauthorized: no key, a malformed `Authorization` header, a wrong or revoked key, or an expired token.",
        _example("You didn't provide an API key. Send it in an Authorization header using Bearer auth "
                 "(i.e. Authorization: Bearer YOUR_KEY).", "authentication_error", None, "missing_api_key"),
        CHALLENGE,
    ),
    403: (
        "Forbidden: the OAuth token lacks the scope this operation needs (an API key has every scope).",
        _example("You have insufficient permissions for this operation. Missing scope: files:write "
                 "(this token has: files:read models:read).", "permission_error", None, "insufficient_scope"),
        CHALLENGE,
    ),
    404: (
        "Not Found: no such object.",
        _example("No such File object: file-999", "invalid_request_error", "id", "file_not_found"),
        {},
    ),
    409: (
        "Conflict: the request is fine but clashes with the object's current state.",
        _example("Job ftjob-001 is already cancelled.", "invalid_request_error", None, "job_already_cancelled"),
        {},
    ),
    413: (
        "Content Too Large: the body is over the server's limit (`max_body_bytes`).",
        _example("Request body too large: the practice API accepts at most 1000000 bytes.",
                 "invalid_request_error", None, "request_too_large"),
        {},
    ),
    422: (
        "Unprocessable Content: readable JSON with a missing, unknown or wrong-typed field.",
        _example("Missing required parameter: 'messages'.", "invalid_request_error", "messages",
                 "missing_required_parameter"),
        {},
    ),
    429: (
        "Too Many Requests: this key used its requests or tokens for the window. Wait `Retry-After` seconds.",
        _example("Rate limit reached on requests per min (RPM): Limit 3, Used 3, Requested 1. "
                 "Please try again in 1.2s.", "rate_limit_error", "requests", "rate_limit_exceeded"),
        {**RETRY_HEADERS, **RATE_HEADERS},
    ),
}


def errors(*statuses: int) -> dict[int | str, Doc]:
    """FastAPI ``responses=`` entries for these error statuses, each with a typical example."""
    out: dict[int | str, Doc] = {}
    for status in statuses:
        description, example, headers = _ERRORS[status]
        doc: Doc = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
        if headers:
            doc["headers"] = headers
        out[status] = doc
    return out


def refusal(status: int, description: str, message: str, code: str, param: str | None = None) -> dict[int | str, Doc]:
    """One error answer of one operation, in its own words and with its own example.

    >>> doc = refusal(404, "No such model.", "The model 'gpt-99' does not exist.", "model_not_found", "model")
    >>> doc[404]["content"]["application/json"]["example"]["error"]["code"]
    'model_not_found'
    """
    doc = errors(status)[status]
    doc["description"] = description
    doc["content"] = {"application/json": {"example": _example(message, "invalid_request_error", param, code)}}
    return {status: doc}


AUTHENTICATED = errors(401, 403, 413, 429)
"""What any operation behind a key can answer, whatever it does."""


_SUCCESS = {
    200: "OK: the answer is in the body.",
    201: "Created: the new object is in the body, and `Location` says where it lives.",
    204: "No Content: done, and the body is empty.",
}


def success(status: int = 200, *, location: bool = False, links: Doc | None = None) -> dict[int | str, Doc]:
    """The success answer's headers: the rate-limit family, and ``Location`` for something created;
    ``links`` say which operations can use what this one answered (OpenAPI links)."""
    headers = dict(RATE_HEADERS)
    if location:
        headers["location"] = _header("The new object's path, e.g. `/v1/files/file-001`.")
    doc: Doc = {"description": _SUCCESS[status], "headers": headers}
    if links:
        doc["links"] = links
    return {status: doc}


def links_by_id(parameter: str, *operation_ids: str) -> Doc:
    """OpenAPI links: pass the ``id`` of the answer as ``parameter`` to each of these operations.

    >>> links_by_id("file_id", "get_file")["get_file"]["parameters"]
    {'file_id': '$response.body#/id'}
    """
    return {
        op: {"operationId": op, "parameters": {parameter: "$response.body#/id"}, "description": f"`id` → {parameter}"}
        for op in operation_ids
    }


def oauth_errors() -> dict[int | str, Doc]:
    """The token endpoint's errors, in the OAuth standard's shape (RFC 6749 §5.2)."""
    no_store = {"cache-control": _header("`no-store`: a token answer is never cached.")}
    return {
        400: {
            "model": OAuthErrorBody,
            "description": "A missing `grant_type`, a grant other than `client_credentials`, or an unknown scope.",
            "headers": no_store,
            "content": {"application/json": {"example": {"error": "invalid_scope", "error_description": "…"}}},
        },
        401: {
            "model": OAuthErrorBody,
            "description": "Unknown client, wrong secret, or malformed Basic credentials.",
            "headers": {**no_store, "www-authenticate": _header('`Basic realm="practice"`.')},
            "content": {"application/json": {"example": {"error": "invalid_client", "error_description": "…"}}},
        },
        413: errors(413)[413],
    }


CLIENT_BASIC = "ClientSecretBasic"


def _fix_security(schema: Doc) -> None:
    """A key carries no scopes: FastAPI copies a route's OAuth scopes to each of its schemes; keep them on OAuth."""
    schemes = schema["components"]["securitySchemes"]
    for operations in schema["paths"].values():
        for operation in operations.values():
            for requirement in operation.get("security", []):
                for name in requirement:
                    if schemes.get(name, {}).get("type") != "oauth2":
                        requirement[name] = []


def _fix_validation_errors(schema: Doc) -> None:
    """FastAPI documents its own 422 body wherever a route has parameters; ours answers in the provider's shape."""
    ours = {
        "description": _ERRORS[422][0],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for operations in schema["paths"].values():
        for operation in operations.values():
            answer = operation["responses"].get("422", {})
            if "HTTPValidationError" in str(answer.get("content")):
                operation["responses"]["422"] = ours
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)


def _restore_examples(schema: Doc) -> None:
    """FastAPI drops every ``null`` while it encodes the document; put the examples back whole."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for answer in operation["responses"].values():
                example = answer.get("content", {}).get("application/json", {}).get("example")
                if isinstance(example, dict) and isinstance(example.get("error"), dict):
                    example["error"] = {"param": None, "code": None, **example["error"]}
                    example["error"] = {k: example["error"][k] for k in ("message", "type", "param", "code")}
    for name, component in schema["components"]["schemas"].items():
        model = getattr(schemas, name, None)
        extra = getattr(model, "model_config", {}).get("json_schema_extra")
        if isinstance(extra, dict) and "examples" in extra:
            component["examples"] = extra["examples"]


def install_openapi(app: FastAPI) -> None:
    """Build ``/openapi.json`` with FastAPI, then add what FastAPI can't infer on its own: the token
    endpoint's HTTP Basic scheme, scope-less Bearer requirements, our 422 shape, examples with their nulls.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema["components"]["securitySchemes"][CLIENT_BASIC] = {
            "type": "http",
            "scheme": "basic",
            "description": "The OAuth client's id and secret (`api.client_id`, `api.client_secret`).",
        }
        _fix_security(schema)
        _fix_validation_errors(schema)
        _restore_examples(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
