"""Every lesson runs top to bottom for a learner with no key and no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from apicourse import navigation, paths
from notebooks import execute_notebook

LESSONS = navigation.lessons()


def test_there_are_lessons():
    assert [p.name for p in LESSONS][:1] == ["00_start_here.ipynb"]


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_offline_without_keys(notebook: Path, tmp_path: Path):
    nb, blocked = execute_notebook(notebook, tmp_path)
    assert blocked == [], f"{notebook.name} tried to leave the machine: {blocked}"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
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
        assert nb.cells[1].source == navs[0] and nb.cells[-1].source == navs[0]
        if i > 0:
            assert f"[{titles[i - 1]}]({LESSONS[i - 1].name})" in navs[0]
        if i + 1 < len(LESSONS):
            assert f"[{titles[i + 1]}]({LESSONS[i + 1].name})" in navs[0]
        else:
            assert navigation.QUIZ_LINK in navs[0]
            assert (paths.NOTEBOOKS / navigation.QUIZ_LINK).resolve().is_file()


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
