"""What record mode does to what it writes (``python -m apicourse.record``): secrets scrubbed from requests
and responses, retried failures left out, and, against the local stand-in, provider URLs restored.

Replay (:mod:`apicourse.replay`) never needs this module; ``apicourse.replay.scrub_request`` and the other
names still work from there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from apicourse.replay import (
    SCRUBBED_REQUEST_HEADERS,
    SCRUBBED_RESPONSE_HEADERS,
    STANDIN_VAR,
    _vcr,
    provider_for_host,
    provider_to_standin_url,
)


def recorder(cassette_file: Path) -> Any:
    """vcrpy's context that records every provider call to ``cassette_file``, scrubbed."""
    standin = os.environ.get(STANDIN_VAR)
    return _vcr(
        cassette_file,
        record_mode="all",
        # the stand-in is on 127.0.0.1: vcrpy's localhost filter runs before ours, so with a stand-in
        # scrub_request drops loopback requests itself, after restoring the provider URL
        ignore_localhost=not standin,
        before_record_request=lambda request: scrub_request(request, standin),
        before_record_response=scrub_response,
    ).use_cassette(cassette_file.name)


def scrub_request(request: Any, standin_url: str | None = None) -> Any:
    """Drop secret headers and, when recording against the stand-in, restore the provider URL.

    Used as vcrpy's ``before_record_request``.
    """
    for name in list(request.headers):
        if name.lower() in SCRUBBED_REQUEST_HEADERS:
            del request.headers[name]
    if standin_url:
        request.uri = standin_to_provider_url(request.uri, standin_url)
        if provider_for_host(urlsplit(request.uri).hostname or "") is None:
            return None  # not a provider call (e.g. the practice API on 127.0.0.1): never recorded
        for name in list(request.headers):
            if name.lower() == "host":
                del request.headers[name]
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any] | None:
    """Drop secret response headers; skip 429 and 5xx (the SDK retried; only its final answer is kept,
    so replay never waits). Used as vcrpy's ``before_record_response``."""
    status = int(response.get("status", {}).get("code", 200))
    if status == 429 or status >= 500:
        return None
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SCRUBBED_RESPONSE_HEADERS:
            del headers[name]
    return response


def standin_to_provider_url(url: str, standin_url: str) -> str:
    """The inverse of :func:`provider_to_standin_url` (other URLs pass unchanged).

    >>> standin_to_provider_url("http://127.0.0.1:8765/api.openai.com/v1/models", "http://127.0.0.1:8765")
    'https://api.openai.com/v1/models'
    """
    prefix = standin_url.rstrip("/") + "/"
    if not url.startswith(prefix):
        return url
    return "https://" + url[len(prefix) :]


def redirect_to_standin(standin_url: str) -> None:
    """Send every provider request to the local stand-in (record command only)."""
    import httpx2

    def rewrite(request: Any) -> None:
        if provider_for_host(request.url.host) is not None:
            new = httpx2.URL(provider_to_standin_url(str(request.url), standin_url))
            request.url = new
            request.headers["host"] = new.netloc.decode()

    def wrap_sync(send: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            rewrite(request)
            return send(self, request, *args, **kwargs)

        return patched

    def wrap_async(send: Callable[..., Any]) -> Callable[..., Any]:
        async def patched(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            rewrite(request)
            return await send(self, request, *args, **kwargs)

        return patched

    if not getattr(httpx2.Client.send, "_apicourse_standin", False):
        httpx2.Client.send = wrap_sync(httpx2.Client.send)  # type: ignore[method-assign]
        httpx2.AsyncClient.send = wrap_async(httpx2.AsyncClient.send)  # type: ignore[method-assign]
        httpx2.Client.send._apicourse_standin = True  # type: ignore[attr-defined]
    try:
        import requests
    except ImportError:
        return
    if not getattr(requests.Session.send, "_apicourse_standin", False):
        original = requests.Session.send

        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            host = urlsplit(request.url).hostname or ""
            if provider_for_host(host) is not None:
                request.url = provider_to_standin_url(request.url, standin_url)
            return original(self, request, **kwargs)

        send._apicourse_standin = True  # type: ignore[attr-defined]
        requests.Session.send = send  # type: ignore[method-assign]
