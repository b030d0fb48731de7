"""The practice API keeps every promise of its own ``/openapi.json`` — checked by schemathesis, not by us.

schemathesis reads the document, generates requests from it (valid and invalid ones, chains of calls that
create, use and delete objects) and runs all its checks on every answer: no server error, no status or
header the document doesn't list, no body that breaks its schema, no valid request refused, no invalid
one accepted, the ``Allow`` header of a 405, authentication that can't be skipped. A fixed seed and a
bounded number of examples keep it reproducible and within about a minute.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from apicourse import practice

pytestmark = pytest.mark.slow

SEED = 20261203
MAX_EXAMPLES = 20

# Credentials per security scheme of the document, so each operation gets the kind it declares.
# One exception, narrowly: creating or replacing a fine-tuning job names a training file by id, and
# no schema can say "an id of a file you uploaded for fine-tuning". OpenAI answers such a request
# 400 "invalid training_file" (the document says so, with that example), and so does the practice
# API, so for those two operations 400 is an accepted answer to well-formed data. Every other check
# and operation keeps schemathesis's defaults.
CONFIG = """\
[auth.openapi.BearerAuth]
bearer = "{key}"

[auth.openapi.ClientSecretBasic]
username = "{client_id}"
password = "{client_secret}"

[[operations]]
include-path-regex = "^/v1/fine_tuning/jobs(/\\\\{{job_id\\\\}})?$"
include-method = ["POST", "PUT"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
"""


def run_schemathesis(api: practice.PracticeAPI, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``st run`` against a running practice server with every check, a fixed seed and bounded examples."""
    config = folder / "schemathesis.toml"
    config.write_text(
        CONFIG.format(key=api.key, client_id=api.client_id, client_secret=api.client_secret), encoding="utf-8"
    )
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{api.url}/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-database",
        "none",
        "--no-color",
        "--report-dir",
        str(folder / "report"),
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=folder)


def test_schemathesis_finds_nothing(tmp_path: Path):
    with practice.start(replace=False, quiet=True, key=practice.new_key(), rpm=1_000_000, tpm=10**9) as api:
        started, cpu, served = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
        run = run_schemathesis(api, tmp_path)
        seconds = time.monotonic() - started
        after, served = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time() - served
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "17 selected / 17 total" in output, output  # every operation was tested
    assert re.search(r"\b(\d+) generated, \1 passed\b", output), output  # every generated case passed every check
    used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    # wall time depends on what else the machine runs; the CPU seconds of both sides do not
    print(f"schemathesis: {seconds:.1f} s; CPU: schemathesis {used:.1f} s, practice server {served:.1f} s")


def documented_refusals(api: practice.PracticeAPI):
    """Real refusals a lesson provokes, each with the operation that gave it."""
    v1 = f"{api.url}/v1"
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    read_only = requests.post(
        api.token_url,
        data={"grant_type": "client_credentials", "scope": "models:read"},
        auth=(api.client_id, api.client_secret),
        timeout=5,
    ).json()["access_token"]
    yield "/v1/models", "GET", requests.get(f"{v1}/models", timeout=5)  # 401
    yield "/v1/chat/completions", "POST", requests.post(
        f"{v1}/chat/completions", headers={"Authorization": f"Bearer {read_only}"}, json=chat, timeout=5
    )  # 403
    yield "/v1/chat/completions", "POST", requests.post(
        f"{v1}/chat/completions", headers=api.headers, data="{oops", timeout=5
    )  # 400
    yield "/v1/chat/completions", "POST", requests.post(
        f"{v1}/chat/completions", headers=api.headers, json={**chat, "messages": "Hi"}, timeout=5
    )  # 422
    yield "/v1/files", "POST", requests.post(
        f"{v1}/files", headers=api.headers, files={"file": ("a.txt", b"")}, data={"purpose": "batch"}, timeout=5
    )  # 400 empty_file
    yield "/v1/files/{file_id}", "GET", requests.get(f"{v1}/files/file-999", headers=api.headers, timeout=5)  # 404
    api.configure(max_body_bytes=100)
    yield "/v1/chat/completions", "POST", requests.post(
        f"{v1}/chat/completions", headers=api.headers, json={**chat, "user": "x" * 200}, timeout=5
    )  # 413
    api.configure(rpm=1, window_seconds=5)
    requests.get(f"{v1}/models", headers=api.headers, timeout=5)
    yield "/v1/models", "GET", requests.get(f"{v1}/models", headers=api.headers, timeout=5)  # 429
    yield "/oauth/token", "POST", requests.post(api.token_url, data={"grant_type": "client_credentials"}, timeout=5)


def test_every_refusal_a_lesson_shows_is_in_the_menu():
    """The statuses lessons 01-04 teach are each documented, with their headers and body, as they really come."""
    import schemathesis

    with practice.start(replace=False, quiet=True, key=practice.new_key()) as api:
        spec = requests.get(f"{api.url}/openapi.json", timeout=5).json()
        schema = schemathesis.openapi.from_dict(spec)
        statuses = set()
        for path, method, response in documented_refusals(api):
            statuses.add(response.status_code)
            answers = spec["paths"][path][method.lower()]["responses"]
            assert str(response.status_code) in answers, (method, path, response.status_code, sorted(answers))
            documented = answers[str(response.status_code)]
            for name, header in documented.get("headers", {}).items():
                if header.get("required"):
                    assert name in response.headers, (method, path, response.status_code, name)
            schema[path][method].validate_response(response)  # raises if the body breaks its documented schema
    assert statuses == {400, 401, 403, 404, 413, 422, 429}
    # a 429 tells how long to wait, and what the limits are
    too_many = spec["paths"]["/v1/models"]["get"]["responses"]["429"]["headers"]
    assert {"retry-after", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests"} <= set(too_many)
    assert spec["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["BearerAuth"]["description"],
    }
    # an empty upload is refused (400 empty_file), and the schema says so instead of promising to take it
    upload_body = spec["paths"]["/v1/files"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert spec["components"]["schemas"][upload_body["$ref"].rsplit("/", 1)[1]]["properties"]["file"]["minLength"] == 1
    assert {"BearerAuth": []} in spec["paths"]["/v1/files"]["post"]["security"]
    assert {"OAuth2ClientCredentials": ["files:write"]} in spec["paths"]["/v1/files"]["post"]["security"]
