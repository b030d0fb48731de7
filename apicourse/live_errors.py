"""What an API error means and how to fix it, for the errors a learner meets in live mode.

Covers 401, 402, 404 (a retired or misspelled model), 410, 429, 5xx and 529 from the OpenAI, Anthropic
and Hugging Face SDKs (and Hugging Face's "conversational only" answer to ``text_generation``)::

    from apicourse.live_errors import explain_errors
    with explain_errors():              # prints the explanation instead of a long traceback
        client.chat.completions.create(model="gpt-4-32k", messages=[...])

or ``print(explain(error))`` on an exception you caught. :func:`apicourse.start` also shows the
explanation above the traceback of any such error raised in a notebook cell.

>>> explain(ValueError("unrelated")) is None
True
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from apicourse import models
from apicourse.replay import PROVIDER_BY_NAME, provider_for_host

KEYS_PAGE = {
    "openai": "https://platform.openai.com/api-keys",
    "anthropic": "https://console.anthropic.com/settings/keys",
    "huggingface": "https://huggingface.co/settings/tokens",
}
BILLING_PAGE = {
    "openai": "https://platform.openai.com/settings/organization/billing",
    "anthropic": "https://console.anthropic.com/settings/billing",
    "huggingface": "https://huggingface.co/settings/billing",
}
STATUS_PAGE = {
    "openai": "https://status.openai.com",
    "anthropic": "https://status.anthropic.com",
    "huggingface": "https://status.huggingface.co",
}
LIST_MODELS = {
    "openai": "from openai import OpenAI; print([m.id for m in OpenAI().models.list()])",
    "anthropic": "import anthropic; print([m.id for m in anthropic.Anthropic().models.list()])",
    "huggingface": "from huggingface_hub import HfApi; print([m.id for m in HfApi().list_models("
    "inference_provider='all', pipeline_tag='text-generation', limit=20)])",
}


@dataclass
class Explanation:
    """An error explained: what happened and what to do about it."""

    provider: str
    status: int | None
    title: str
    fix: list[str]
    detail: str = ""

    def __str__(self) -> str:
        label = PROVIDER_BY_NAME[self.provider].label if self.provider in PROVIDER_BY_NAME else self.provider
        head = f"{label} · {self.status} · {self.title}" if self.status else f"{label} · {self.title}"
        lines = [head]
        if self.detail:
            lines.append(f"  The API said: {self.detail}")
        lines.append("  What to do:")
        lines += [f"   - {step}" for step in self.fix]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        steps = "".join(f"<li>{html.escape(s)}</li>" for s in self.fix)
        detail = f"<div><i>The API said:</i> {html.escape(self.detail)}</div>" if self.detail else ""
        return (
            '<div class="apicourse-error" style="border-left:4px solid #c33;padding:4px 10px">'
            f"<b>{html.escape(str(self).splitlines()[0])}</b>{detail}<div>What to do:</div><ul>{steps}</ul></div>"
        )


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _provider(exc: BaseException) -> str | None:
    package = type(exc).__module__.split(".")[0]
    if package in ("openai", "anthropic"):
        return package
    if package == "huggingface_hub":
        return "huggingface"
    for holder in (getattr(exc, "response", None), exc):
        request = getattr(holder, "request", None)
        try:
            host = request.url.host if request is not None else None
        except (AttributeError, RuntimeError):
            host = None
        found = provider_for_host(host or "")
        if found is not None:
            return found.name
    return None


def _request(exc: BaseException) -> Any:
    for holder in (exc, getattr(exc, "response", None)):
        try:
            request = getattr(holder, "request", None)
        except RuntimeError:  # httpx2 raises when a response has no request
            request = None
        if request is not None:
            return request
    return None


def _model(exc: BaseException) -> str | None:
    """The model the failed request asked for (from its JSON body, or a ``/models/<id>`` URL)."""
    request = _request(exc)
    if request is None:
        return None
    try:
        body = json.loads(request.content or b"{}")
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
    except (ValueError, AttributeError, RuntimeError, TypeError):
        pass
    path = urlsplit(str(request.url)).path
    if "/models/" in path:
        return path.split("/models/", 1)[1].split("/pipeline/")[0].removesuffix("/v1/chat/completions")
    return None


def _detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    server = getattr(exc, "server_message", None)
    if server:
        return str(server).strip()
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0][:300] if message else ""


def _code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code") or body["error"].get("type") or "")
    return ""


def _retry_after(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    return str(value) if value else None


def explain(exc: BaseException) -> Explanation | None:
    """Explain a provider error (``None`` when it is not one this module knows).

    >>> import httpx2, openai
    >>> request = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions", json={"model": "gpt-4o"})
    >>> error = openai.AuthenticationError("bad key", response=httpx2.Response(401, request=request), body=None)
    >>> print(explain(error).title)
    your API key was rejected
    """
    if isinstance(exc, ValueError) and "Supported task: conversational" in str(exc):
        return Explanation(
            "huggingface",
            None,
            "this model only answers chat (conversational) requests",
            [
                (
                    "call client.chat_completion(messages=[{'role': 'user', 'content': ...}], model=...) "
                    "instead of client.text_generation(...);"
                ),
                "most hosted chat models are served by providers as chat only (lesson 07 explains why).",
            ],
            str(exc),
        )
    status = _status(exc)
    provider = _provider(exc)
    if status is None or provider is None:
        return None
    key_var = PROVIDER_BY_NAME[provider].key_var
    detail = _detail(exc)
    restart = "then restart the kernel (Kernel → Restart) and run the notebook from the top."
    replay = f"or remove {key_var} from .env: the notebook then replays its recording."
    code = _code(exc)
    if status == 401:
        return Explanation(provider, status, "your API key was rejected", [
            (f"check {key_var} in the course's .env: copy the key again from {KEYS_PAGE[provider]} "
            "(the whole key, no quotes or spaces);"),
            "a key that was revoked or belongs to another project fails the same way;",
            restart, replay,
        ], detail)  # fmt: skip
    if (
        status == 402
        or code in ("insufficient_quota", "billing_error")
        or (status == 429 and "quota" in detail.lower())
    ):
        what = "your included monthly credits are used up" if provider == "huggingface" else "no credit left"
        return Explanation(provider, status, f"payment required: {what}", [
            f"add credit or a payment method at {BILLING_PAGE[provider]}"
            + (" or wait for the monthly reset" if provider == "huggingface" else "") + ";",
            "retrying will not help until then;", replay,
        ], detail)  # fmt: skip
    if status in (404, 410):
        model = _model(exc)
        env_var = models.env_var_for(model) if model else None
        title = (
            f"the model {model!r} is not available (retired, renamed or misspelled)" if model else "not found"
        )
        if status == 410:
            title = (
                f"the model {model!r} has been retired for good"
                if model
                else "gone: this endpoint was retired"
            )
        fix = [f"list the models your key can use now:  {LIST_MODELS[provider]}"]
        if env_var:
            fix.append(f"pick one and set it in .env, e.g.  {env_var}=<model id>  (the course reads every model "
                       "name from apicourse.models);")  # fmt: skip
        else:
            fix.append("pick a current one and use it in place of the old name;")
        fix.append("python -m apicourse.models --check  says which setting names a retired model, and what to use;")
        fix.append(restart)
        return Explanation(provider, status, title, fix, detail)
    if status == 429:
        after = _retry_after(exc)
        return Explanation(provider, status, "rate limited: too many requests or tokens per minute", [
            f"wait{' ' + after + ' s (the retry-after header)' if after else ' a little'} and run the cell again;",
            ("the SDKs already retried twice with backoff; for loops, retry with exponential backoff "
            "(tenacity, lesson 09) and send fewer requests at once;"),
            "your limits and their reset times are in the x-ratelimit-* / anthropic-ratelimit-* headers.",
        ], detail)  # fmt: skip
    if status == 529:
        return Explanation(provider, status, "the API is temporarily overloaded", [
            "this is on the provider's side, not in your code: wait a minute and run the cell again;",
            "retry with exponential backoff (lesson 09), or try a smaller model for now;",
            f"check {STATUS_PAGE[provider]}.",
        ], detail)  # fmt: skip
    if status == 503 and provider == "huggingface":
        return Explanation(provider, status, "the model is loading or the provider is unavailable", [
            "a model that was not in use is being loaded (a cold start): wait the estimated time and retry;",
            "or pick a model that is currently served (see lesson 07, providers and routing);",
            f"check {STATUS_PAGE[provider]}.",
        ], detail)  # fmt: skip
    if status >= 500:
        return Explanation(provider, status, "the provider had an internal error", [
            "this is on the provider's side, not in your code: run the cell again in a moment;",
            "in a program, retry 5xx with exponential backoff (and never other 4xx) — lesson 09;",
            f"if it persists, check {STATUS_PAGE[provider]}.",
        ], detail)  # fmt: skip
    return None


def show(explanation: Explanation) -> None:
    """Display an explanation (HTML in a notebook, text elsewhere)."""
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(explanation)
            return
    except ImportError:
        pass
    print(explanation, file=sys.stderr)


@contextlib.contextmanager
def explain_errors(reraise: bool = False) -> Iterator[None]:
    """Show an explanation for a known provider error instead of its traceback.

    Errors it does not know pass through untouched; with ``reraise=True`` known ones are shown and then
    raised too. Works as a decorator as well: ``@explain_errors()``.

    >>> with explain_errors():
    ...     pass
    """
    try:
        yield
    except Exception as exc:
        explanation = explain(exc)
        if explanation is None:
            raise
        show(explanation)
        if reraise:
            raise
