"""Getting the grader ready in the background (:func:`warm_up`) and the prepared gradebook it builds."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from apicourse.grading.nbgrader_run import (
    _cache_dir,
    _Env,
    _fingerprint,
    _in_worker_thread,
    _tail,
    _with_venv_on_path,
    course_config,
)
from apicourse.grading.questions import ASSIGNMENT, CONFIG_FILE, SOURCE_NOTEBOOK


class _WarmUp(threading.Thread):
    """The background work of :func:`warm_up`; shown in the notebook as a sentence, not a thread."""

    def __init__(self) -> None:
        super().__init__(name="apicourse-grader-warm-up", daemon=True)

    def run(self) -> None:  # any failure is left for the real grading to report
        preparing = None
        if not _is_prepared(_prepared_dir()):
            # nbgrader changes the working directory and environment as it works: never in the learner's kernel
            preparing = subprocess.Popen(
                [sys.executable, "-c", "from apicourse.grading import prepared_course; prepared_course()"],
                env={**os.environ, **_with_venv_on_path()},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        # nbgrader itself (with SQLAlchemy, nbconvert and Jupyter Server's handlers: about 60 MB) is NOT
        # imported here: the quiz's kernel stays open while the learner answers, next to every open lesson,
        # so the first grading pays for that import (about 2 s) instead. Only the sandbox probe (under 1 MB)
        # is done ahead.
        with contextlib.suppress(Exception):
            from apicourse.grading.sandbox import sandbox_status

            sandbox_status()  # the sandbox probe (it starts one sandbox), cached for the process
        if preparing is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                preparing.wait(timeout=300)

    def __repr__(self) -> str:
        if self.is_alive():
            return "Getting the grader ready in the background: answer the questions, then save and grade."
        return "The grader is ready."


_WARM_UP: _WarmUp | None = None


def warm_up() -> threading.Thread | None:
    """Get the grader ready in the background while the learner answers; returns at once.

    The quiz's first code cell calls it. Preparing the gradebook takes a few seconds the first time on a
    machine (every time on Binder); done here, in a separate short-lived process, the grading cell at the end
    does not wait for it. nbgrader is not loaded into the learner's kernel ahead of time (about 60 MB held
    while the learner answers, next to every open lesson): the first grading loads it. Calling it again
    does nothing; inside nbgrader's own run of the notebook it does nothing at all::

        >>> from apicourse.grading import warm_up
        >>> warm_up()  # doctest: +SKIP
        Getting the grader ready in the background: answer the questions, then save and grade.
    """
    global _WARM_UP
    if os.environ.get("NBGRADER_EXECUTION") or _WARM_UP is not None:
        return _WARM_UP
    _WARM_UP = _WarmUp()
    _WARM_UP.start()
    return _WARM_UP


def _prepared_dir() -> Path:
    """Where the gradebook prepared from the current source notebook and config is kept."""
    return _cache_dir() / "grader" / _fingerprint(SOURCE_NOTEBOOK, CONFIG_FILE)


def _is_prepared(ready: Path) -> bool:
    return (ready / "gradebook.db").exists() and (ready / "release.ipynb").exists()


def prepared_course() -> Path:
    """A folder holding the gradebook (and blank learner copy) generated from the current source notebook.

    Built once per version of the source and config (a few seconds), then reused: each grading copies it.
    """
    if _WARM_UP is not None:  # grading asked for before the warm-up finished: wait, rather than work twice
        _WARM_UP.join(timeout=300)
    ready = _prepared_dir()
    if _is_prepared(ready):
        return ready
    build = Path(tempfile.mkdtemp(prefix="apicourse-prepare-"))
    try:
        (build / "source" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy2(SOURCE_NOTEBOOK, build / "source" / ASSIGNMENT / SOURCE_NOTEBOOK.name)

        def generate() -> dict[str, Any]:
            from nbgrader.apps import NbGraderAPI

            with _Env(**_with_venv_on_path()):
                return NbGraderAPI(config=course_config(build)).generate_assignment(ASSIGNMENT)

        outcome = _in_worker_thread(generate)
        if not outcome.get("success"):
            raise RuntimeError("nbgrader could not generate the assignment:\n" + _tail(outcome))
        shutil.copy2(build / "release" / ASSIGNMENT / SOURCE_NOTEBOOK.name, build / "release.ipynb")
        ready.parent.mkdir(parents=True, exist_ok=True)
        staged = ready.parent / f".{ready.name}.{os.getpid()}.{threading.get_ident()}"
        staged.mkdir()
        shutil.copy2(build / "gradebook.db", staged / "gradebook.db")
        shutil.copy2(build / "release.ipynb", staged / "release.ipynb")
        try:
            staged.rename(ready)  # atomic; if another grader won the race, use theirs
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)
        return ready
    finally:
        shutil.rmtree(build, ignore_errors=True)
