"""Every exercise check accepts right answers written in more than one style and rejects wrong ones."""

from __future__ import annotations

import random
import time
from http import HTTPStatus

import pytest
import requests

from apicourse import exercises as ex
from apicourse import practice

T = 5


@pytest.fixture(scope="module")
def api():
    server = practice.start(replace=True, quiet=True, key=practice.new_key())
    yield server
    server.stop()


def passes(check, *args) -> bool:
    return bool(check(*args))


def test_verdict_prints_and_shows_nothing_more(capsys):
    verdict = ex.check_deleted_status(404)
    assert verdict and verdict.passed
    assert capsys.readouterr().out.startswith("✓ ")
    assert verdict._ipython_display_() is None
    assert not ex.check_deleted_status(200)
    assert capsys.readouterr().out.startswith("✗ Not yet.")


# ------------------------------------------------------------------ lesson 01


@pytest.mark.parametrize(
    "answer",
    [
        {
            "list your models": "GET",
            "send a prompt": "POST",
            "upload a file": "POST",
            "update a job's metadata": "PATCH",
            "delete a file": "DELETE",
        },
        {
            "List your models": "get",
            "send a prompt": "post",
            "upload a file": " POST ",
            "update a job's metadata": "put",
            "delete a file": "Delete",
        },
        ["GET", "POST", "POST", "PUT", "DELETE"],
        (requests.get, requests.post, requests.post, requests.patch, requests.delete),
    ],
)
def test_methods_accepts(answer):
    assert passes(ex.check_methods, answer)


@pytest.mark.parametrize(
    "answer",
    [
        ["GET", "GET", "POST", "PATCH", "DELETE"],
        ["GET", "POST", "POST", "PATCH"],
        {"list your models": "GET", "send a prompt": ...},
        ["POST", "POST", "POST", "POST", "POST"],
        "GET POST POST PATCH DELETE",
    ],
)
def test_methods_rejects(answer):
    assert not passes(ex.check_methods, answer)


def test_models_accepts_every_style(api):
    response = requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=T)
    for answer in (
        response,
        response.json(),
        response.json()["data"],
        [m["id"] for m in response.json()["data"]],
        {m["id"] for m in response.json()["data"]},
    ):
        assert passes(ex.check_models, answer)


def test_models_rejects(api, capsys):
    no_key = requests.get(f"{api.url}/v1/models", timeout=T)
    assert not passes(ex.check_models, no_key)
    assert "key" in capsys.readouterr().out
    for wrong in (["gpt-4o"], "gpt-4o", 3, list(practice.MODELS) + ["gpt-4o"], {"object": "list"}):
        assert not passes(ex.check_models, wrong)


def test_deleted_status(api):
    file_id = requests.post(
        f"{api.url}/v1/files",
        headers=api.headers,
        files={"file": ("a.txt", b"x")},
        data={"purpose": "user_data"},
        timeout=T,
    ).json()["id"]
    requests.delete(f"{api.url}/v1/files/{file_id}", headers=api.headers, timeout=T)
    after = requests.get(f"{api.url}/v1/files/{file_id}", headers=api.headers, timeout=T)
    for right in (after, 404, "404", "404 Not Found", "not found", HTTPStatus.NOT_FOUND):
        assert passes(ex.check_deleted_status, right), right
    for wrong in (200, 204, "410", None, True, "gone"):
        assert not passes(ex.check_deleted_status, wrong), wrong


def test_read_only_methods():
    for right in ("GET", ["get"], {"GET"}, ("GET",), "get", "GET, HEAD"):
        assert passes(ex.check_read_only_methods, right)
    for wrong in (["GET", "POST"], "POST", [], "GET, DELETE", "HEAD"):
        assert not passes(ex.check_read_only_methods, wrong)


def test_read_only_methods_never_calls_a_safe_method_a_change(capsys):
    ex.check_read_only_methods("GET, HEAD, DELETE")
    said = capsys.readouterr().out
    assert "DELETE change(s) something" in said and "HEAD" not in said


# ------------------------------------------------------------------ lesson 02


@pytest.fixture()
def result(api):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Explain APIs in one sentence."}]}
    return requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=body, timeout=T).json()


def test_message(result, capsys):
    content = result["choices"][0]["message"]["content"]
    assert passes(ex.check_message, content, result)
    assert passes(ex.check_message, "  " + content + "\n", result)

    from pydantic import BaseModel

    class Message(BaseModel):
        role: str
        content: str

    assert passes(ex.check_message, Message(**result["choices"][0]["message"]), result)
    hints = {
        "one level deeper": result["choices"][0]["message"],
        "take its first item": result["choices"],
        "['message']['content']": result["choices"][0],
        "start with ['choices']": result,
    }
    for hint, wrong in hints.items():
        capsys.readouterr()
        assert not passes(ex.check_message, wrong, result)
        assert hint in capsys.readouterr().out
    assert not passes(ex.check_message, "Hello!", result)


def test_total_tokens(result, capsys):
    usage = result["usage"]
    for right in (usage["total_tokens"], str(usage["total_tokens"]), f" {usage['total_tokens']} "):
        assert passes(ex.check_total_tokens, right, result)
    capsys.readouterr()
    assert not passes(ex.check_total_tokens, usage["prompt_tokens"], result)
    assert "prompt" in capsys.readouterr().out
    assert not passes(ex.check_total_tokens, usage["completion_tokens"], result)
    assert not passes(ex.check_total_tokens, usage, result)
    assert not passes(ex.check_total_tokens, "lots", result)


def test_usage_model_styles():
    from dataclasses import dataclass

    from pydantic import BaseModel, Field, TypeAdapter
    from typing_extensions import TypedDict

    class Usage(BaseModel):
        prompt_tokens: int
        completion_tokens: int
        total_tokens: int

    class StrictUsage(BaseModel):
        prompt_tokens: int = Field(ge=0)
        completion_tokens: int = Field(ge=0)
        total_tokens: int = Field(ge=0)
        model_config = {"extra": "ignore"}

    class UsageDict(TypedDict):
        prompt_tokens: int
        completion_tokens: int
        total_tokens: int

    def validate(data):
        if not isinstance(data.get("total_tokens"), int):
            raise ValueError("total_tokens must be an int")
        return data

    for right in (Usage, StrictUsage, TypeAdapter(UsageDict), validate):
        assert passes(ex.check_usage_model, right), right

    class Loose(BaseModel):
        prompt_tokens: int
        completion_tokens: int
        total_tokens: int | str = 0

    @dataclass
    class Plain:
        prompt_tokens: int
        completion_tokens: int
        total_tokens: int

    for wrong in (
        Loose,
        Plain,
        Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
        "Usage",
        lambda d: d,
    ):
        assert not passes(ex.check_usage_model, wrong), wrong


def test_malformed_status(api):
    broken = requests.post(
        f"{api.url}/v1/chat/completions",
        headers=api.headers,
        data='{"model": "gpt-4o", "messages": [}',
        timeout=T,
    )
    for right in (broken, 400, "400", HTTPStatus.BAD_REQUEST, "Bad Request"):
        assert passes(ex.check_malformed_status, right)
    for wrong in (422, 500, 200, "", None):
        assert not passes(ex.check_malformed_status, wrong)


# ------------------------------------------------------------------ lesson 03


def test_auth_headers(monkeypatch):
    key = practice.new_key()
    monkeypatch.setenv("PRACTICE_API_KEY", key)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    for right in (
        {"Authorization": f"Bearer {key}"},
        {"authorization": f"Bearer {key}", "Content-Type": "application/json"},
        session,
        requests.Request("GET", "http://127.0.0.1/", headers={"Authorization": f"Bearer {key}"}).prepare(),
    ):
        assert passes(ex.check_auth_headers, right)
    for wrong in (
        {"Authorization": key},
        {"Authorization": "Bearer {api_key}"},
        {"Authorization": "Bearer practice-other"},
        {"X-Api-Key": key},
        f"Bearer {key}",
    ):
        assert not passes(ex.check_auth_headers, wrong)
    monkeypatch.delenv("PRACTICE_API_KEY")
    assert not passes(ex.check_auth_headers, {"Authorization": f"Bearer {key}"})


def test_mask_styles():
    for right in (
        lambda k: k[:4] + "..." + k[-4:],
        lambda k: f"{k[:4]}{'*' * (len(k) - 8)}{k[-4:]}",
        lambda k: "****" + k[-4:],
        lambda k: k[:6] + "…",
        practice.mask,
    ):
        assert passes(ex.check_mask, right)
    for wrong in (
        lambda k: k,
        lambda k: k[:20] + "...",
        lambda k: "*" * len(k),
        lambda k: print(k[:4]),
        lambda k: k[::-1],
    ):
        assert not passes(ex.check_mask, wrong)


def test_gitignore(tmp_path):
    path = tmp_path / ".gitignore"
    path.write_text("__pycache__/\n.env\n")
    for right in (
        ".env\n",
        "/.env",
        "*.env\n",
        ".env*",
        [".ipynb_checkpoints/", ".env"],
        path,
        "# secrets\n.env\n",
        "**/.env\n",
    ):
        assert passes(ex.check_gitignore, right), right
    for wrong in (
        "env\n",
        "# .env\n",
        ".env.example\n",
        ".env\n!.env\n",
        ".env/\n",
        "config/.env\n",
        "",
        tmp_path / "missing",
    ):
        assert not passes(ex.check_gitignore, wrong), wrong


def test_delete_scope():
    for right in ("files:write", ["files:write"], {"files:write"}, " files:write "):
        assert passes(ex.check_delete_scope, right)
    for wrong in ("files:read", "files:delete", "files:read files:write", ["models:read"], ""):
        assert not passes(ex.check_delete_scope, wrong)


def test_read_only_token(api):
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(
        api.client_id, api.client_secret, scope="models:read files:read", default_timeout=T
    )
    fetched = session.fetch_token(api.token_url, grant_type="client_credentials")
    plain = requests.post(
        api.token_url,
        data={"grant_type": "client_credentials", "scope": "files:read models:read fine_tuning:read"},
        auth=(api.client_id, api.client_secret),
        timeout=T,
    ).json()
    for right in (fetched, fetched["access_token"], plain):
        assert ex.check_read_only_token(right, api)
    writer = requests.post(
        api.token_url,
        data={"grant_type": "client_credentials", "scope": "models:read files:read files:write"},
        auth=(api.client_id, api.client_secret),
        timeout=T,
    ).json()
    only_models = requests.post(
        api.token_url,
        data={"grant_type": "client_credentials", "scope": "models:read"},
        auth=(api.client_id, api.client_secret),
        timeout=T,
    ).json()
    for wrong in (writer, only_models, api.key, "pat-made-up", None):
        assert not ex.check_read_only_token(wrong, api)


# ------------------------------------------------------------------ lesson 04


def test_should_retry_styles():
    for right in (
        lambda status: status == 429 or status >= 500,
        lambda status: status in {429, 500, 502, 503, 504},
        lambda response: response.status_code == 429 or response.status_code >= 500,
        lambda status: "yes" if status == 429 or 500 <= status < 600 else "",
        lambda status: status in {408, 409, 429} or status >= 500,  # the SDKs' own rule (lesson 04)
    ):
        assert passes(ex.check_should_retry, right)
    for wrong in (
        lambda status: status >= 400,
        lambda status: status == 429,
        lambda status: True,
        lambda status: status != 200,
    ):
        assert not passes(ex.check_should_retry, wrong)


def test_delay_styles():
    def full(attempt, base=0.5, cap=8.0):
        return random.uniform(0, min(cap, base * 2**attempt))

    def equal(attempt, base=0.5, cap=8.0):
        d = min(cap, base * (2**attempt))
        return d / 2 + random.uniform(0, d / 2)

    def added(attempt, base=0.5, cap=8.0):
        return min(cap, base * 2**attempt + random.random() * 0.1)

    def own_cap(attempt):
        return min(30, 2**attempt) * random.random()

    for right in (full, equal, added, own_cap):
        assert passes(ex.check_delay, right), right

    def no_cap(attempt, base=0.5, cap=8.0):
        return random.uniform(0, base * 2**attempt)

    def no_jitter(attempt, base=0.5, cap=8.0):
        return min(cap, base * 2**attempt)

    def linear(attempt, base=0.5, cap=8.0):
        return min(cap, base * (attempt + 1)) * random.uniform(0.9, 1)

    def negative(attempt, base=0.5, cap=8.0):
        return random.uniform(-1, 1)

    def overflowing(attempt):
        return random.random() * 2.0**attempt

    for wrong in (no_cap, no_jitter, linear, negative, overflowing):
        assert not passes(ex.check_delay, wrong), wrong


def hand_written(url, headers, data, max_attempts=5, base=0.5, cap=8.0):
    for attempt in range(max_attempts):
        response = requests.post(url, headers=headers, json=data, timeout=10)
        if response.status_code != 429:
            response.raise_for_status()
            return response.json()
        if attempt == max_attempts - 1:
            break
        retry_after = response.headers.get("Retry-After")
        wait = float(retry_after) if retry_after else random.uniform(0, min(cap, base * 2**attempt))
        time.sleep(wait)
    raise RuntimeError(f"still rate-limited after {max_attempts} attempts")


def seed_style(url, headers, data, max_retries=3):
    """The course text's loop, with Retry-After and a timeout added."""
    for attempt in range(max_retries):
        response = requests.post(url, headers=headers, json=data, timeout=10)
        if response.status_code == 200:
            return response
        elif response.status_code == 429:
            time.sleep(max(float(response.headers.get("retry-after", 0)), 2**attempt * random.random()))
        else:
            response.raise_for_status()
    raise Exception("Max retries exceeded")


def tenacity_style():
    from tenacity import retry, retry_if_result, stop_after_attempt, wait_exponential_jitter

    backoff = wait_exponential_jitter(multiplier=0.5, max=8)

    def wait_retry_after(state):
        header = state.outcome.result().headers.get("Retry-After")
        return float(header) if header else backoff(state)

    def refused(response):
        return response.status_code == 429

    @retry(retry=retry_if_result(refused), wait=wait_retry_after, stop=stop_after_attempt(3), reraise=True)
    def post(url, headers, data):
        return requests.post(url, headers=headers, json=data, timeout=10)

    def call(url, headers, data):
        response = post(url, headers, data)
        response.raise_for_status()
        return response.json()

    return call


@pytest.mark.slow
@pytest.mark.parametrize("style", ["hand_written", "seed_style", "tenacity_style"])
def test_retry_loop_accepts(style):
    fn = {"hand_written": hand_written, "seed_style": seed_style, "tenacity_style": tenacity_style()}[style]
    assert passes(ex.check_retry_loop, fn)


def ignores_retry_after(url, headers, data, max_attempts=6):
    for attempt in range(max_attempts):
        response = requests.post(url, headers=headers, json=data, timeout=10)
        if response.status_code == 200:
            return response.json()
        time.sleep(0.2 * 2**attempt)
    raise RuntimeError("gave up")


def never_gives_up(url, headers, data):
    while True:
        response = requests.post(url, headers=headers, json=data, timeout=10)
        if response.status_code == 200:
            return response.json()
        time.sleep(float(response.headers.get("Retry-After", 1)))


def returns_none(url, headers, data, max_attempts=3):
    for _ in range(max_attempts):
        response = requests.post(url, headers=headers, json=data, timeout=10)
        if response.status_code == 200:
            return response.json()
        time.sleep(float(response.headers["Retry-After"]))
    return None


def no_retry(url, headers, data, max_attempts=3):
    response = requests.post(url, headers=headers, json=data, timeout=10)
    response.raise_for_status()
    return response.json()


def no_timeout(url, headers, data, max_attempts=3):
    for _ in range(max_attempts):
        response = requests.post(url, headers=headers, json=data)
        if response.status_code == 200:
            return response.json()
        time.sleep(float(response.headers["Retry-After"]))
    raise RuntimeError("gave up")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (ignores_retry_after, "Retry-After"),
        (never_gives_up, "never gives up"),
        (returns_none, "raise"),
        (no_retry, "429"),
        (no_timeout, "timeout"),
    ],
)
def test_retry_loop_rejects(wrong, hint, capsys):
    assert not passes(lambda fn: ex.check_retry_loop(fn, timeout=6), wrong)
    assert hint in capsys.readouterr().out


def test_delay_accepts_additive_jitter_and_rejects_linear_many_times():
    """The growth test is statistical: run it often enough to see it doesn't flake."""

    def additive(attempt, base=0.5, cap=8.0):
        return min(cap, base * 2**attempt + random.uniform(0, 1))

    def linear(attempt, base=0.5, cap=8.0):
        return min(cap, base * (attempt + 1)) * random.uniform(0.5, 1)

    for _ in range(20):
        assert passes(ex.check_delay, additive)
        assert not passes(ex.check_delay, linear)


def test_placeholder_gets_a_friendly_hint(capsys):
    result = {"choices": [{"message": {"role": "assistant", "content": "x"}}], "usage": {"total_tokens": 1}}
    for check, extra in ((ex.check_models, ()), (ex.check_message, (result,)), (ex.check_delete_scope, ())):
        assert not check(..., *extra)
        assert "Replace the ..." in capsys.readouterr().out
