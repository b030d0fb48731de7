"""A learner runs lesson 01, then uses its request builder: edits the request, clicks Send, reads the answer."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_request_builder_sends_and_shows_the_answer(learner) -> None:
    learner.open("notebooks/01_what_is_an_api.ipynb")
    learner.run_all()
    assert learner.errors() == [], "lesson 01 shows an error"

    builder = learner.notebook.locator(".apicourse-request-builder")
    builder.wait_for()
    assert builder.count() == 1
    status = builder.locator(".apicourse-rb-status")
    response = builder.locator(".apicourse-rb-response")

    # the learner writes their own message and sends it
    message = "Hello from a learner in a browser"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": message}]}
    builder.locator(".apicourse-rb-body textarea").fill(json.dumps(body, indent=2))
    builder.locator("button.apicourse-rb-send").click()
    status.filter(has_text="200 OK").wait_for()
    answer = json.loads(response.locator("pre").last.inner_text())
    assert answer["object"] == "chat.completion"
    assert message in answer["choices"][0]["message"]["content"]

    # then tries it without the key: the API refuses, and the builder shows why
    headers = builder.locator(".apicourse-rb-headers textarea")
    with_key = headers.input_value()
    assert "Authorization: Bearer " in with_key, "the builder should come with the practice key filled in"
    headers.fill("")
    builder.locator("button.apicourse-rb-send").click()
    status.filter(has_text="401 Unauthorized").wait_for()
    refusal = json.loads(response.locator("pre").last.inner_text())
    assert refusal["error"]["code"] == "missing_api_key"

    # and a GET of the models, picked from the method list
    builder.locator(".apicourse-rb-method select").select_option("GET")
    url = builder.locator(".apicourse-rb-url input")
    url.fill(url.input_value().replace("/v1/chat/completions", "/v1/models"))
    builder.locator(".apicourse-rb-body textarea").fill("")
    headers.fill(with_key)
    builder.locator("button.apicourse-rb-send").click()
    status.filter(has_text="200 OK").wait_for()
    listing = json.loads(response.locator("pre").last.inner_text())
    assert listing["object"] == "list" and listing["data"]

    assert learner.lab.blocked_connections() == []
