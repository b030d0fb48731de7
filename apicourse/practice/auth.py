"""Authentication: who sent a request — an API key or an OAuth access token — or the 401 that says
what is wrong. Scopes are checked by :mod:`apicourse.practice.scopes`, on top of this.

The two security schemes are declared here so that FastAPI writes them into ``/openapi.json``;
:func:`authenticate` reads the ``Authorization`` header itself, to answer each mistake in its own words::

    >>> bearer.scheme_name, oauth2.scheme_name
    ('BearerAuth', 'OAuth2ClientCredentials')
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2

from apicourse.practice.config import SCOPES
from apicourse.practice.errors import APIError
from apicourse.practice.keys import mask
from apicourse.practice.state import Caller, get_state

TOKEN_PATH = "/oauth/token"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BearerAuth",
    description="A practice API key (`api.key`), sent as `Authorization: Bearer <key>`. A key has every scope.",
)
oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes=dict(SCOPES))),
    scheme_name="OAuth2ClientCredentials",
    description="An access token from `POST /oauth/token`, sent as `Authorization: Bearer <token>`: "
    "it holds only the scopes it was issued with, and expires.",
    auto_error=False,
)

CHALLENGE = {"www-authenticate": 'Bearer realm="practice"'}


def authenticate(request: Request) -> Caller:
    """Who sent this request (an API key or an OAuth token), or the :class:`APIError` 401 saying what is wrong."""
    state = get_state(request)
    auth = request.headers.get("authorization")
    scheme, _, value = (auth or "").strip().partition(" ")
    if not auth:
        raise APIError(
            401,
            "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
            "(i.e. Authorization: Bearer YOUR_KEY).",
            "authentication_error",
            code="missing_api_key",
            headers=CHALLENGE,
        )
    if scheme.lower() != "bearer" or not value.strip():
        raise APIError(
            401,
            "The Authorization header must be 'Bearer YOUR_KEY' (the word Bearer, a space, then the key).",
            "authentication_error",
            code="invalid_authorization_header",
            headers=CHALLENGE,
        )
    value = value.strip()
    with state.lock:
        if value in state.keys:
            who = mask(value)
            request.scope["state"]["apicourse_who"] = who
            return Caller(identity=f"key:{value}", scopes=frozenset(SCOPES), label=who)
        token = state.tokens.get(value)
        revoked = value in state.revoked
    if token is not None:
        if time.time() >= token.expires_at:
            raise APIError(
                401,
                "The access token expired. Fetch a new one from /oauth/token.",
                "authentication_error",
                code="token_expired",
                headers={
                    "www-authenticate": 'Bearer realm="practice", error="invalid_token", '
                    'error_description="The access token expired"'
                },
            )
        request.scope["state"]["apicourse_who"] = f"oauth:{token.client_id}"
        return Caller(identity=f"client:{token.client_id}", scopes=token.scopes, label=token.client_id)
    why = " This key was revoked (rotated)." if revoked else ""
    raise APIError(
        401,
        f"Incorrect API key provided: {mask(value)}.{why} Check the key you sent; lesson 03 shows where "
        "your practice key lives.",
        "authentication_error",
        code="invalid_api_key",
        headers=CHALLENGE,
    )


def current_caller(
    request: Request,
    key: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Depends(oauth2)],
) -> Caller:
    """The dependency behind every ``/v1`` route but ``/v1/status``: the caller, or a 401.

    ``key`` and ``token`` only put the two schemes in the OpenAPI document; the header is read once, here.
    """
    return authenticate(request)
