"""With only OPENAI_API_KEY set, OpenAI calls go live while Anthropic and Hugging Face keep replaying; and
every live-mode error a learner can meet (401, 402, 404, 410, 429, 5xx, 529) is explained with its fix.
"Live" traffic is intercepted at the transport and answered on 127.0.0.1: nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.utils import _http as hf_http

import apicourse
from apicourse import models, recording, replay
from apicourse.live_errors import explain, explain_errors
from apicourse.standin import StandIn

SONNET = models.anthropic({})  # the course default: a 404 for it is fixed by its override variable
CLASSIFIER = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class _LoopbackPool:
    """Below vcrpy (which sees the real api.openai.com URL), send the connection to the local stand-in."""

    def __init__(self, pool: Any, port: int) -> None:
        self.pool, self.port, self.hosts = pool, port, []

    def handle_request(self, request: Any) -> Any:
        import httpcore2

        host = request.url.host
        self.hosts.append(host.decode())
        target = b"/" + host + request.url.target
        url = httpcore2.URL(scheme=b"http", host=b"127.0.0.1", port=self.port, target=target)
        return self.pool.handle_request(
            httpcore2.Request(
                request.method,
                url,
                headers=request.headers,
                content=request.stream,
                extensions=request.extensions,
            )
        )

    def close(self) -> None:
        self.pool.close()


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        *KEY_VARS,
        replay.MODE_VAR,
        replay.FORCE_REPLAY_VAR,
        replay.STANDIN_VAR,
        replay.CASSETTE_DIR_VAR,
    ):
        monkeypatch.setenv(name, "x")  # recorded, so whatever start() sets is undone afterwards
        monkeypatch.delenv(name)
    monkeypatch.setenv("APICOURSE_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("APICOURSE_STREAM_DELAY", "0")


@pytest.fixture()
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


@pytest.fixture()
def cassette_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: StandIn) -> Path:
    """A cassette with one Anthropic message and one HF classification, recorded from the stand-in."""
    _clean_env(monkeypatch, tmp_path)
    folder = tmp_path / "cassettes"
    monkeypatch.setenv(replay.STANDIN_VAR, standin.url)
    hf_http.set_client_factory(standin.http_client)
    try:
        with recording.recorder(folder / "zz_live.yaml"):
            claude = anthropic.Anthropic(api_key="sk-ant-test", http_client=standin.http_client())
            claude.messages.create(
                model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
            )
            InferenceClient(api_key="hf_test_placeholder").text_classification(
                "I love this", model=CLASSIFIER
            )
    finally:
        hf_http.set_client_factory(hf_http.default_client_factory)
        hf_http.close_session()
    monkeypatch.delenv(replay.STANDIN_VAR)
    assert "api.anthropic.com" in (folder / "zz_live.yaml").read_text(encoding="utf-8")
    return folder


def test_only_openai_goes_live(cassette_dir: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(replay.CASSETTE_DIR_VAR, str(cassette_dir))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-test-key")
    course = apicourse.start("zz_live", quiet=True)
    try:
        assert (
            course.is_live("openai") and not course.is_live("anthropic") and not course.is_live("huggingface")
        )
        transport = httpx2.HTTPTransport()
        transport._pool = pool = _LoopbackPool(transport._pool, standin.port)
        live = openai.OpenAI(http_client=httpx2.Client(transport=transport), max_retries=0)
        raw = live.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]
        )
        assert pool.hosts == ["api.openai.com"], (
            "the OpenAI call went past vcrpy to the (intercepted) network"
        )
        assert raw.parse().choices[0].message.content and raw.headers["x-request-id"]
        # Anthropic and Hugging Face replay from the cassette: their default clients reach no server at all
        message = anthropic.Anthropic().messages.create(
            model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
        )
        text = "".join(block.text for block in message.content if block.type == "text")  # the default thinks first
        assert text.startswith("Hello")
        labels = InferenceClient().text_classification("I love this", model=CLASSIFIER)
        assert labels[0].label == "POSITIVE"
        # an unrecorded Anthropic call is answered by the offline stand-in, in-process: still no server
        offline = anthropic.Anthropic(max_retries=0).messages.with_raw_response.create(
            model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "never recorded"}]
        )
        assert offline.headers["x-apicourse-sandbox"] == "1" and pool.hosts == ["api.openai.com"]
        monkeypatch.setenv("APICOURSE_STRICT_REPLAY", "1")
        with pytest.raises(anthropic.APIConnectionError) as missing:
            anthropic.Anthropic(max_retries=0).messages.create(
                model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "never recorded"}]
            )
        assert replay.find_missing_recording(missing.value) is not None
    finally:
        course.stop()
        hf_http.close_session()


def test_forced_replay_keeps_openai_offline(cassette_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(replay.CASSETTE_DIR_VAR, str(cassette_dir))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-test-key")
    monkeypatch.setenv(replay.FORCE_REPLAY_VAR, "1")
    course = apicourse.start("zz_live", quiet=True)
    try:
        assert not course.is_live("openai")
        offline = openai.OpenAI(max_retries=0).chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]
        )
        assert offline.headers["x-apicourse-sandbox"] == "1", "answered by the offline stand-in, not the API"
        monkeypatch.setenv("APICOURSE_STRICT_REPLAY", "1")
        with pytest.raises(replay.MissingRecording):
            openai.OpenAI(max_retries=0).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]
            )
    finally:
        course.stop()


# --- live errors, simulated at the transport ----------------------------------------------------

ERROR_BODIES: dict[str, Callable[[int], Any]] = {
    "openai": lambda s: {"error": {"message": f"simulated {s}", "type": "x", "param": None, "code": None}},
    "anthropic": lambda s: {"type": "error", "error": {"type": "x", "message": f"simulated {s}"}},
    "huggingface": lambda s: {"error": f"simulated {s}"},
}
EXPECTED = {
    401: "key",
    402: "credit",
    404: "list the models",
    410: "retired",
    429: "rate limited",
    500: "provider's side",
    503: "",
    529: "overloaded",
}


def _failing(status: int, provider: str) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"retry-after": "7"} if status == 429 else {}
        return httpx2.Response(status, json=ERROR_BODIES[provider](status), headers=headers)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def _call(provider: str, status: int) -> BaseException:
    try:
        if provider == "openai":
            client = openai.OpenAI(api_key="sk-test", max_retries=0, http_client=_failing(status, provider))
            client.chat.completions.create(model=models.openai({}), messages=[{"role": "user", "content": "hi"}])
        elif provider == "anthropic":
            claude = anthropic.Anthropic(
                api_key="sk-ant-test", max_retries=0, http_client=_failing(status, provider)
            )
            claude.messages.create(model=SONNET, max_tokens=5, messages=[{"role": "user", "content": "hi"}])
        else:
            hf_http.set_client_factory(lambda: _failing(status, provider))
            try:
                InferenceClient(api_key="hf_test_placeholder").chat_completion(
                    [{"role": "user", "content": "hi"}], model="meta-llama/Llama-3.3-70B-Instruct"
                )
            finally:
                hf_http.set_client_factory(hf_http.default_client_factory)
                hf_http.close_session()
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("the simulated error was not raised")


@pytest.mark.parametrize("provider", ["openai", "anthropic", "huggingface"])
@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_each_live_error_is_explained_with_its_fix(provider: str, status: int) -> None:
    error = _call(provider, status)
    explanation = explain(error)
    assert explanation is not None, f"{type(error).__name__} {status} was not explained"
    assert explanation.provider == provider and explanation.status == status
    text = str(explanation)
    assert EXPECTED[status].lower() in text.lower(), text
    assert "What to do" in text and f"simulated {status}" in text
    if status == 401:
        assert replay.PROVIDER_BY_NAME[provider].key_var in text
    if status == 404:
        assert "APICOURSE_" in text and "_MODEL=" in text, "a retired model is fixed by the override variable"
    if status == 429:
        assert "7 s" in text


def test_openai_out_of_credit_429_is_billing_not_rate_limit() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                          "param": None, "code": "insufficient_quota"}}  # fmt: skip
        return httpx2.Response(429, json=body)

    client = openai.OpenAI(
        api_key="sk-test", max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )
    with pytest.raises(openai.RateLimitError) as caught:
        client.models.list()
    assert "payment required" in str(explain(caught.value))


def test_explain_errors_shows_known_errors_and_passes_others(capsys: pytest.CaptureFixture[str]) -> None:
    with explain_errors():
        raise _call("anthropic", 529)
    assert "overloaded" in capsys.readouterr().err
    with pytest.raises(KeyError), explain_errors():
        raise KeyError("not an API error")
    with pytest.raises(openai.AuthenticationError), explain_errors(reraise=True):
        raise _call("openai", 401)


def test_conversational_only_is_explained() -> None:
    error = ValueError("Model m is not supported for task text-generation and provider together. "
                       "Supported task: conversational.")  # fmt: skip
    assert "chat_completion" in str(explain(error))
