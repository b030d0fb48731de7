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
    # the course text's safe_api_call, run as written against simulated failures, before it is improved
    assert "Rate limited. Retrying in 1s..." in text and "Server error. Retrying in 2s..." in text
    assert "Connection error. Retrying in 1s..." in text and "(a simulated answer: no model was asked)" in text
    assert "→ raised at once: BadRequestError" in text
    assert "→ Exception: Failed after 2 retries" in text
    assert "retrying in 0.0s" not in text  # waits under a second are shown in milliseconds


def test_10_key_takeaways(tmp_path):
    _, text = run("10_key_takeaways", tmp_path)
    assert "APICOURSE_OPENAI_MODEL" in text  # the models in use, and how to change them
    assert "1,000,000 tokens ≈ 750,000 words" in text


def test_every_provider_lesson_says_what_a_replayed_answer_is():
    import nbformat

    for name in ("05_openai", "06_anthropic", "07_hugging_face", "08_research_assistant", "09_production_practices"):
        nb = nbformat.read(paths.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        notes = [c.source for c in nb.cells if c.cell_type == "markdown" and "**What is this answer?**" in c.source]
        assert len(notes) == 1, name
        assert "written for the course" in notes[0] and "local stand-in" in notes[0] and "[offline stand-in]" in notes[0]


def test_the_closing_lesson_has_the_seven_takeaways_and_the_resources():
    import re

    import nbformat

    nb = nbformat.read(paths.NOTEBOOKS / "10_key_takeaways.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    seed = (paths.ROOT / "tests" / "data" / "takeaways.txt").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(seed) == 7
    flat = " ".join(text.split())
    for takeaway in seed:
        assert " ".join(takeaway.split()) in flat, takeaway[:60]
    for link in ("developers.openai.com/api/docs", "platform.claude.com/docs", "huggingface.co/docs",
                 "deeplearning.ai/short-courses/building-systems-with-chatgpt"):  # fmt: skip
        assert f"](https://{link}" in text or f"](https://www.{link}" in text, link
    assert re.search(r"checked.{0,40}2026-12-02|2026-12-02", text) and "Opus 4.6" in text
