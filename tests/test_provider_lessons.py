"""Lessons 05–09 run top to bottom offline, with no key, and show what each lesson is about."""

from __future__ import annotations

import pytest

from apicourse import paths
from notebooks import execute_notebook

pytestmark = pytest.mark.slow


def outputs(nb) -> str:
    """Every text a learner would see in the executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif out.get("output_type") == "error":
                parts.append(f"\nERROR {out['ename']}: {out['evalue']}\n")
            else:
                data = out.get("data", {})
                parts.append(
                    "\n"
                    + "\n".join(data.get(k, "") for k in ("text/markdown", "text/html", "text/plain"))
                    + "\n"
                )
    return "".join(parts)  # a cell's stream output may arrive in several pieces: join them as printed


def run(name, tmp_path):
    nb, blocked = execute_notebook(paths.NOTEBOOKS / f"{name}.ipynb", tmp_path, timeout=300)
    assert blocked == [], f"{name} tried to reach the network: {blocked}"
    text = outputs(nb)
    assert "No recording for" not in text
    assert "(stand-in) No authored answer" not in text
    return nb, text


def test_05_openai(tmp_path):
    _, text = run("05_openai", tmp_path)
    assert "the course's model is available: True" in text
    assert "finish_reason: length" in text  # the max_tokens demonstration
    assert "Model wants to call: get_weather" in text
    assert "°F and sunny in Austin" in text  # the tool result reached the final answer
    assert "AuthenticationError 401" in text and "NotFoundError 404 model_not_found" in text
    assert "retired" in text  # live_errors' explanation of the 404


def test_06_anthropic(tmp_path):
    _, text = run("06_anthropic", tmp_path)
    assert "stop_reason: tool_use" in text and "Tool: get_stock_price" in text
    assert "$227.48" in text  # the tool_result reached the final text
    assert "OpenAI (" in text and "Anthropic (" in text  # side by side
    assert "NotFoundError 404 not_found_error" in text


def test_07_hugging_face(tmp_path):
    nb, text = run("07_hugging_face", tmp_path)
    assert "Supported task: conversational" in text
    assert "POSITIVE  0.9999" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the text-to-image cell should display a PNG"
    assert "402" in text and "503" in text


def test_08_research_assistant_reasks_and_offers_recorded_topics(tmp_path):
    nb, text = run("08_research_assistant", tmp_path)
    assert "json.loads failed" in text  # the seed's parsing breaks on the recorded reply
    assert "valid after 2 replies" in text  # and the re-ask fixes it
    assert "attempts: 2" in text
    widgets = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "the topic picker should display a widget"


def test_09_production_practices(tmp_path):
    _, text = run("09_production_practices", tmp_path)
    assert "attempt 1 failed (RateLimitError 429)" in text
    assert "BadRequestError after 1 attempt(s)" in text
    assert "APITimeoutError after" in text
    assert "2 hits, 1 misses" in text
    assert "at most 3 in flight" in text
    assert "checks passed" in text
