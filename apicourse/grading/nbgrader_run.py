"""Running nbgrader from Python: the course's configuration, a worker thread that keeps the working
directory and environment, and reading scores from a gradebook."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from apicourse.grading.questions import ASSIGNMENT, CACHE_DIR_VAR, CONFIG_FILE

_T = TypeVar("_T")

STUCK_KERNEL = "the kernel kept running after it was interrupted"
"""Part of the DeadKernelError the grader raises for a cell that swallows interrupts (see :mod:`.preprocessors`)."""


# --- preparing nbgrader ---------------------------------------------------------------------------------------
def course_config(root: Path, *, timeout: int | None = None) -> Any:
    """The course's nbgrader configuration (``quiz/nbgrader_config.py``) pointed at another course root.

    >>> cfg = course_config(Path("/somewhere/else"))
    >>> cfg.CourseDirectory.root, cfg.Execute.timeout
    ('/somewhere/else', 5)
    """
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{Path(root) / 'gradebook.db'}"
    config.NbGraderAPI.log_level = "ERROR"
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    return config


def _cache_dir() -> Path:
    override = os.environ.get(CACHE_DIR_VAR)
    if override:
        return Path(override)
    try:
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("apicourse", appauthor=False))
    except ImportError:  # pragma: no cover
        return Path.home() / ".cache" / "apicourse"


def _fingerprint(*files: Path) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _with_venv_on_path() -> dict[str, str]:
    """nbgrader runs the ``alembic`` command when it creates a gradebook: make sure it is found."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {"PATH": bin_dir + os.pathsep + path} if bin_dir not in path.split(os.pathsep) else {}


class _Env:
    """Set environment variables for a block, and put back exactly what was there (nbgrader's own does not)."""

    def __init__(self, **values: str):
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_LOCK = threading.Lock()  # nbgrader changes the process's working directory while it grades


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while grading: the grading kernel's start-up chatter would
    otherwise appear (in red) under the learner's grading cell. Python-level errors are unaffected."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded hosts)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _in_worker_thread(work: Callable[[], _T]) -> _T:
    """Run ``work`` in a fresh thread: the kernel's own asyncio loop must not be the one nbclient uses."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = error

    with _LOCK, _quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy warnings are not the learner's business
        cwd = os.getcwd()
        saved_execution = os.environ.get("NBGRADER_EXECUTION")
        thread = threading.Thread(target=run, name="apicourse-grader", daemon=True)
        thread.start()
        thread.join()
        os.chdir(cwd)
        if saved_execution is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved_execution
    if "error" in box:
        raise box["error"]
    return box["value"]


@contextlib.contextmanager
def one_engine_per_database() -> Iterator[None]:
    """Within the block, nbgrader's gradebooks share one SQLAlchemy engine per database URL.

    nbgrader opens the gradebook about a dozen times per notebook it grades (``Gradebook(db_url)`` in its
    converters and preprocessors), each time with a new engine, so SQLAlchemy compiles every query anew each
    time. Closing a gradebook still closes its connections (``engine.dispose()``); only the engine, and its
    cache of compiled queries, is kept. A grade-class worker grades inside this block.
    """
    import nbgrader.api

    original = nbgrader.api.create_engine
    engines: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def create_engine(url: Any, **options: Any) -> Any:
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = original(url, **options)
        return engines[key]

    nbgrader.api.create_engine = create_engine
    try:
        yield
    finally:
        nbgrader.api.create_engine = original
        for engine in engines.values():
            engine.dispose()


def _scores(root: Path, student: str, db_url: str | None = None) -> dict[str, tuple[float, float]]:
    """Points per test cell (grade id → (score, max)) from an nbgrader gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: (float(g.score or 0.0), float(g.max_score)) for g in submission.grades}



def _tail(outcome: dict[str, Any], lines: int = 12) -> str:
    text = (outcome.get("error") or "") + "\n" + (outcome.get("log") or "")
    return "\n".join(text.strip().splitlines()[-lines:])
