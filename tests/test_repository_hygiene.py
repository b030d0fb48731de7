"""What is committed: notebooks without outputs, and no secret anywhere."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from apicourse import paths
from apicourse.secrets import find_secrets


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], capture_output=True, cwd=paths.ROOT, check=True).stdout
    return [paths.ROOT / name for name in out.decode().split("\0") if name]


def test_repository_is_a_git_checkout():
    assert tracked_files(), "run the tests from a git clone of the course"


@pytest.mark.parametrize(
    "path", [p for p in tracked_files() if p.suffix == ".ipynb"], ids=lambda p: p.name
)
def test_committed_notebooks_carry_no_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"


def test_no_secret_in_any_tracked_file():
    found = [f"{p.relative_to(paths.ROOT)}: {what}" for p in tracked_files() if p.is_file() for what in find_secrets(p)]
    assert found == []


def test_no_machine_paths_in_tracked_files():
    pattern = re.compile(r"/(?:tmp/v|work/main|work/shared|root/\.pyenv)\b")
    hits = [
        str(p.relative_to(paths.ROOT))
        for p in tracked_files()
        if p.is_file() and p.suffix not in {".png", ".db"} and pattern.search(p.read_text(errors="ignore"))
    ]
    assert hits == []
