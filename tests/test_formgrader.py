"""The instructor's side: nbgrader's formgrader loads for the quiz course.

An instructor opens the repository's ``quiz/`` folder as an nbgrader course and starts Jupyter there.
This starts a real Jupyter Server (loopback, free port) over a temporary copy of ``quiz/``, with the
nbgrader server extensions the pip package enables, and checks over HTTP that the formgrader page
renders for this course and that its API lists the quiz's assignment.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from local_jupyter import running_jupyter

from apicourse import paths
from notebooks import keyless_env

pytestmark = pytest.mark.slow

NBGRADER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
)


def quiz_assignments(quiz: Path) -> list[str]:
    """The assignments the course defines: the folders of ``quiz/source``."""
    return sorted(p.name for p in (quiz / "source").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def formgrader(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("formgrader")
    course = tmp / "quiz"
    # what an instructor has after cloning: the tracked course files, no local gradebook or submissions
    shutil.copytree(
        paths.QUIZ,
        course,
        ignore=shutil.ignore_patterns(
            "__pycache__", ".ipynb_checkpoints", "gradebook.db", "submitted", "autograded", "feedback"
        ),
    )
    with running_jupyter(
        "server",
        root_dir=course,
        cwd=course,  # nbgrader reads nbgrader_config.py from the folder Jupyter starts in
        state_dir=tmp / "state",
        env=keyless_env(tmp),
        extra_args=[f"--ServerApp.jpserver_extensions={name}=True" for name in NBGRADER_EXTENSIONS],
    ) as jupyter:
        yield course, jupyter


def test_the_quiz_is_an_nbgrader_course() -> None:
    assert (paths.QUIZ / "nbgrader_config.py").is_file(), "quiz/ has no nbgrader_config.py"
    assert quiz_assignments(paths.QUIZ), "quiz/source/ holds no assignment"


def test_formgrader_extension_is_loaded(formgrader) -> None:
    _, jupyter = formgrader
    assert jupyter.get_json("/formgrader/api/status") == {"status": True}
    assert "Loading the formgrader nbgrader serverextension" in jupyter.log()


def test_formgrader_page_renders_for_the_course(formgrader) -> None:
    _, jupyter = formgrader
    status, page = jupyter.get("/formgrader")  # redirects to manage_assignments
    assert status == 200
    assert "Manage Assignments" in page
    # the course root must sit inside the server root, or every formgrader page is an error page
    assert (
        "nbgrader will not work" not in page.lower()
        and "500" not in re.findall(r"<title>(.*?)</title>", page)[0]
    )
    for script in re.findall(r'src="([^"]*/formgrader/static/[^"]+\.js)"', page):
        assert jupyter.get(script)[0] == 200, f"formgrader script {script} does not load"


def test_formgrader_api_lists_the_quiz_assignment(formgrader) -> None:
    course, jupyter = formgrader
    listed = {a["name"]: a for a in jupyter.get_json("/formgrader/api/assignments")}
    for name in quiz_assignments(course):
        assert name in listed, f"the formgrader does not list {name}: {sorted(listed)}"
        assert listed[name]["source_path"].endswith(f"source/{name}")
        notebooks = jupyter.get_json(f"/formgrader/api/notebooks/{name}")
        expected = sorted(p.stem for p in (course / "source" / name).glob("*.ipynb"))
        assert sorted(nb["name"] for nb in notebooks) == expected
