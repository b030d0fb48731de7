"""Every recorded response in cassettes/ is something the SDKs read with their own typed models, holds no
secret, and is marked as a stand-in recording; every provider lesson has its cassette."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cassette_checks import check_cassette, load

from apicourse import paths
from apicourse.record import code_sources, providers_used

CASSETTES = sorted(paths.CASSETTES.glob("*/*.yaml"))
PROVIDER_LESSONS = (
    "05_openai",
    "06_anthropic",
    "07_hugging_face",
    "08_research_assistant",
    "09_production_practices",
)


@pytest.mark.parametrize("cassette", CASSETTES, ids=[c.parent.name for c in CASSETTES])
def test_every_recorded_body_parses_with_the_sdk_models(cassette: Path) -> None:
    assert load(cassette), f"{cassette.name} has no interactions"
    assert check_cassette(cassette) == []


@pytest.mark.parametrize("cassette", CASSETTES, ids=[c.parent.name for c in CASSETTES])
def test_cassette_sits_in_its_notebooks_folder(cassette: Path) -> None:
    assert cassette.stem == cassette.parent.name
    assert (paths.NOTEBOOKS / f"{cassette.stem}.ipynb").is_file(), f"no notebook for {cassette}"


@pytest.mark.parametrize("lesson", PROVIDER_LESSONS)
def test_each_provider_lesson_has_a_cassette(lesson: str) -> None:
    notebook = paths.NOTEBOOKS / f"{lesson}.ipynb"
    if not notebook.is_file():
        pytest.skip(f"{lesson} is not written yet")
    if not providers_used(code_sources(notebook)):
        pytest.skip(f"{lesson} calls no provider")
    assert paths.cassette_path(lesson).is_file(), (
        f"{lesson} calls a provider but has no cassette: python -m apicourse.record --standin {lesson}"
    )


def _tampered(tmp_path: Path, edit: str) -> Path:
    """A small stand-in-made cassette with one thing wrong in it."""
    from apicourse.standin import StandIn

    with StandIn() as server:
        response = server.http_client().post(
            "https://api.openai.com/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]},
            headers={"authorization": "Bearer sk-test"},
        )
    body = response.json()
    headers = {k: [v] for k, v in response.headers.items()}
    request_headers: dict[str, list[str]] = {"content-type": ["application/json"]}
    if edit == "missing-field":
        del body["created"]
    elif edit == "secret-header":
        request_headers["authorization"] = ["Bearer sk-test"]
    elif edit == "no-marker":
        headers.pop("x-apicourse-standin")
    elif edit == "key-in-body":
        body["choices"][0]["message"]["content"] = "sk-" + "Ab3" * 12
    interaction = {
        "request": {
            "method": "POST",
            "uri": "https://api.openai.com/v1/chat/completions",
            "body": "{}",
            "headers": request_headers,
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": headers,
            "body": {"string": json.dumps(body)},
        },
    }
    path = tmp_path / "zz.yaml"
    metadata = {"recorded_against": "live provider APIs" if edit == "live-with-marker" else "local stand-in"}
    if edit == "no-provenance":
        metadata = {}
    cassette = {"interactions": [interaction], "metadata": metadata, "version": 1}
    path.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        ("none", None),
        ("missing-field", "created"),
        ("secret-header", "authorization"),
        ("no-marker", "x-apicourse-standin"),
        ("key-in-body", "key-like"),
        ("no-provenance", "recorded_against"),
        ("live-with-marker", "recorded live but carries"),
    ],
)
def test_the_checks_catch_what_they_claim(tmp_path: Path, edit: str, complaint: str | None) -> None:
    problems = check_cassette(_tampered(tmp_path, edit))
    if complaint is None:
        assert problems == []
    else:
        assert any(complaint in p for p in problems), problems
