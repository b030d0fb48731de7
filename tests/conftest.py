"""Shared fixtures: the course's folders, and a keyless learner's notebook runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from apicourse import paths  # noqa: E402


@pytest.fixture
def course_root() -> Path:
    return paths.ROOT


@pytest.fixture(autouse=True)
def _no_real_course_env(monkeypatch, tmp_path):
    """No test reads or writes the developer's real .env, ledger or keys."""
    monkeypatch.setenv("APICOURSE_ENV_FILE", str(tmp_path / "test.env"))
    monkeypatch.setenv("APICOURSE_LEDGER_URL", f"sqlite:///{tmp_path / 'test-ledger.db'}")
    monkeypatch.setenv("APICOURSE_STREAM_DELAY", "0")
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "APICOURSE_FORCE_REPLAY", "APICOURSE_MODE"):
        monkeypatch.delenv(var, raising=False)
