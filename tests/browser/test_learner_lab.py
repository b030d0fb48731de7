"""A learner's JupyterLab shows the course and none of nbgrader's instructor tools; an instructor's shows them.

Two real JupyterLabs over a copy of the repository, opened in headless Chromium:

* started with the README's launch command (its arguments, as a learner types them): the menu bar has no
  *Nbgrader* menu, the right sidebar no *Create Assignment*, the notebook toolbar no *Validate*, and the
  formgrader's URL does not exist, the notebook's debugger button is off (the learner's kernel has no
  debugger) — while the start notebook opens and runs;
* started with the instructor's command the README documents (``--config=jupyter-config/instructor.py``):
  all of them are back, the debugger too, and the formgrader lists the quiz.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from local_jupyter import RunningJupyter, running_jupyter
from repo_copy import copy_repository

from apicourse import paths
from notebooks import keyless_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 60_000
QUIET = '{"fetchNews": "false", "checkForUpdates": false}'  # no news pop-up over the page
CREATE_ASSIGNMENT_TAB = '.jp-SideBar [data-id="nbgrader-create_assignemnt"]'  # nbgrader's own (misspelt) id
DEBUGGER_BUTTON = ".jp-NotebookPanel-toolbar .jp-DebuggerBugButton"  # enabled only if the kernel offers a debugger


def readme_jupyter_args(after: str) -> list[str]:
    """The arguments of ``jupyter lab`` in the README's first command block after the text ``after``."""
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"```bash\n(.+?)\n```", readme[readme.index(after) :], re.S).group(1).strip()
    launch = shlex.split(command.split("&&")[-1])
    assert launch[:2] == ["jupyter", "lab"], command
    return launch[2:]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("roles") / "course")


def _lab(course: Path, state: Path, args: list[str]) -> Iterator[RunningJupyter]:
    notification = state / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(QUIET, encoding="utf-8")
    env = keyless_env(state)
    with running_jupyter("lab", root_dir=None, cwd=course, state_dir=state, env=env, extra_args=args,
                         ready_path="/lab") as jupyter:
        yield jupyter


@pytest.fixture
def learner_lab(course: Path, tmp_path: Path) -> Iterator[RunningJupyter]:
    yield from _lab(course, tmp_path / "learner", readme_jupyter_args("**1. Launch the course**"))


@pytest.fixture
def instructor_lab(course: Path, tmp_path: Path) -> Iterator[RunningJupyter]:
    yield from _lab(course, tmp_path / "instructor", readme_jupyter_args("An instructor brings them back"))


def _open_start_notebook(chromium: Any, jupyter: RunningJupyter) -> Any:
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{jupyter.url}/lab/tree/notebooks/00_start_here.ipynb?reset")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for()
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Kernel$")).wait_for()
    page.wait_for_timeout(1500)  # every plugin has added its menus and panels by now
    return page


def _kernel_idle(jupyter: RunningJupyter) -> None:
    """Wait until the notebook's kernel is up and idle (it has answered JupyterLab's kernel_info)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any(k["execution_state"] == "idle" for k in jupyter.get_json("/api/kernels")):
        assert time.monotonic() < deadline, "the notebook's kernel never became idle"
        time.sleep(0.25)


def _menus(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".lm-MenuBar-item").all_inner_texts()]


def test_a_learner_sees_the_course_and_no_instructor_tools(chromium: Any, learner_lab: RunningJupyter) -> None:
    page = _open_start_notebook(chromium, learner_lab)
    menus = _menus(page)
    assert "Kernel" in menus and "Nbgrader" not in menus, menus
    assert page.locator(CREATE_ASSIGNMENT_TAB).count() == 0, "Create Assignment is in the right sidebar"
    assert page.locator(".jp-NotebookPanel-toolbar", has_text="Validate").count() == 0
    assert learner_lab.get("/formgrader")[0] == 404
    assert "nbgrader" not in learner_lab.log().lower()
    # and the course itself is all there: the start notebook opened from the launch command's folder
    assert page.locator(".jp-Notebook", has_text="00 · Start here").count() == 1
    # its kernel comes without ipykernel's debugger (8 MB less in every open lesson): the button stays off
    _kernel_idle(learner_lab)
    page.wait_for_timeout(1500)  # JupyterLab has read the kernel's answer by now
    assert page.locator(DEBUGGER_BUTTON).first.get_attribute("aria-disabled") == "true"


def test_the_instructor_command_brings_the_tools_back(chromium: Any, instructor_lab: RunningJupyter) -> None:
    page = _open_start_notebook(chromium, instructor_lab)
    assert "Nbgrader" in _menus(page)
    page.locator(f'{DEBUGGER_BUTTON}:not([aria-disabled="true"])').first.wait_for()  # ipykernel's debugger is back
    assert page.locator(CREATE_ASSIGNMENT_TAB).count() == 1
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
    items = page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").all_inner_texts()
    assert "Formgrader" in items, items
    assert instructor_lab.get_json("/formgrader/api/status") == {"status": True}
    status, body = instructor_lab.get("/formgrader/api/assignments", timeout=90)  # creates the gradebook
    assert status == 200, body
    assert [a["name"] for a in json.loads(body)] == ["module_assessment"]
