"""Every lesson runs top to bottom for a learner with no key and no network — in a fresh clone, which stays clean.

The lessons run in a temporary git clone of the repository (its kernels import that clone's ``apicourse``),
so the last test can check what a learner would see afterwards: after the README's two commands and a Run
All of every lesson, ``git status`` shows nothing new.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from apicourse import colab, navigation, paths
from notebooks import execute_notebook

LESSONS = navigation.lessons()


def _git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git clone of the repository as it is (tracked files and new ones, nothing git ignores)."""
    dest = tmp_path_factory.mktemp("clone") / "course"
    listed = _git(paths.ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        if (paths.ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes((paths.ROOT / name).read_bytes())
            (dest / name).chmod((paths.ROOT / name).stat().st_mode)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "-c", "user.name=clone", "-c", "user.email=clone@localhost", "commit", "-q", "-m", "clone")
    return dest


RAN_IN_CLONE: set[str] = set()
"""The lessons run in the clone so far (in this process: the whole file runs in one worker)."""


def run_in_clone(clone: Path, notebook: Path, tmp: Path) -> tuple[object, list[str]]:
    """Run the clone's copy of ``notebook`` as a keyless learner, with the clone's apicourse."""
    ran = execute_notebook(clone / "notebooks" / notebook.name, tmp, extra_env={"PYTHONPATH": str(clone)})
    RAN_IN_CLONE.add(notebook.name)
    return ran


def test_there_are_lessons():
    assert [p.name for p in LESSONS][:1] == ["00_start_here.ipynb"]


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_offline_without_keys(notebook: Path, clone: Path, tmp_path: Path):
    nb, blocked = run_in_clone(clone, notebook, tmp_path)
    assert blocked == [], f"{notebook.name} tried to leave the machine: {blocked}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    bootstrap, first_code = code[0], code[1]
    # the generated Colab cell comes first, and outside Colab it does nothing at all
    assert colab.BOOTSTRAP_TAG in bootstrap.metadata.get("tags", []) and bootstrap.outputs == []
    assert first_code.source.strip() == f'import apicourse; course = apicourse.start("{notebook.stem}")'
    banner = json.dumps(first_code.outputs)
    assert "replay" in banner and "live" not in banner.replace("to go live", ""), banner


def test_guard_catches_a_deliberate_outside_request(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import requests\nrequests.get('http://example.com/', timeout=5)"),
    ]
    path = tmp_path / "outside.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(CellExecutionError) as caught:
        execute_notebook(path, tmp_path)
    assert "network guard" in str(caught.value)
    blocked = (tmp_path / "guard.log").read_text().splitlines()
    assert blocked == ["lookup 'example.com'"]


def test_guard_lets_loopback_through(tmp_path: Path):
    code = (
        "import socket\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
        "client = socket.create_connection(server.getsockname(), timeout=5)\n"
        "print('connected', client.getpeername()[0])"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    path = tmp_path / "loopback.ipynb"
    nbformat.write(nb, path)
    ran, blocked = execute_notebook(path, tmp_path)
    assert "connected 127.0.0.1" in ran.cells[0].outputs[0]["text"]
    assert blocked == []


def test_navigation_cells_are_current():
    result = subprocess.run(
        [sys.executable, "-m", "apicourse.navigation", "--check"], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_lesson_links_back_and_forth():
    titles = [navigation.title(p) for p in LESSONS]
    for i, path in enumerate(LESSONS):
        nb = nbformat.read(path, as_version=4)
        navs = [c.source for c in nb.cells if navigation.NAV_TAG in c.metadata.get("tags", [])]
        assert len(navs) == 2, f"{path.name}: expected nav at top and bottom"
        assert nb.cells[1].source == navs[0] and nb.cells[-2].source == navs[0]
        assert nb.cells[-1].source == navigation.SHUT_DOWN, f"{path.name}: the last cell says how to shut down"
        if i > 0:
            assert f"[{titles[i - 1]}]({LESSONS[i - 1].name})" in navs[0]
        if i + 1 < len(LESSONS):
            assert f"[{titles[i + 1]}]({LESSONS[i + 1].name})" in navs[0]
        else:
            assert navigation.QUIZ_LINK in navs[0]
            assert (paths.NOTEBOOKS / navigation.QUIZ_LINK).resolve().is_file()


def _readme_commands_in(clone: Path) -> None:
    """The README's two commands in the clone, in a virtual environment in ``.venv`` as the README suggests
    (sharing this environment's packages: only the course itself is installed, as the README's ``-e .``);
    command 2's pytest runs one quick test, enough for pytest to leave its caches."""
    env_dir = clone / ".venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for command in (
        [python, "-m", "pip", "install", "-q", "-r", "requirements.txt"],
        [python, "-m", "pip", "install", "-q", "-r", "requirements-test.txt"],
        [python, "-m", "pytest", "-q", "-n", "0", "tests/test_readme.py", "-k", "every_file_the_readme_links"],
    ):
        result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{' '.join(command[1:])} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"


@pytest.mark.slow
def test_a_fresh_clone_stays_clean_after_install_and_every_lesson(clone: Path, tmp_path: Path):
    for notebook in LESSONS:  # the lessons run by the test above, or now if it was not selected
        if notebook.name not in RAN_IN_CLONE:
            run_in_clone(clone, notebook, tmp_path / notebook.stem)
    _readme_commands_in(clone)
    assert (clone / "apicourse.egg-info").is_dir(), "the install did not build the course package here"
    changed = _git(clone, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert changed == [], "git status after installing and running every lesson:\n" + "\n".join(changed)


def _start_here_with(answer: str, tmp_path: Path) -> str:
    nb = nbformat.read(paths.NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("anthropic_mode = ..."))
    cell.source = f"anthropic_mode = {answer}"
    tmp_path.mkdir()
    path = tmp_path / "00_start_here.ipynb"
    nbformat.write(nb, path)
    ran, _ = execute_notebook(path, tmp_path)
    return json.dumps([c.get("outputs", []) for c in ran.cells], ensure_ascii=False)


def test_the_start_here_check_can_fail(tmp_path: Path):
    assert "Not quite" in _start_here_with('"live"', tmp_path / "wrong")
    assert "✓ Right: Anthropic is in replay mode" in _start_here_with('"replay"', tmp_path / "right")
