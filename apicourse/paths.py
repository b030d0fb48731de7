"""Where the course's folders are, wherever the kernel was started."""

from __future__ import annotations

import os
from pathlib import Path

ROOT: Path = Path(__file__).resolve().parents[1]
"""The course repository (the folder holding ``notebooks/`` and ``cassettes/``)."""

NOTEBOOKS: Path = ROOT / "notebooks"
CASSETTES: Path = ROOT / "cassettes"
QUIZ: Path = ROOT / "quiz"


def cassette_path(notebook: str) -> Path:
    """The cassette file that holds a notebook's recorded HTTP.

    >>> cassette_path("05_openai").relative_to(ROOT).as_posix()
    'cassettes/05_openai/05_openai.yaml'
    """
    return CASSETTES / notebook / f"{notebook}.yaml"


def notebook_stem(notebook: str | Path) -> str:
    """``notebooks/05_openai.ipynb`` → ``05_openai``.

    >>> notebook_stem("notebooks/05_openai.ipynb")
    '05_openai'
    """
    return Path(notebook).stem


ENV_FILE_VAR = "APICOURSE_ENV_FILE"
"""Overrides where the course's ``.env`` lives (the tests point it at a temporary file)."""


def env_file() -> Path:
    """The course's ``.env`` file (it may not exist yet).

    ``$APICOURSE_ENV_FILE`` if set, else ``.env`` at the top of the course.

    >>> env_file().name
    '.env'
    """
    override = os.environ.get(ENV_FILE_VAR)
    return Path(override) if override else ROOT / ".env"
