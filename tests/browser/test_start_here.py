"""A learner opens the start notebook in JupyterLab, runs it all, and sees which mode each provider is in."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_run_all_shows_the_replay_banner(learner) -> None:
    learner.open("notebooks/00_start_here.ipynb")
    learner.run_all()

    banner = learner.notebook.locator(".apicourse-banner")
    banner.wait_for()
    assert banner.count() == 1
    assert "00_start_here" in banner.inner_text()
    modes = learner.notebook.locator(".apicourse-banner .apicourse-mode").all_inner_texts()
    assert modes and all(m.strip() == "replay" for m in modes), (
        f"without a key every provider replays: {modes}"
    )

    assert learner.errors() == [], "the start notebook shows an error"
    prompts = learner.prompts()
    assert all(p.strip("[]: ").isdigit() for p in prompts), f"not every code cell ran: {prompts}"
    assert learner.lab.blocked_connections() == []
