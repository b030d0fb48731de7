"""The practice API: a real HTTP server on 127.0.0.1 for the REST, JSON, auth and rate-limit lessons.

One call starts it in a background thread on a free loopback port; it stops when you call
``.stop()``, leave a ``with`` block, or the kernel ends::

    >>> from apicourse import practice
    >>> api = practice.start(quiet=True)
    >>> import requests
    >>> r = requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=5)
    >>> r.status_code, r.json()["object"]
    (200, 'list')
    >>> requests.get(f"{api.url}/v1/models", timeout=5).status_code   # no key
    401
    >>> api.stop()

It is built on FastAPI + uvicorn and publishes its own description at ``/openapi.json``: every
operation with every status it can answer, the error bodies, the headers, the security schemes.
Its resources follow the course text's examples (OpenAI-shaped):

====================================  =========================================  ==================
request                               what it does                               scope (OAuth)
====================================  =========================================  ==================
``GET /v1/status``                    is the API up? (no key needed)             –
``GET /v1/models``, ``/v1/models/ID`` list models, get one                       ``models:read``
``POST /v1/files`` (multipart)        upload a file → 201                        ``files:write``
``GET /v1/files``, ``/v1/files/ID``   list files, get one                        ``files:read``
``GET /v1/files/ID/content``          download a file's bytes                    ``files:read``
``DELETE /v1/files/ID``               delete a file → 200 ``{"deleted": true}``  ``files:write``
``POST /v1/fine_tuning/jobs``         create a job → 201                         ``fine_tuning:write``
``GET /v1/fine_tuning/jobs[/ID]``     list jobs, get one                         ``fine_tuning:read``
``PATCH /v1/fine_tuning/jobs/ID``     change some fields (metadata, suffix)      ``fine_tuning:write``
``PUT /v1/fine_tuning/jobs/ID``       replace the job's settings entirely        ``fine_tuning:write``
``POST /v1/fine_tuning/jobs/ID/cancel`` cancel (twice → 409)                     ``fine_tuning:write``
``DELETE /v1/fine_tuning/jobs/ID``    delete → 204 No Content                    ``fine_tuning:write``
``POST /v1/chat/completions``         a deterministic echo, with ``usage``       ``chat:write``
``POST /oauth/token``                 OAuth 2.0 client credentials → a token     –
====================================  =========================================  ==================

Auth: ``Authorization: Bearer <key>`` with an API key (every scope) or an OAuth access token
(only its scopes; it expires after ``token_lifetime`` seconds). Errors look like OpenAI's:
``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`` (the token endpoint uses
the OAuth standard's own shape, ``{"error": "invalid_client", "error_description": ...}``).

Rate limits are per key (per OAuth client for tokens): ``rpm`` requests and ``tpm`` tokens per
window of ``window_seconds`` (60 s, a minute, by default; lessons shrink it so a limit resets in a
second or two). Every authenticated answer carries ``x-ratelimit-*`` headers like OpenAI's; a
refusal is a 429 with ``Retry-After``.

The code is laid out like FastAPI's "Bigger Applications" guide:

===================  ==========================================================================
``main``             the app factory, ``create_app(state)``: includes the routers below
``routers/``         one ``APIRouter`` per resource: ``status``, ``models``, ``files``,
                     ``fine_tuning``, ``chat``, ``oauth`` (the token endpoint)
``auth``             dependency: who is calling (API key or OAuth token), else 401
``scopes``           dependency: the scope a route declares, else 403
``ratelimit``        dependency: count the request (and tokens), else 429 (``limiter`` does the sums)
``errors``           the provider-shaped error bodies and the exception handlers
``openapi``          what ``/openapi.json`` says about errors, headers and security
``schemas``          request and response bodies (Pydantic)
``middleware``       body-size limit (413) and bookkeeping (headers, request id, ``api.seen``)
``state``            what one server remembers; ``config``, ``keys``, ``echo`` (the "model")
``lifecycle``        ``start()``, ``current()``, the ``PracticeAPI`` handle: start/stop, keys, limits
===================  ==========================================================================
"""

from __future__ import annotations

import json
from typing import Any

from apicourse.paths import env_file
from apicourse.practice.config import (
    FILE_PURPOSES,
    HOST,
    KEY_VAR,
    MODELS,
    READ_SCOPES,
    SCOPES,
    PracticeConfig,
    replace_config,
)
from apicourse.practice.echo import count_tokens, echo_answer
from apicourse.practice.errors import APIError, error_response
from apicourse.practice.keys import mask, new_key, save_key, saved_key
from apicourse.practice.lifecycle import PracticeAPI, current, start
from apicourse.practice.limiter import RateDecision, RateLimiter, format_duration
from apicourse.practice.main import create_app
from apicourse.practice.state import Client, PracticeState, Seen, Token

__all__ = [
    "FILE_PURPOSES",
    "HOST",
    "KEY_VAR",
    "MODELS",
    "READ_SCOPES",
    "SCOPES",
    "APIError",
    "Client",
    "PracticeAPI",
    "PracticeConfig",
    "PracticeState",
    "RateDecision",
    "RateLimiter",
    "Seen",
    "Token",
    "count_tokens",
    "create_app",
    "current",
    "echo_answer",
    "env_file",
    "error_response",
    "format_duration",
    "mask",
    "new_key",
    "replace_config",
    "save_key",
    "saved_key",
    "start",
    "to_json",
]


def to_json(data: Any) -> str:
    """Pretty JSON text, as the lessons show responses.

    >>> print(to_json({"a": [1, 2]}))
    {
      "a": [
        1,
        2
      ]
    }
    """
    return json.dumps(data, indent=2, ensure_ascii=False)
