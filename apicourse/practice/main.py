"""The app factory: one FastAPI application per practice server, put together from the routers.

Laid out as FastAPI's "Bigger Applications" guide shows: each resource has its router in
``routers/``, shared dependencies (``auth``, ``scopes``, ``ratelimit``) have modules of their own, and
this file only assembles them::

    >>> from apicourse.practice.config import PracticeConfig
    >>> app = create_app(PracticeState(PracticeConfig()))
    >>> sorted(app.openapi()["paths"])[:2]
    ['/oauth/token', '/v1/chat/completions']
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from apicourse.practice.auth import authenticate
from apicourse.practice.errors import install_error_handlers
from apicourse.practice.middleware import BodyLimit, Bookkeeping
from apicourse.practice.openapi import install_openapi
from apicourse.practice.routers import chat, files, fine_tuning, models, oauth, status
from apicourse.practice.state import PracticeState

TITLE = "Working with APIs · practice API"
DESCRIPTION = (
    "A local, OpenAI-shaped API for practising REST, JSON, authentication and rate limits. "
    "Send `Authorization: Bearer <key>`; OAuth 2.0 client-credentials tokens come from `POST /oauth/token`. "
    "Errors look like OpenAI's: `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}`; every answer "
    "behind a key carries `x-ratelimit-*` headers, and a 429 says how long to wait in `Retry-After`."
)


def operation_id(route: APIRoute) -> str:
    """Each operation's ``operationId`` is its function's name (``list_models``, ``create_job``, …)."""
    return route.name


def create_app(state: PracticeState) -> FastAPI:
    """The FastAPI application behind a practice server (``practice.start()`` serves it for you)."""
    app = FastAPI(
        title=TITLE,
        version="1.0",
        description=DESCRIPTION,
        docs_url=None,  # the Swagger page loads scripts from the internet; /openapi.json is enough
        redoc_url=None,
        strict_content_type=False,  # a JSON body sent without a Content-Type is still read as JSON
        generate_unique_id_function=operation_id,
    )
    app.state.practice = state
    for router in (status.router, models.router, files.router, fine_tuning.router, chat.router, oauth.router):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def index() -> dict[str, Any]:
        return {"name": app.title, "openapi": "/openapi.json", "status": "/v1/status"}

    install_error_handlers(app, check_key=authenticate)
    install_openapi(app)
    app.add_middleware(Bookkeeping, state=state)
    app.add_middleware(BodyLimit, state=state)
    return app
