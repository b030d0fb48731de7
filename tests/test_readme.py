"""The README's two commands are the whole set-up, and CI runs exactly the second one."""

from __future__ import annotations

import os
import re
from pathlib import Path

from local_jupyter import running_jupyter

from apicourse import paths

README = (paths.ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """The fenced commands under '1. Launch the course' and '2. Run the tests'."""
    found = []
    for label in ("**1. Launch the course**", "**2. Run the tests**"):
        after = README[README.index(label) :]
        found.append(re.search(r"```bash\n(.+?)\n```", after, re.S).group(1).strip())
    return found


def test_the_readme_has_exactly_two_set_up_commands():
    launch, test = readme_commands()
    assert launch == "pip install -r requirements.txt && jupyter lab --config=jupyter-config/learner.py notebooks/00_start_here.ipynb"
    assert test.startswith("pip install -r requirements-test.txt && ") and "pytest" in test


def test_ci_runs_exactly_the_readmes_test_command():
    ci = (paths.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last_command = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last_command.strip() == readme_commands()[1]
    assert os.access(paths.ROOT / ".ci" / "run", os.X_OK)


def test_every_file_the_readme_links_exists():
    links = re.findall(r"\]\(((?!https?://)[^)#]+)\)", README)
    missing = [link for link in links if not (paths.ROOT / link).exists()]
    assert links and missing == []


def test_the_launch_command_serves_the_start_notebook(tmp_path: Path):
    """Command 1 minus the install (done), from the course folder: it serves the course, opening the start notebook."""
    launch = readme_commands()[0].split("&&")[1].split()
    assert launch[:2] == ["jupyter", "lab"]
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    with running_jupyter(
        "lab", root_dir=None, state_dir=tmp_path / "state", env=env, cwd=paths.ROOT, extra_args=launch[2:]
    ) as lab:
        status, page = lab.get("/lab/tree/notebooks/00_start_here.ipynb")
        assert status == 200 and "JupyterLab" in page
        notebook = lab.get_json("/api/contents/notebooks/00_start_here.ipynb?content=1")
        assert notebook["type"] == "notebook"
        assert notebook["content"]["cells"][0]["source"].startswith("# 00 · Start here")
        # what the browser opens (Jupyter writes it for the browser even with --no-browser)
        opened = " ".join(p.read_text() for p in (tmp_path / "state" / "runtime").glob("jpserver-*-open.html"))
        assert "/lab/tree/notebooks/00_start_here.ipynb" in opened
        # and the whole course is served, so the lessons' links to the quiz work
        assert lab.get_json("/api/contents/quiz")["type"] == "directory"
