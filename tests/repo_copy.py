"""Copy the repository as a fresh clone would have it: the files git tracks or would add, nothing ignored.

    copy_repository(tmp / "course")   # no .env, no gradebook.db, no submissions, no caches

Tests that start servers or run installers work on such a copy, so they never write into the working
tree and never see a developer's local state (a key in ``.env``, a ledger, old submissions).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from apicourse import paths

_ALWAYS_SKIPPED = {".git", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", "browser-artifacts"}


def repository_files(root: Path = paths.ROOT) -> list[Path]:
    """Paths (relative to ``root``) a clone would hold, plus new files not yet committed.

    Falls back to walking the folder, skipping the usual local state, when git is unavailable.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        files = [Path(name) for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        files = [p.relative_to(root) for p in root.rglob("*") if p.is_file() and p.name != ".env"]
    return [
        f
        for f in files
        if not _ALWAYS_SKIPPED.intersection(f.parts)
        and not f.parts[0].endswith(".egg-info")
        and (root / f).is_file()
    ]


def copy_repository(dest: Path, root: Path = paths.ROOT) -> Path:
    """Copy the repository's files (see :func:`repository_files`) into ``dest``; return ``dest``."""
    for relative in repository_files(root):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return dest
