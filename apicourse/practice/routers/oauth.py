"""``POST /oauth/token``: OAuth 2.0 client credentials (RFC 6749 §4.4), errors in the RFC's own shape.

The form is read by hand, not by FastAPI's validation, so that each mistake gets the OAuth error the
standard names (``invalid_request``, ``invalid_client``, ``unsupported_grant_type``, ``invalid_scope``)
rather than a 422.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
import time
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.auth import TOKEN_PATH
from apicourse.practice.config import SCOPES
from apicourse.practice.errors import oauth_error
from apicourse.practice.middleware import TooLarge
from apicourse.practice.openapi import CLIENT_BASIC, oauth_errors
from apicourse.practice.schemas import TokenRequest, TokenResponse
from apicourse.practice.state import StateDep, Token

router = APIRouter(tags=["oauth"], route_class=DepthCheckedRoute)

BASIC_CHALLENGE = {"www-authenticate": 'Basic realm="practice"'}


def basic_credentials(header: str) -> tuple[str, str] | None:
    """The ``(client_id, client_secret)`` of an HTTP Basic header (RFC 6749 §2.3.1), or None if malformed.

    >>> basic_credentials("Basic " + base64.b64encode(b"practice-client:s3cret").decode())
    ('practice-client', 's3cret')
    >>> basic_credentials("Basic !!!") is None
    True
    """
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    basic_id, _, basic_secret = decoded.partition(":")
    return unquote(basic_id), unquote(basic_secret)


@router.post(
    TOKEN_PATH,
    summary="OAuth 2.0 token endpoint (grant_type=client_credentials)",
    response_model=TokenResponse,
    responses=oauth_errors(),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": TokenRequest.model_json_schema()}},
        },
        "security": [{CLIENT_BASIC: []}],
    },
)
async def token(request: Request, state: StateDep) -> JSONResponse:
    """Check the client and the scopes asked for; answer a Bearer access token that expires."""
    try:
        form = await request.form()
    except TooLarge:
        raise
    except Exception:
        return oauth_error(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
    client_id = str(form.get("client_id") or "")
    client_secret = str(form.get("client_secret") or "")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        basic = basic_credentials(auth)
        if basic is None:
            return oauth_error(401, "invalid_client", "Malformed Basic credentials.", BASIC_CHALLENGE)
        client_id, client_secret = basic
    grant = form.get("grant_type")
    if not grant:
        return oauth_error(400, "invalid_request", "Missing grant_type (use grant_type=client_credentials).")
    with state.lock:
        client = state.clients.get(client_id)
    if client is None or not secrets.compare_digest(client.client_secret, client_secret):
        return oauth_error(401, "invalid_client", "Unknown client or wrong secret.", BASIC_CHALLENGE)
    if grant != "client_credentials":
        return oauth_error(
            400, "unsupported_grant_type", f"This server only issues client_credentials tokens, not {grant}."
        )
    requested = str(form.get("scope") or "").split()
    unknown = [s for s in requested if s not in SCOPES]
    if unknown:
        return oauth_error(400, "invalid_scope", f"Unknown scope(s): {' '.join(unknown)}. Known: {' '.join(SCOPES)}.")
    refused = [s for s in requested if s not in client.scopes]
    if refused:
        return oauth_error(400, "invalid_scope", f"This client may not ask for: {' '.join(refused)}.")
    scopes = frozenset(requested) if requested else client.scopes
    lifetime = float(state.config.token_lifetime)
    value = "pat-" + secrets.token_urlsafe(24)
    with state.lock:
        state.tokens[value] = Token(client.client_id, scopes, time.time() + lifetime)
    request.scope["state"]["apicourse_who"] = f"oauth:{client.client_id}"
    return JSONResponse(
        {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(lifetime)),  # whole seconds, as clients expect
            "scope": " ".join(s for s in SCOPES if s in scopes),
        },
        headers={"cache-control": "no-store", "pragma": "no-cache"},
    )
