"""The practice API through its HTTP interface, as a learner's code would use it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from apicourse import paths, practice

T = 5  # seconds: every request has a timeout

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Explain APIs in one sentence."}]}


@pytest.fixture(scope="module")
def api():
    server = practice.start(replace=False, quiet=True, key=practice.new_key())
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_limits(api):
    api.configure(rpm=1000, tpm=1_000_000, window_seconds=60, token_lifetime=3600, max_body_bytes=1_000_000)
    yield


def error_of(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    assert body["error"]["message"]
    return body["error"]


def upload(api, content: bytes = b'{"messages": []}\n', purpose: str = "fine-tune", headers=None):
    return requests.post(
        f"{api.url}/v1/files",
        headers=headers or api.headers,
        files={"file": ("train.jsonl", content)},
        data={"purpose": purpose},
        timeout=T,
    )


def token(api, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    r = requests.post(api.token_url, data=data, auth=(api.client_id, api.client_secret), timeout=T)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# ------------------------------------------------------------------ the server itself


def test_binds_loopback_only(api):
    assert api.url.startswith("http://127.0.0.1:")
    assert api.host == "127.0.0.1"
    assert api._socket.getsockname()[0] == "127.0.0.1"
    # the port is not reachable on any other address of this machine
    others = set()
    try:
        others = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except socket.gaierror:
        pass
    for address in others - {"127.0.0.1"}:
        if address.startswith("127."):
            continue
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((address, api.port)) != 0, f"reachable on {address}"


def test_publishes_openapi(api):
    r = requests.get(f"{api.url}/openapi.json", timeout=T)
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, methods in {
        "/v1/models": {"get"},
        "/v1/files": {"get", "post"},
        "/v1/files/{file_id}": {"get", "delete"},
        "/v1/fine_tuning/jobs": {"get", "post"},
        "/v1/fine_tuning/jobs/{job_id}": {"get", "patch", "put", "delete"},
        "/v1/chat/completions": {"post"},
        "/oauth/token": {"post"},
    }.items():
        assert methods <= set(paths[path]), path
    flows = spec["components"]["securitySchemes"]["OAuth2ClientCredentials"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == set(practice.SCOPES)


def test_stop_frees_the_port():
    server = practice.start(replace=False, quiet=True)
    url = server.url
    assert requests.get(f"{url}/v1/status", timeout=T).status_code == 200
    server.stop()
    server.stop()  # twice is fine
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v1/status", timeout=T)


def test_start_replaces_the_previous_server():
    first = practice.start(quiet=True)
    second = practice.start(quiet=True)
    side = practice.start(quiet=True, replace=False)
    try:
        assert not first.running and second.running and side.running
        assert practice.current() is second  # a side server never takes the notebook's place
    finally:
        second.stop()
        side.stop()
    assert practice.current() is None


def test_stops_when_the_interpreter_exits():
    code = (
        "import atexit, requests\n"
        "from apicourse import practice\n"
        # registered first, so it runs after the practice API's own exit handler
        "atexit.register(lambda: print('running' if api.running else 'stopped', flush=True))\n"
        "api = practice.start(quiet=True)\n"
        "print(requests.get(api.url + '/v1/status', timeout=5).status_code, flush=True)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "stopped"]
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


# ------------------------------------------------------------------ every method, every success code


def test_get_models_200(api):
    r = requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=T)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == list(practice.MODELS)
    one = requests.get(f"{api.url}/v1/models/gpt-4o", headers=api.headers, timeout=T)
    assert one.json()["id"] == "gpt-4o"


def test_status_needs_no_key(api):
    assert requests.get(f"{api.url}/v1/status", timeout=T).json()["status"] == "ok"


def test_files_upload_201_list_get_delete(api):
    r = upload(api, b"hello\n")
    assert r.status_code == 201
    created = r.json()
    assert created["object"] == "file" and created["bytes"] == 6 and created["filename"] == "train.jsonl"
    assert r.headers["location"] == f"/v1/files/{created['id']}"
    listed = requests.get(f"{api.url}/v1/files", headers=api.headers, timeout=T).json()["data"]
    assert created["id"] in [f["id"] for f in listed]
    got = requests.get(f"{api.url}/v1/files/{created['id']}", headers=api.headers, timeout=T)
    assert got.json() == created
    content = requests.get(f"{api.url}/v1/files/{created['id']}/content", headers=api.headers, timeout=T)
    assert content.content == b"hello\n"
    deleted = requests.delete(f"{api.url}/v1/files/{created['id']}", headers=api.headers, timeout=T)
    assert deleted.status_code == 200 and deleted.json() == {
        "id": created["id"],
        "object": "file",
        "deleted": True,
    }
    gone = requests.get(f"{api.url}/v1/files/{created['id']}", headers=api.headers, timeout=T)
    assert gone.status_code == 404 and error_of(gone)["param"] == "id"


def test_get_has_no_side_effects(api):
    before = requests.get(f"{api.url}/v1/files", headers=api.headers, timeout=T).json()
    for _ in range(3):
        requests.get(f"{api.url}/v1/files", headers=api.headers, timeout=T)
    assert requests.get(f"{api.url}/v1/files", headers=api.headers, timeout=T).json() == before


def test_fine_tuning_job_lifecycle(api):
    file_id = upload(api).json()["id"]
    r = requests.post(
        f"{api.url}/v1/fine_tuning/jobs",
        headers=api.headers,
        json={"model": "gpt-4o-mini", "training_file": file_id, "metadata": {"team": "a", "run": "1"}},
        timeout=T,
    )
    assert r.status_code == 201
    job = r.json()
    assert job["status"] == "queued" and job["metadata"] == {"team": "a", "run": "1"}
    url = f"{api.url}/v1/fine_tuning/jobs/{job['id']}"

    # PATCH changes only what it is sent (null removes a metadata key)
    patched = requests.patch(
        url, headers=api.headers, json={"metadata": {"team": "b", "run": None}}, timeout=T
    )
    assert patched.status_code == 200
    assert patched.json()["metadata"] == {"team": "b"} and patched.json()["model"] == "gpt-4o-mini"

    # PUT replaces the whole thing, and needs the whole thing
    partial = requests.put(url, headers=api.headers, json={"metadata": {}}, timeout=T)
    assert partial.status_code == 422 and error_of(partial)["code"] == "missing_required_parameter"
    put = requests.put(
        url,
        headers=api.headers,
        json={"model": "gpt-4o", "training_file": file_id, "suffix": "v2", "metadata": {"x": "1"}},
        timeout=T,
    )
    assert put.status_code == 200
    assert {k: put.json()[k] for k in ("model", "suffix", "metadata")} == {
        "model": "gpt-4o",
        "suffix": "v2",
        "metadata": {"x": "1"},
    }
    assert requests.get(url, headers=api.headers, timeout=T).json() == put.json()

    # 409: the file is in use; the job is already cancelled; a cancelled job can't be replaced
    in_use = requests.delete(f"{api.url}/v1/files/{file_id}", headers=api.headers, timeout=T)
    assert in_use.status_code == 409 and error_of(in_use)["code"] == "file_in_use"
    assert requests.post(f"{url}/cancel", headers=api.headers, timeout=T).json()["status"] == "cancelled"
    again = requests.post(f"{url}/cancel", headers=api.headers, timeout=T)
    assert again.status_code == 409 and error_of(again)["code"] == "job_already_cancelled"
    replace_cancelled = requests.put(
        url,
        headers=api.headers,
        json={"model": "gpt-4o", "training_file": file_id, "suffix": None, "metadata": {}},
        timeout=T,
    )
    assert replace_cancelled.status_code == 409

    # 204 on DELETE, then 404
    deleted = requests.delete(url, headers=api.headers, timeout=T)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(url, headers=api.headers, timeout=T).status_code == 404
    assert requests.delete(f"{api.url}/v1/files/{file_id}", headers=api.headers, timeout=T).status_code == 200


def test_job_needs_a_fine_tune_file(api):
    other = upload(api, purpose="assistants").json()["id"]
    for training_file, status in ((other, 400), ("file-nope", 400)):
        r = requests.post(
            f"{api.url}/v1/fine_tuning/jobs",
            headers=api.headers,
            json={"model": "gpt-4o", "training_file": training_file},
            timeout=T,
        )
        assert r.status_code == status and error_of(r)["param"] == "training_file"


def test_chat_completion_shape_and_usage(api):
    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=CHAT, timeout=T)
    assert r.status_code == 200
    result = r.json()
    assert result["object"] == "chat.completion" and result["model"] == "gpt-4o"
    message = result["choices"][0]["message"]
    assert message["role"] == "assistant" and "Explain APIs in one sentence." in message["content"]
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] == practice.count_tokens("Explain APIs in one sentence.")
    again = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=CHAT, timeout=T).json()
    assert again["choices"] == result["choices"]  # deterministic


def test_chat_max_tokens_cuts_the_reply(api):
    body = {**CHAT, "max_tokens": 3}
    result = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=body, timeout=T).json()
    assert result["usage"]["completion_tokens"] == 3
    assert result["choices"][0]["finish_reason"] == "length"


def test_chat_unknown_model_404(api):
    r = requests.post(
        f"{api.url}/v1/chat/completions", headers=api.headers, json={**CHAT, "model": "gpt-99"}, timeout=T
    )
    assert r.status_code == 404 and error_of(r)["code"] == "model_not_found"


# ------------------------------------------------------------------ auth: keys


def test_missing_key_401(api):
    r = requests.get(f"{api.url}/v1/models", timeout=T)
    assert r.status_code == 401
    assert error_of(r)["code"] == "missing_api_key"
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer practice-wrong", "practice-key-without-bearer", "Basic dXNlcjpwYXNz", "Bearer "],
)
def test_bad_key_401(api, header):
    r = requests.get(f"{api.url}/v1/models", headers={"Authorization": header}, timeout=T)
    assert r.status_code == 401
    assert error_of(r)["type"] == "authentication_error"
    assert api.key not in r.text


@pytest.mark.parametrize("body", ["{'model': 'gpt-4o'}", '{"model": 4, "messages": "hi"}'])
@pytest.mark.parametrize("auth", [None, "Bearer practice-wrong"])
def test_the_key_is_checked_before_the_body(api, body, auth):
    """As on the real APIs: without a valid key the answer is 401, whatever the body (a good key gets 400/422)."""
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    r = requests.post(f"{api.url}/v1/chat/completions", headers=headers, data=body, timeout=T)
    assert r.status_code == 401, r.text
    assert error_of(r)["type"] == "authentication_error"


def test_wrong_key_error_masks_it(api):
    wrong = "practice-" + "9" * 24
    r = requests.get(f"{api.url}/v1/models", headers=bearer(wrong), timeout=T)
    assert error_of(r)["code"] == "invalid_api_key"
    assert wrong not in r.text and practice.mask(wrong) in r.text


def test_rotation_revokes_the_old_key():
    with practice.start(replace=False, quiet=True, key=practice.new_key()) as server:
        old = server.key
        new = server.rotate_key()
        assert server.key == new != old
        r = requests.get(f"{server.url}/v1/models", headers=bearer(old), timeout=T)
        assert r.status_code == 401 and "revoked" in error_of(r)["message"]
        assert requests.get(f"{server.url}/v1/models", headers=bearer(new), timeout=T).status_code == 200


def test_key_from_env_file(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    monkeypatch.delenv(practice.KEY_VAR, raising=False)
    monkeypatch.setenv(paths.ENV_FILE_VAR, str(env))
    key = practice.new_key()
    assert practice.save_key(key) == env
    assert practice.saved_key() == key
    practice.save_key(practice.new_key())  # an existing key is kept...
    assert practice.saved_key() == key
    rotated = practice.new_key()
    practice.save_key(rotated, overwrite=True)  # ...unless rotating
    assert practice.saved_key() == rotated
    with practice.start(replace=False, quiet=True) as server:
        assert server.key == rotated
        assert requests.get(f"{server.url}/v1/models", headers=bearer(rotated), timeout=T).status_code == 200


# ------------------------------------------------------------------ auth: OAuth 2.0 client credentials


def test_oauth_token_and_scopes(api):
    read_only = token(api, "models:read files:read")
    assert requests.get(f"{api.url}/v1/models", headers=bearer(read_only), timeout=T).status_code == 200
    assert requests.get(f"{api.url}/v1/files", headers=bearer(read_only), timeout=T).status_code == 200
    file_id = upload(api).json()["id"]
    r = requests.delete(f"{api.url}/v1/files/{file_id}", headers=bearer(read_only), timeout=T)
    assert r.status_code == 403
    assert error_of(r)["code"] == "insufficient_scope" and "files:write" in error_of(r)["message"]
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert (
        requests.get(f"{api.url}/v1/files/{file_id}", headers=api.headers, timeout=T).status_code == 200
    )  # still there
    writer = token(api, "files:write")
    assert (
        requests.delete(f"{api.url}/v1/files/{file_id}", headers=bearer(writer), timeout=T).status_code == 200
    )
    assert (
        requests.post(
            f"{api.url}/v1/chat/completions", headers=bearer(writer), json=CHAT, timeout=T
        ).status_code
        == 403
    )


def test_oauth_token_response_shape(api):
    r = requests.post(
        api.token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "models:read",
            "client_id": api.client_id,
            "client_secret": api.client_secret,
        },
        timeout=T,
    )
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "models:read" and body["expires_in"] == 3600


def test_oauth_token_expires(api):
    api.configure(token_lifetime=0.3)
    short = token(api, "models:read")
    assert requests.get(f"{api.url}/v1/models", headers=bearer(short), timeout=T).status_code == 200
    time.sleep(0.4)
    r = requests.get(f"{api.url}/v1/models", headers=bearer(short), timeout=T)
    assert r.status_code == 401 and error_of(r)["code"] == "token_expired"
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, ("practice-client", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        ({"grant_type": "password"}, "ok", 400, "unsupported_grant_type"),
        ({}, "ok", 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "models:read admin"}, "ok", 400, "invalid_scope"),
    ],
)
def test_oauth_errors(api, data, auth, status, error):
    if auth == "ok":
        auth = (api.client_id, api.client_secret)
    r = requests.post(api.token_url, data=data, auth=auth, timeout=T)
    assert r.status_code == status
    assert r.json()["error"] == error and r.json()["error_description"]


def test_oauth_with_authlib(api):
    from authlib.integrations.base_client.errors import InvalidTokenError
    from authlib.integrations.requests_client import OAuth2Session

    api.configure(token_lifetime=2)
    session = OAuth2Session(
        api.client_id, api.client_secret, scope="models:read files:read", leeway=0, default_timeout=T
    )
    fetched = session.fetch_token(api.token_url, grant_type="client_credentials")
    assert fetched["scope"] == "models:read files:read" and fetched["expires_in"] == 2
    renewing = OAuth2Session(
        api.client_id,
        api.client_secret,
        scope="models:read",
        token_endpoint=api.token_url,
        grant_type="client_credentials",
        leeway=0,
        default_timeout=T,
    )
    first = renewing.fetch_token()["access_token"]
    assert session.get(f"{api.url}/v1/models").status_code == 200
    assert session.delete(f"{api.url}/v1/files/file-999").status_code == 403
    time.sleep(2.05)
    # the server refuses the expired token; authlib notices the expiry itself and won't even send it
    r = requests.get(f"{api.url}/v1/models", headers=bearer(fetched["access_token"]), timeout=T)
    assert r.status_code == 401 and error_of(r)["code"] == "token_expired"
    with pytest.raises(InvalidTokenError):
        session.get(f"{api.url}/v1/models")
    # given the token endpoint and grant type, authlib fetches a fresh token by itself
    assert renewing.get(f"{api.url}/v1/models").status_code == 200
    assert renewing.token["access_token"] != first


# ------------------------------------------------------------------ rate limits


def test_rate_limit_requests_window(api):
    api.configure(rpm=3, window_seconds=1)
    url = f"{api.url}/v1/models"
    answers = [requests.get(url, headers=api.headers, timeout=T) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    assert refused.headers["retry-after"] == "1"
    assert 0 < int(refused.headers["retry-after-ms"]) <= 1000
    assert refused.headers["x-ratelimit-reset-requests"].endswith(("ms", "s"))
    error = error_of(refused)
    assert (
        error["type"] == "rate_limit_error"
        and error["code"] == "rate_limit_exceeded"
        and error["param"] == "requests"
    )
    # another key has its own budget
    assert requests.get(url, headers=bearer(token(api, "models:read")), timeout=T).status_code == 200
    # after Retry-After, the same key gets through again
    time.sleep(float(refused.headers["retry-after-ms"]) / 1000 + 0.05)
    assert requests.get(url, headers=api.headers, timeout=T).status_code == 200


def test_rate_limit_tokens(api):
    api.configure(tpm=50, window_seconds=1)
    url = f"{api.url}/v1/chat/completions"
    first = requests.post(url, headers=api.headers, json=CHAT, timeout=T)
    assert first.status_code == 200
    used = first.json()["usage"]["total_tokens"]
    assert 25 < used <= 50
    assert first.headers["x-ratelimit-limit-tokens"] == "50"
    assert first.headers["x-ratelimit-remaining-tokens"] == str(50 - used)
    second = requests.post(url, headers=api.headers, json=CHAT, timeout=T)
    assert second.status_code == 429
    assert error_of(second)["param"] == "tokens" and "TPM" in error_of(second)["message"]
    assert "retry-after" in second.headers
    time.sleep(1.05)
    assert requests.post(url, headers=api.headers, json=CHAT, timeout=T).status_code == 200


def test_rate_limit_zero_refuses_everything(api):
    api.configure(rpm=0, window_seconds=1)
    r = requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=T)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_limiter_unit():
    limiter = practice.RateLimiter(practice.PracticeConfig(rpm=2, tpm=10, window_seconds=10))
    assert limiter.admit("a", 4, now=0).allowed
    assert limiter.admit("a", 4, now=1).allowed
    refused = limiter.admit("a", 0, now=2)
    assert not refused.allowed and refused.reason == "requests" and refused.retry_after == 8
    assert limiter.admit("b", 11, now=2).reason == "tokens"
    assert limiter.admit("a", 0, now=10).allowed  # the first request left the window


# ------------------------------------------------------------------ bad input: always a JSON 4xx, never a 500


def test_unknown_route_404(api):
    r = requests.get(f"{api.url}/v1/nothing-here", headers=api.headers, timeout=T)
    assert r.status_code == 404 and error_of(r)["code"] == "unknown_url"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/models", "GET"),
        ("DELETE", "/v1/chat/completions", "POST"),
        ("PATCH", "/v1/files", "GET, POST"),
        ("OPTIONS", "/v1/files/file-1", "GET, DELETE"),
        ("POST", "/v1/fine_tuning/jobs/ftjob-1", "GET, PATCH, PUT, DELETE"),
    ],
)
def test_wrong_method_405(api, method, path, allowed):
    r = requests.request(method, f"{api.url}{path}", headers=api.headers, timeout=T)
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"
    # every method of the path, not only those of the first route Starlette found on it
    assert set(r.headers["allow"].split(", ")) == set(allowed.split(", "))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"model": "gpt-4o", "messages": [}', "application/json"),
        ('{"model": "gpt-4o", "messages": [}', None),
        ("{'model': 'gpt-4o'}", "application/json"),
        ("model=gpt-4o", "application/x-www-form-urlencoded"),
        ("just text", "text/plain"),
        ("[" * 100_000, "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_malformed_body_400(api, body, content_type):
    headers = dict(api.headers)
    if content_type:
        headers["Content-Type"] = content_type
    r = requests.post(f"{api.url}/v1/chat/completions", headers=headers, data=body, timeout=T)
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "invalid_json"


def test_a_body_nested_too_deep_is_refused_before_it_is_parsed(api):
    """100,000 brackets would drive the server's thread (here: this process) to Python's recursion limit."""
    deep = '{"model": "gpt-4o", "messages": ' + "[" * 100_000
    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, data=deep, timeout=T)
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"
    assert "nested deeper than 100 levels at character 131" in error_of(r)["message"]  # the 101st bracket
    # as deep as allowed, and brackets inside strings: parsed (then judged on their content)
    body = {**CHAT, "extra": json.loads("[" * 99 + "]" * 99)}
    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=body, timeout=T)
    assert r.status_code == 422 and error_of(r)["param"] == "extra"
    text = {**CHAT, "messages": [{"role": "user", "content": "[{" * 5_000}]}
    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=text, timeout=T)
    assert r.status_code == 200, r.text

    # every router's routes check their bodies so, a new router's too
    import importlib
    import pkgutil

    from apicourse.practice import routers
    from apicourse.practice.bodies import DepthCheckedRoute

    for module in pkgutil.iter_modules(routers.__path__):
        router = importlib.import_module(f"{routers.__name__}.{module.name}").router
        assert router.routes and all(isinstance(r, DepthCheckedRoute) for r in router.routes), module.name


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-4o", "messages": "hi"}, "messages"),
        ({"model": "gpt-4o", "messages": []}, "messages"),
        ({"model": 4, "messages": CHAT["messages"]}, "model"),
        ({"model": "gpt-4o"}, "messages"),
        ({**CHAT, "temperature": "hot"}, "temperature"),
        ({**CHAT, "temperature": 9}, "temperature"),
        ({**CHAT, "max_tokens": "lots"}, "max_tokens"),
        ({**CHAT, "max_token": 10}, "max_token"),
        ({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ([1, 2, 3], None),
        ("a string", None),
        (None, None),
    ],
)
def test_wrong_types_422(api, body, param):
    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, json=body, timeout=T)
    assert r.status_code == 422, r.text
    assert error_of(r)["param"] == param


def test_oversize_body_413(api):
    api.configure(max_body_bytes=10_000)
    big = upload(api, b"x" * 20_000)
    assert big.status_code == 413 and error_of(big)["code"] == "request_too_large"
    big_json = requests.post(
        f"{api.url}/v1/chat/completions", headers=api.headers, json={**CHAT, "user": "x" * 20_000}, timeout=T
    )
    assert big_json.status_code == 413


def test_oversize_chunked_body_413(api):
    api.configure(max_body_bytes=10_000)

    def chunks():
        for _ in range(10):
            yield b'{"x": "' + b"y" * 2000 + b'"}'

    r = requests.post(f"{api.url}/v1/chat/completions", headers=api.headers, data=chunks(), timeout=T)
    assert r.status_code == 413


def test_empty_upload_400_and_bad_purpose_422(api):
    assert upload(api, b"").status_code == 400
    r = upload(api, b"x", purpose="nonsense")
    assert r.status_code == 422 and error_of(r)["param"] == "purpose"
    missing = requests.post(
        f"{api.url}/v1/files", headers=api.headers, data={"purpose": "fine-tune"}, timeout=T
    )
    assert missing.status_code == 422 and error_of(missing)["param"] == "file"


def test_fuzz_never_500_and_server_survives(api):
    import random

    rng = random.Random(7)
    paths = [
        "/v1/models",
        "/v1/files",
        "/v1/files/x",
        "/v1/fine_tuning/jobs",
        "/v1/fine_tuning/jobs/x",
        "/v1/chat/completions",
        "/oauth/token",
        "/v1/%00",
        "/v1/models/../files",
        "/",
    ]
    for _ in range(120):
        method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        headers = rng.choice(
            [
                api.headers,
                {},
                {"Content-Type": "application/json", **api.headers},
                {"Content-Type": "multipart/form-data; boundary=x", **api.headers},
            ]
        )
        r = requests.request(method, f"{api.url}{rng.choice(paths)}", headers=headers, data=body, timeout=T)
        assert r.status_code < 500, (method, r.status_code, r.text)
    assert requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=T).status_code == 200


def test_every_status_code_is_reachable(api):
    """The summary the lessons rely on: each of these codes really happens."""
    seen = {s.status for s in api.seen}
    assert {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429} <= seen, sorted(seen)
