"""With every cassette deleted, lessons 05–09 still run top to bottom offline: the offline sandbox answers every
provider call, and each lesson shows the labelled stand-in answers and the note that says how to go live."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from notebooks import execute_notebook
from repo_copy import copy_repository
from test_provider_lessons import outputs

pytestmark = pytest.mark.slow

LESSONS = ["05_openai", "06_anthropic", "07_hugging_face", "08_research_assistant", "09_production_practices"]


@pytest.fixture(scope="module")
def course_without_cassettes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the course with its ``cassettes/`` folder deleted."""
    root = copy_repository(tmp_path_factory.mktemp("course"))
    shutil.rmtree(root / "cassettes")
    return root


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_on_the_offline_sandbox_alone(name: str, course_without_cassettes: Path, tmp_path: Path):
    root = course_without_cassettes
    path = root / "notebooks" / f"{name}.ipynb"
    lesson = nbformat.read(path, as_version=4)
    lesson.cells.append(nbformat.v4.new_code_cell("from apicourse import paths; print('course at', paths.ROOT)"))
    nbformat.write(lesson, path)
    nb, blocked = execute_notebook(
        path,
        tmp_path,
        extra_env={"APICOURSE_STRICT_REPLAY": "0", "PYTHONPATH": str(root)},
        timeout=300,
    )
    assert blocked == [], f"{name} tried to reach the network: {blocked}"
    text = outputs(nb)
    assert "No recording for" not in text
    assert "[offline stand-in]" in text, "the answers say where they come from"
    assert "Offline stand-in: no recording matches" in text and "restart the kernel" in text, "the note in the cell"
    assert f"course at {root}" in text, "the kernel ran the copy that has no cassettes"
