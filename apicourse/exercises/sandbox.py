"""The sandbox a provider check runs the learner's code in: the course's local stand-in, with answers the check writes.

A check starts a :class:`Sandbox` with the answers it wants (the stand-in's answer format, see
:mod:`apicourse.standin`), hands the learner's function an SDK client that talks to it, and afterwards
reads :attr:`Sandbox.sent` — every request the function made, as parsed JSON::

    >>> with Sandbox([{"match": "capital of France", "text": "Paris."}]) as box:
    ...     reply = box.openai().chat.completions.create(
    ...         model="gpt-4o", messages=[{"role": "user", "content": "The capital of France?"}])
    >>> reply.choices[0].message.content, box.sent[0].path, box.sent[0].body["model"]
    ('Paris.', '/v1/chat/completions', 'gpt-4o')

Not to be confused with :mod:`apicourse.sandbox`, which answers a *lesson's* unrecorded calls; this one
answers a *check's*, with replies the check chose. The clients send to 127.0.0.1 only, so a replaying
lesson (whose recorder lets local traffic through) never mistakes a check's request for one of its own;
nothing the check sends leaves the machine, and nothing it answers comes from a model.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import yaml

from apicourse.replay import provider_for_host, provider_to_standin_url

if TYPE_CHECKING:
    from apicourse.standin import StandIn

ANSWERS_NAME = "exercise_check"


@dataclass(frozen=True)
class Sent:
    """One request the learner's code made: its path without the host (``/v1/messages``) and JSON body."""

    method: str
    path: str
    body: Any


class Sandbox:
    """The stand-in on 127.0.0.1 with a check's own answers; stops itself (use it with ``with``).

    The stand-in (FastAPI served by uvicorn: about 12 MB in a kernel) starts with the first request the
    learner's code sends, so checking an exercise not yet written loads none of it.
    """

    def __init__(self, answers: list[dict[str, Any]] | None = None, default: str | None = None) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="apicourse-check-")
        self.answers(answers or [], default)
        self._standin: StandIn | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.sent: list[Sent] = []

    @property
    def standin(self) -> StandIn:
        """The stand-in serving this check's answers, started on first use."""
        with self._lock:
            if self._closed:
                raise RuntimeError("this check is over: its stand-in has stopped")
            if self._standin is None:
                from apicourse.standin import StandIn

                self._standin = StandIn(notebook=ANSWERS_NAME, answers_dir=Path(self._folder.name)).start()
            return self._standin

    def answers(self, answers: list[dict[str, Any]], default: str | None = None) -> None:
        """Replace the authored answers (the stand-in re-reads them on every request)."""
        data: dict[str, Any] = {"answers": answers}
        if default is not None:
            data["default"] = {"text": default}
        path = Path(self._folder.name) / f"{ANSWERS_NAME}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def _record(self, request: Any) -> None:
        import httpx2

        host = request.url.host
        if provider_for_host(host) is not None:
            request.url = httpx2.URL(provider_to_standin_url(str(request.url), self.standin.url))
            request.headers["host"] = request.url.netloc.decode()
            path = "/" + request.url.path.lstrip("/").partition("/")[2]
        else:
            path = request.url.path
        try:
            body = json.loads(request.content or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        self.sent.append(Sent(request.method, path, body))

    def http_client(self) -> Any:
        """An ``httpx2.Client`` that records each request and sends provider URLs to the stand-in."""
        import httpx2

        return httpx2.Client(event_hooks={"request": [self._record]}, timeout=10)

    def openai(self) -> Any:
        """An ``openai.OpenAI`` client on the sandbox (no retries, so each request is the learner's)."""
        import openai

        return openai.OpenAI(api_key="sk-exercise-check", http_client=self.http_client(), max_retries=0)

    def anthropic(self) -> Any:
        """An ``anthropic.Anthropic`` client on the sandbox (no retries)."""
        import anthropic

        return anthropic.Anthropic(api_key="sk-ant-exercise-check", http_client=self.http_client(), max_retries=0)

    @contextmanager
    def huggingface(self) -> Iterator[Any]:
        """An ``InferenceClient`` on the sandbox; ``huggingface_hub``'s HTTP client is restored afterwards."""
        from huggingface_hub import InferenceClient
        from huggingface_hub.utils import _http as hf_http

        previous = hf_http._GLOBAL_CLIENT_FACTORY  # whatever the lesson uses, restored afterwards
        hf_http.set_client_factory(self.http_client)
        try:
            yield InferenceClient(api_key="hf_exercise_check")
        finally:
            hf_http.set_client_factory(previous)
            hf_http.close_session()

    def calls(self, path: str) -> list[Any]:
        """The JSON bodies of the requests sent to ``path`` (e.g. ``/v1/chat/completions``)."""
        return [sent.body for sent in self.sent if sent.path == path]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
            standin, self._standin = self._standin, None
        if standin is not None:
            standin.stop()
        self._folder.cleanup()


@dataclass(frozen=True)
class Outcome:
    """What running the learner's function gave: its value, or the exception it raised, or neither (still running)."""

    finished: bool
    value: Any = None
    error: BaseException | None = None


def run(function: Callable[..., Any], *args: Any, seconds: float = 20.0, **kwargs: Any) -> Outcome:
    """Call the learner's ``function`` in a thread, giving up after ``seconds``; never raises.

    >>> run(lambda x: 1 / x, 0).error.__class__.__name__
    'ZeroDivisionError'
    """
    from apicourse.exercises.basics import _call_with_timeout

    finished, value, error = _call_with_timeout(lambda: function(*args, **kwargs), seconds)
    return Outcome(finished, value, error)


def text_of(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a list of blocks.

    >>> text_of("Hi"), text_of([{"type": "text", "text": "Hi"}, {"type": "image"}])
    ('Hi', 'Hi')
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def role_of(message: Any) -> str | None:
    """A message's role, whether the learner sent a dict or passed back the SDK's message object."""
    return message.get("role") if isinstance(message, dict) else None


def describe(value: Any) -> str:
    """A short ``repr`` of what the learner's function returned."""
    text = repr(value)
    return text if len(text) <= 90 else text[:87] + "..."
