"""A local stand-in for the OpenAI, Anthropic and Hugging Face APIs, used to record the course's cassettes.

It answers in each provider's documented wire format (ids, usage, finish/stop reasons, SSE event
sequences, headers such as ``x-request-id``, ``request-id``, ``x-ratelimit-*``), so the official SDKs
parse its answers with their own typed models. Every answer carries ``x-apicourse-standin: 1``: a
cassette recorded from it can never pass for a live recording.

Routes keep the original host as their first path segment, matching
:func:`apicourse.replay.provider_to_standin_url`::

    https://api.openai.com/v1/chat/completions  →  http://127.0.0.1:PORT/api.openai.com/v1/chat/completions

Use it
------
* ``python -m apicourse.record --standin notebooks/05_openai.ipynb`` — records a cassette against it;
* ``python -m apicourse.standin [--port 8765] [--notebook 05_openai]`` — serves it in the foreground;
* in Python::

    from apicourse.standin import StandIn
    with StandIn(notebook="05_openai") as standin:      # 127.0.0.1, a free port, stops itself
        client = openai.OpenAI(base_url=standin.url + "/api.openai.com/v1", api_key="sk-test")

Keys: any key is accepted except an empty one or one containing ``invalid`` or ``wrong`` (401, in the
provider's own error JSON). Models named in :data:`apicourse.standin.catalog.RETIRED`, or containing
``retired``, get the provider's 404.

Authored answers
----------------
What the "model" says is data, not code: ``apicourse/standin/answers/<notebook>.yaml``, one file per
notebook, plus ``_defaults.yaml`` for every notebook. A request is answered by the first entry of the
notebook's file that matches, then the first of ``_defaults.yaml``, then the notebook file's
``default:``; if nothing matches, a fallback text says which file to add an entry to (and the record
command warns about it). ::

    default:                       # optional: used when no entry matches
      text: "I'm the stand-in; ask me about the weather."
    answers:
      - match: "capital of France"          # substring(s) of the latest user message, case-insensitive;
        text: "Paris."                      #   a list means all must appear
      - match: ["weather", "Paris"]
        tool_call: {name: get_weather, arguments: {city: Paris}}   # asked for when the request offers
        text: "It is {result[temp_c]} °C in Paris."                #   that tool; after the tool result
                                                                   #   comes back, `text` is the answer
      - match: "tell me a story"
        params: {temperature: 1.5}          # only when the request has exactly these fields
        text: ["Once upon a time…", "Long ago…"]   # a list: picked by a hash of the request (and per choice with n>1)
      - match: "great course"
        labels: [{label: POSITIVE, score: 0.9987}, {label: NEGATIVE, score: 0.0013}]   # text-classification
      - match: "lighthouse"
        image: {width: 256, height: 256, sky: [20, 30, 90]}                            # text-to-image
      - match: "please fail"
        status: 400                         # answer with the provider's error JSON
        error: "Invalid 'messages': …"

Optional filters on an entry: ``system`` (substring of the system prompt), ``provider`` (``openai``,
``anthropic``, ``huggingface``), ``api`` (``chat.completions``, ``responses``, ``messages``,
``hf.chat``, ``hf.text-classification``, ``hf.text-to-image``), ``model`` (substring). Other fields:
``tool_calls`` (a list, for parallel calls), ``preamble`` (text Claude says before its tool call;
OpenAI sends no text with tool calls), ``note``
(ignored; for the author). Placeholders in ``text``: ``{tool_result}`` (the tool's answer as sent),
``{result[field]}`` (a field of it when it is JSON), ``{model}``, ``{user}``.

Without an entry, text classification scores a small sentiment lexicon and text-to-image draws a
deterministic landscape; ``max_tokens`` (``max_output_tokens``) cuts text and reports ``length`` /
``max_tokens`` / ``incomplete``. Token counts are a deterministic tokenizer-ish count
(:func:`apicourse.standin.common.count_tokens`); ids and timestamps derive from a hash of the request,
so recording twice gives the same cassette.
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
