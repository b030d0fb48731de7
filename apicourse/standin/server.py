"""The stand-in's FastAPI app (:func:`create_app`) and the uvicorn server that serves it (:class:`StandIn`).

Kept apart from the package's ``__init__`` so that importing the stand-in's rules or answers (as
:mod:`apicourse.models` does in a lesson's kernel) loads neither FastAPI nor uvicorn; the package
re-exports these names, so ``from apicourse.standin import StandIn`` works as before.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any, Self

from fastapi import FastAPI, Request, Response

from apicourse.standin import answers as _answers
from apicourse.standin.common import STANDIN_HEADER, json_response

__all__ = ["StandIn", "create_app"]

log = logging.getLogger("apicourse.standin")


def create_app(
    notebook: str | None = None, answers_dir: Path | None = None, sandbox: bool = False
) -> FastAPI:
    """The stand-in as a FastAPI app (answers re-read on every request, so edits apply at once).

    ``sandbox=True`` serves the offline sandbox (:mod:`apicourse.sandbox`): every text it answers is
    labelled as the offline stand-in's, and requests nothing authored covers get an improvised answer
    (:mod:`apicourse.standin.improvise`).

    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app())
    >>> client.get("/api.openai.com/v1/models", headers={"authorization": "Bearer sk-test"}).json()["object"]
    'list'
    """
    from apicourse.standin import anthropic_api, huggingface_api, openai_api

    app = FastAPI(title="apicourse stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.notebook = notebook
    app.state.sandbox = sandbox
    directory = answers_dir or _answers.ANSWERS_DIR
    app.state.answers = lambda: _answers.load_all(directory)
    app.state.seen = []  # (method, path) of every request, for the record command's report
    app.include_router(openai_api.router)
    app.include_router(anthropic_api.router)
    app.include_router(huggingface_api.router)

    @app.middleware("http")
    async def mark(request: Request, call_next: Any) -> Response:
        app.state.seen.append((request.method, request.url.path))
        response: Response = await call_next(request)
        response.headers[STANDIN_HEADER] = "1"
        return response

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(request: Request, rest: str) -> Response:
        log.warning("stand-in has no route for %s /%s", request.method, rest)
        return json_response(
            {"error": {"message": f"The stand-in has no route for {request.method} /{rest}"}}, 404
        )

    return app


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandIn:
    """The stand-in served by uvicorn in a background thread on 127.0.0.1 and a free port.

    ``notebook`` chooses which answer file is consulted first; change it between notebooks with
    ``standin.notebook = "06_anthropic"``. Use as a context manager (it stops itself), or
    :meth:`start` / :meth:`stop`.
    """

    def __init__(self, notebook: str | None = None, port: int = 0, answers_dir: Path | None = None) -> None:
        self.app = create_app(notebook, answers_dir)
        self.port = port or free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` — the value for ``APICOURSE_STANDIN_URL``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def notebook(self) -> str | None:
        return self.app.state.notebook  # type: ignore[no-any-return]

    @notebook.setter
    def notebook(self, value: str | None) -> None:
        self.app.state.notebook = value

    def start(self) -> StandIn:
        import uvicorn

        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            date_header=False,  # recording twice gives the same cassette
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="apicourse-standin", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the stand-in did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def http_client(self) -> Any:
        """An ``httpx2.Client`` that sends provider URLs (``https://api.openai.com/...``) to this stand-in;
        pass it to an SDK: ``openai.OpenAI(http_client=standin.http_client())``."""
        import httpx2

        return httpx2.Client(transport=_Redirect(self.url))

    def async_http_client(self) -> Any:
        """The ``httpx2.AsyncClient`` counterpart of :meth:`http_client`."""
        import httpx2

        return httpx2.AsyncClient(transport=_AsyncRedirect(self.url))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _redirected(request: Any, standin_url: str) -> None:
    import httpx2

    from apicourse.replay import provider_for_host, provider_to_standin_url

    if provider_for_host(request.url.host) is not None:
        request.url = httpx2.URL(provider_to_standin_url(str(request.url), standin_url))
        request.headers["host"] = request.url.netloc.decode()


def _transports() -> tuple[type, type]:
    import httpx2

    class Redirect(httpx2.HTTPTransport):
        def __init__(self, standin_url: str) -> None:
            super().__init__()
            self.standin_url = standin_url

        def handle_request(self, request: Any) -> Any:
            _redirected(request, self.standin_url)
            return super().handle_request(request)

    class AsyncRedirect(httpx2.AsyncHTTPTransport):
        def __init__(self, standin_url: str) -> None:
            super().__init__()
            self.standin_url = standin_url

        async def handle_async_request(self, request: Any) -> Any:
            _redirected(request, self.standin_url)
            return await super().handle_async_request(request)

    return Redirect, AsyncRedirect


def _Redirect(standin_url: str) -> Any:
    return _transports()[0](standin_url)


def _AsyncRedirect(standin_url: str) -> Any:
    return _transports()[1](standin_url)
