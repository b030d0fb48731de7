"""The capstone as the course text's command-line program: ``python -m apicourse.research "a topic"``, offline by
default — even with keys in the environment — and labelled when the offline stand-in answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from notebooks import keyless_env


def research(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = keyless_env(tmp_path, {"APICOURSE_STRICT_REPLAY": "0", **extra})
    return subprocess.run(
        [sys.executable, "-m", "apicourse.research", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_topic_nobody_recorded_gets_labelled_notes_offline(tmp_path: Path):
    done = research(tmp_path, "the history of the bicycle", "--provider", "openai")
    assert done.returncode == 0, done.stderr
    assert "(openai: replay; add --live to call the real API)" in done.stdout
    assert "Title: [offline stand-in]" in done.stdout and "Key Points:\n - " in done.stdout
    assert "Offline stand-in: no recording matches this OpenAI call" in done.stderr


def test_keys_in_the_environment_do_not_make_it_live(tmp_path: Path):
    done = research(tmp_path, "quantum computing applications in 2026", ANTHROPIC_API_KEY="sk-ant-not-a-real-key")
    assert done.returncode == 0, done.stderr
    assert "(anthropic: replay;" in done.stdout
    assert "Title: Quantum Computing" in done.stdout  # the recorded topic replays its recording


def test_a_topic_is_required(tmp_path: Path):
    done = research(tmp_path)
    assert done.returncode == 2 and "topic" in done.stderr
