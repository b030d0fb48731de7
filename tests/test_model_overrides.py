"""A learner who sets other current models in ``.env`` runs lessons 05–09 unedited: offline, the requests
the cassettes do not hold (they name other models) are answered by the stand-in under the providers' rules
(apicourse/standin/rules.py), so a lesson that sends ``max_tokens`` to a reasoning model, a ``temperature``
where it is refused, or reads ``content[0].text`` fails here as it would live."""

from __future__ import annotations

import pytest

from apicourse import model_check, paths
from notebooks import execute_notebook
from test_provider_lessons import outputs

OVERRIDES = {
    "APICOURSE_OPENAI_MODEL": "gpt-5.5",  # a reasoning model: max_completion_tokens, default temperature only
    "APICOURSE_OPENAI_SMALL_MODEL": "gpt-5.4-mini",  # a reasoning model
    "APICOURSE_ANTHROPIC_MODEL": "claude-opus-4-8",  # refuses a non-default temperature
    "APICOURSE_ANTHROPIC_SMALL_MODEL": "claude-sonnet-4-6",
}
LESSONS = ["05_openai", "06_anthropic", "07_hugging_face", "08_research_assistant", "09_production_practices"]
# Not strict: the recordings name the default models, so every overridden call is one the sandbox answers.
SANDBOX = {"APICOURSE_STRICT_REPLAY": "0"}


def test_the_overrides_are_current_models():
    """If a provider retires one of these, pick another current model (the check says which)."""
    report = model_check.run(OVERRIDES, offline=True)
    assert report.ok, report.text()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_with_other_current_models(lesson, tmp_path):
    notebook = paths.NOTEBOOKS / f"{lesson}.ipynb"
    nb, blocked = execute_notebook(notebook, tmp_path, extra_env=OVERRIDES | SANDBOX, timeout=300)
    assert blocked == [], f"{lesson} tried to reach the network: {blocked}"
    text = outputs(nb)
    assert "No recording for" not in text, "the sandbox should answer what the cassette does not hold"
    assert "ERROR " not in text
    if lesson == "05_openai":
        assert "the course's model is available: True" in text
