"""The request builder and the backoff timeline, without a browser: the logic, then the wiring."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from apicourse import backoff, practice, widgets


@pytest.fixture(scope="module")
def api():
    server = practice.start(replace=False, quiet=True, key=practice.new_key())
    yield server
    server.stop()


# ------------------------------------------------------------------ request builder: logic


def test_parse_headers_styles():
    assert widgets.parse_headers("Authorization: Bearer a:b\n\n# note\nAccept:  application/json ") == {
        "Authorization": "Bearer a:b",
        "Accept": "application/json",
    }
    assert widgets.parse_headers('{"X-A": 1}') == {"X-A": "1"}
    with pytest.raises(ValueError, match="line 1"):
        widgets.parse_headers("no colon here")
    with pytest.raises(ValueError):
        widgets.parse_headers("[1, 2]")


def test_perform_get(api):
    exchange = widgets.perform_request("get", f"{api.url}/v1/models", api.headers)
    assert exchange.ok and exchange.status == 200 and exchange.reason == "OK"
    assert exchange.is_json and [m["id"] for m in exchange.body["data"]] == list(practice.MODELS)
    assert exchange.headers["x-ratelimit-limit-requests"] == "60"
    assert '"object": "list"' in exchange.pretty_body()
    assert exchange.status_line().startswith("200 OK · ")


def test_perform_post_json_text_and_object(api):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}
    for sent in (json.dumps(body), body):
        exchange = widgets.perform_request("POST", f"{api.url}/v1/chat/completions", api.headers, sent)
        assert exchange.status == 200
        assert "Hello!" in exchange.body["choices"][0]["message"]["content"]


def test_perform_sends_malformed_body_as_typed(api):
    exchange = widgets.perform_request("POST", f"{api.url}/v1/chat/completions", api.headers, '{"model": ')
    assert exchange.status == 400 and exchange.body["error"]["code"] == "invalid_json"
    assert exchange.note and "not valid JSON" in exchange.note
    assert "not valid JSON" in widgets.exchange_html(exchange)


def test_perform_headers_as_text(api):
    exchange = widgets.perform_request(
        "DELETE", f"{api.url}/v1/files/file-nope", f"Authorization: Bearer {api.key}"
    )
    assert exchange.status == 404


def test_perform_never_raises():
    bad_headers = widgets.perform_request("GET", "http://127.0.0.1:9/", "oops")
    assert bad_headers.status is None and "headers" in bad_headers.error
    with __import__("socket").socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = widgets.perform_request("GET", f"http://127.0.0.1:{port}/", timeout=2)
    assert refused.status is None and "ConnectionError" in refused.error
    assert refused.status_line().startswith("no answer")
    assert "#b00020" in widgets.status_html(refused)


def test_html_escapes_the_body(api):
    exchange = widgets.Exchange("GET", "x", status=200, reason="OK", body="<script>alert(1)</script>")
    assert "<script>" not in widgets.exchange_html(exchange)


# ------------------------------------------------------------------ request builder: widget


def test_request_builder_wiring(api):
    rb = widgets.request_builder(api)
    assert rb.url.value == f"{api.url}/v1/models"
    assert f"Bearer {api.key}" in rb.headers.value
    rb.send_button.click()  # what a browser click does
    assert rb.last is not None and rb.last.status == 200
    assert "200 OK" in rb.status.value and "gpt-4o-mini" in rb.response.value
    assert not rb.send_button.disabled

    rb.method.value = "POST"
    rb.url.value = f"{api.url}/v1/chat/completions"
    rb.body.value = '{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}'
    assert rb.send().status == 200
    rb.headers.value = ""
    assert rb.send().status == 401 and "401" in rb.status.value


def test_request_builder_css_classes(api):
    rb = widgets.request_builder(api)
    assert "apicourse-request-builder" in rb.box._dom_classes
    for part, name in (
        (rb.method, "method"),
        (rb.url, "url"),
        (rb.headers, "headers"),
        (rb.body, "body"),
        (rb.send_button, "send"),
        (rb.status, "status"),
        (rb.response, "response"),
    ):
        assert f"apicourse-rb-{name}" in part._dom_classes
    bundle = rb._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# ------------------------------------------------------------------ backoff timeline


def test_timeline_no_jitter_doubles_and_caps():
    steps = backoff.timeline(base=1, retries=6, jitter="none", cap=10, attempt_seconds=0.5)
    assert [s.wait for s in steps] == [1, 2, 4, 8, 10, 10, 0]
    assert [s.attempt for s in steps] == list(range(1, 8))
    for before, after in zip(steps, steps[1:]):
        assert after.start == pytest.approx(before.end + before.wait)
    assert not any(s.succeeded for s in steps)
    assert backoff.total_wait(steps) == 35


def test_timeline_jitter_bounds_and_repeatability():
    for jitter, low in (("full", 0.0), ("equal", 0.5)):
        steps = backoff.timeline(base=0.5, retries=8, jitter=jitter, cap=4, seed=3)
        for i, s in enumerate(steps[:-1]):
            ceiling = min(4, 0.5 * 2**i)
            assert low * ceiling <= s.wait <= ceiling
        assert steps == backoff.timeline(base=0.5, retries=8, jitter=jitter, cap=4, seed=3)
        assert steps != backoff.timeline(base=0.5, retries=8, jitter=jitter, cap=4, seed=4)


def test_timeline_stops_at_success_and_validates():
    steps = backoff.timeline(retries=5, succeed_on=3)
    assert len(steps) == 3 and steps[-1].succeeded and steps[-1].wait == 0
    assert len(backoff.timeline(retries=0)) == 1
    with pytest.raises(ValueError):
        backoff.timeline(retries=-1)
    with pytest.raises(ValueError):
        backoff.backoff_delay(1, jitter="lots")


def test_retry_after_and_durations():
    assert backoff.retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert backoff.retry_after_seconds({"RETRY-AFTER-MS": "1500"}) == 1.5
    assert backoff.retry_after_seconds({"retry-after": "soon"}) is None
    assert backoff.parse_duration("2m30s") == 150
    with pytest.raises(ValueError):
        backoff.parse_duration("soon")
    for seconds in (0.02, 0.75, 1.5, 59.0, 61.5, 360):
        assert backoff.parse_duration(practice.format_duration(seconds)) == pytest.approx(seconds, abs=0.001)


def test_plot_timeline_draws_every_attempt_and_wait():
    steps = backoff.timeline(base=1, retries=3, jitter="none", succeed_on=4)
    svg = ElementTree.fromstring(widgets.plot_timeline(steps, title="demo"))  # well-formed SVG
    ns = {"svg": "http://www.w3.org/2000/svg"}
    rects = svg.findall("svg:rect", ns)
    attempts = [r for r in rects if r.get("class", "").startswith("attempt")]
    waits = [r for r in rects if r.get("class") == "wait"]
    assert [a.get("class") for a in attempts] == ["attempt refused"] * 3 + ["attempt answered"]
    assert len(waits) == 3
    texts = [t.text for t in svg.findall("svg:text", ns)]
    assert [t for t in texts if t.startswith("wait")] == ["wait 1.00s", "wait 2.00s", "wait 4.00s"]
    assert [t for t in texts if t.startswith("attempt")] == ["attempt 1", "attempt 2", "attempt 3", "attempt 4"]
    assert "demo" in texts and "seconds since the first attempt" in texts
    # each wait is drawn twice as long as the one before, and every bar fits inside the picture
    widths = [float(w.get("width")) for w in waits]
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.01) and widths[2] == pytest.approx(4 * widths[0], rel=0.01)
    right_edge = max(float(r.get("x")) + float(r.get("width")) for r in rects)
    assert right_edge <= float(svg.get("width"))


def test_backoff_explorer_wiring():
    explorer = widgets.backoff_explorer(base=1.0, retries=2, jitter="none", cap=8)
    assert [s.wait for s in explorer.steps] == [1.0, 2.0, 0.0]
    first_plot = explorer.plot.value
    assert first_plot.startswith("<svg") and first_plot.count('class="wait"') == 2
    assert "3 attempts" in explorer.summary.value

    explorer.retries.value = 4  # moving a slider redraws
    assert len(explorer.steps) == 5 and "5 attempts" in explorer.summary.value
    explorer.jitter.value = "full"
    jittered = [s.wait for s in explorer.steps]
    explorer.redraw.click()  # a new random draw
    assert [s.wait for s in explorer.steps] != jittered
    assert explorer.plot.value != first_plot


def test_backoff_explorer_css_classes():
    explorer = widgets.backoff_explorer()
    assert "apicourse-backoff" in explorer.box._dom_classes
    for name in ("base", "retries", "jitter", "cap", "redraw", "summary", "plot"):
        assert f"apicourse-backoff-{name}" in getattr(explorer, name)._dom_classes
