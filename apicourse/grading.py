"""Grade the module assessment with nbgrader: the learner's self-grading, and the instructor's class run.

In the quiz notebook, the first code cell gets the grader ready in the background (:func:`warm_up`) and
the last cell is::

    from apicourse.grading import grade_my_quiz
    grade_my_quiz()

It grades the notebook **as saved** (if what you ran differs from the saved file it says so instead of
grading a stale copy) with nbgrader's own autograder (``NbGraderAPI.autograde``) in a throw-away
one-student course, records the attempt in the ledger (:mod:`apicourse.ledger`), and shows points and
feedback per question, the total, PASS/FAIL at 70%, the attempt number and the best score so far.

Grading a file directly, without a notebook (this is what the tests do)::

    result = grade_notebook(SOURCE_NOTEBOOK)          # the instructor's copy, with the solutions
    result.score, result.max_score, result.passed     # (10.0, 10.0, True)

An instructor grades a whole class (``quiz/submitted/<student>/module_assessment/``) with one command::

    python -m apicourse.grading grade-class            # autograde + ledger + grades.csv + feedback

The result HTML carries stable CSS classes for tools and browser tests: ``apicourse-grade`` (the whole
result, plus ``apicourse-pass`` or ``apicourse-fail``), ``apicourse-question`` (one row per question, with
``data-question="Q1"``, ``data-points``, ``data-max``), ``apicourse-points``, ``apicourse-feedback``,
``apicourse-total``, ``apicourse-verdict``, ``apicourse-attempt``, ``apicourse-best``, ``apicourse-ledger-error``;
an unsaved notebook gives ``apicourse-unsaved`` and a grading that could not run ``apicourse-error``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from apicourse import paths

if TYPE_CHECKING:  # imported lazily: the grading cell must cost nothing while nbgrader runs the notebook
    from apicourse.ledger import Ledger, Standing

PASS_FRACTION = 0.7
"""A score of 70% or more passes (the same as :data:`apicourse.ledger.PASS_FRACTION`)."""

ASSIGNMENT = "module_assessment"
"""The nbgrader assignment (and notebook) name of the module assessment."""

COURSE: Path = paths.QUIZ
CONFIG_FILE: Path = COURSE / "nbgrader_config.py"
SOURCE_NOTEBOOK: Path = COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
"""The instructor's notebook: solutions and hidden tests (nbgrader's ``source/``)."""
RELEASE_NOTEBOOK: Path = COURSE / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
"""The learner's copy generated from the source by ``nbgrader generate_assignment`` (committed)."""

CACHE_DIR_VAR = "APICOURSE_CACHE_DIR"
"""Environment variable: where the grader keeps its prepared gradebook (default: the user's cache dir)."""
LEARNER_VAR = "APICOURSE_LEARNER"
"""Environment variable: the learner's name in the ledger (default: $JUPYTERHUB_USER, else the login)."""

_ANSWER_MARK = re.compile(r"^\s*#\s*ANSWER\s+(Q\d+)\b", re.IGNORECASE)
_T = TypeVar("_T")


# --- the questions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """One question: its test cells (nbgrader grade ids) with a hint each, and what it teaches."""

    id: str
    title: str
    takeaway: str
    hints: dict[str, str]
    code: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question(
        "Q1",
        "REST and JSON",
        "An API is a contract; generating text means POSTing a structured (JSON) request.",
        {
            "q1a_method": "a) Generating text means *sending* data (your prompt). Which method sends data? "
            "See lesson 01.",
            "q1b_contract": "b) Remember the restaurant menu: what you can order, how to order, what comes back. "
            "See lesson 01.",
        },
    ),
    Question(
        "Q2",
        "Keys stay out of your code",
        "Keys come from the environment (or .env), never from the code.",
        {
            "q2_headers": "Read the key inside the function with os.environ and send it as 'Bearer <key>' with "
            "Content-Type application/json; no key written in the code. See lesson 03.",
            "q2_missing_key": "When OPENAI_API_KEY is missing or empty, raise RuntimeError with a message that "
            "names OPENAI_API_KEY. See lesson 03.",
        },
        code=True,
    ),
    Question(
        "Q3",
        "Retry with exponential backoff",
        "After a 429, wait (Retry-After, or 1 s, 2 s, 4 s …) and retry; never retry a bad request.",
        {
            "q3_backoff": "On 429 without Retry-After, call sleep(2 ** attempt) — 1, 2, 4 … — and send again; on "
            "200 return response.json(). See lesson 04.",
            "q3_retry_after": "Wait the Retry-After seconds when given, stop after max_retries calls with "
            "RuntimeError, and raise at once on other errors such as 400. See lesson 04.",
        },
        code=True,
    ),
    Question(
        "Q4",
        "Two APIs, one pattern",
        "OpenAI and Anthropic answer in structured JSON you can navigate, tool use included.",
        {
            "q4a_openai": "The text is at completion['choices'][0]['message']['content'], the tokens at "
            "completion['usage']['total_tokens']. See lesson 05.",
            "q4b_anthropic": "Find the content block whose type is 'tool_use' and answer its id in a 'user' "
            "message holding one 'tool_result' block. See lesson 06.",
        },
        code=True,
    ),
    Question(
        "Q5",
        "Building real applications",
        "Chain calls (one output feeds the next); retry only what a retry can fix.",
        {
            "q5a_chaining": "a) One call's output becomes the next call's input. See lesson 08.",
            "q5b_bad_request": "b) A 4xx other than 429 means the request itself is wrong. See lesson 09.",
        },
    ),
)


# --- results ------------------------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    """Points and feedback for one question."""

    id: str
    title: str
    points: float
    max_points: float
    feedback: str


@dataclass
class GradeResult:
    """The outcome of grading one notebook, and (once recorded) the learner's standing.

    Displayed in Jupyter as an HTML table (see the module docstring for its CSS classes).
    """

    notebook: str
    questions: list[QuestionResult] = field(default_factory=list)
    graded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    learner: str | None = None
    standing: Standing | None = None
    ledger_error: str | None = None
    unsaved: list[str] = field(default_factory=list)
    error: str | None = None
    submission: str | None = None

    @property
    def graded(self) -> bool:
        """Whether nbgrader produced a score (False if unsaved or the grading could not run)."""
        return not self.unsaved and self.error is None

    @property
    def score(self) -> float:
        return float(sum(q.points for q in self.questions))

    @property
    def max_score(self) -> float:
        return float(sum(q.max_points for q in self.questions))

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def passed(self) -> bool:
        """PASS at 70% or more."""
        return self.graded and self.max_score > 0 and self.score / self.max_score >= PASS_FRACTION - 1e-9

    def points(self) -> dict[str, float]:
        """Points per question id, e.g. ``{"Q1": 2.0, ...}``."""
        return {q.id: q.points for q in self.questions}

    def __repr__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The result as plain text (what the terminal and the instructor command print)."""
        if self.unsaved:
            return _unsaved_message(self.unsaved)
        if self.error:
            return f"Not graded: {self.error}"
        lines = [f"{q.id} {q.title}: {_num(q.points)}/{_num(q.max_points)} — {q.feedback}" for q in self.questions]
        lines.append(f"Total {_num(self.score)}/{_num(self.max_score)} ({self.percent:.0f}%) — "
                     f"{'PASS' if self.passed else 'FAIL'} (pass mark {PASS_FRACTION:.0%})")
        if self.standing is not None:
            s = self.standing
            lines.append(f"Attempt {s.attempt} · best so far {_num(s.best_score)}/{_num(s.max_score)} "
                         f"({s.best_percent or 0:.0f}%)")
        if self.ledger_error:
            lines.append(f"Not recorded: {self.ledger_error}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return result_html(self)


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
        with contextlib.suppress(Exception):
            import nbformat  # noqa: F401
            import nbgrader.api
            import nbgrader.apps
            import nbgrader.preprocessors  # noqa: F401

            import apicourse.ledger  # noqa: F401
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

    The quiz's first code cell calls it. Loading nbgrader takes a few seconds, and so does preparing the
    gradebook the first time on a machine (every time on Binder); done here, in a thread of its own and a
    separate process, the grading cell at the end answers in about a second. Calling it again does
    nothing; inside nbgrader's own run of the notebook it does nothing at all::

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


# --- grading -------------------------------------------------------------------------------------------------
def grade_notebook(notebook: str | Path, *, timeout: int | None = None) -> GradeResult:
    """Grade one notebook file with nbgrader's autograder; nothing is recorded.

    Whatever the notebook holds (blank answers, syntax errors, exceptions, endless loops, huge outputs,
    edited or deleted test cells, an answer that kills the kernel, any file name), the result is a score;
    ``result.error`` is set only if the file cannot be read as a notebook or nbgrader itself fails.
    ``timeout`` overrides the course's per-cell limit in seconds.
    """
    import nbformat

    notebook = Path(notebook)
    started = time.perf_counter()
    result = GradeResult(notebook=notebook.name)
    try:
        data = notebook.read_bytes()
        submitted = nbformat.reads(data.decode("utf-8"), as_version=4)
        _answer_cells(submitted)  # a file that is JSON but not a notebook fails here
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, never raised
        result.error = f"{notebook.name} could not be read as a notebook ({type(error).__name__}: {_short(str(error))})."
        return result
    result.submission = hashlib.sha256(data).hexdigest()
    stopped: dict[str, str] = {}
    try:
        for _ in range(len(QUESTIONS) + 1):
            outcome = _autograde_once(submitted, timeout)
            if outcome.dead_kernel is None:
                break
            # A cell stopped the kernel (os._exit, a crash, memory exhausted): disable it (an answer then
            # scores 0) and grade the rest.
            disabled = _disable_killer(submitted, outcome.dead_kernel)
            if disabled is None or disabled in stopped:
                result.error = "the grading kernel died and the cause could not be isolated:\n" + outcome.log
                return result
            stopped[disabled] = "the kernel died"
        else:
            result.error = "the grading kernel kept dying:\n" + outcome.log
            return result
        if outcome.error:
            result.error = outcome.error
            return result
        result.questions = build_feedback(outcome.scores, outcome.graded, outcome.release,
                                          timeout=_timeout_used(timeout))
        for q in result.questions:
            if q.id in stopped:
                q.feedback = (f"Your answer stopped Python itself while it was graded ({stopped[q.id]}); it scores 0. "
                              "Remove whatever exits or uses up the memory, save, and grade again.")
    finally:
        result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Autograded:
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    graded: Any = None
    release: Any = None
    error: str | None = None
    dead_kernel: Any = None  # the cell that was running when the kernel died
    log: str = ""


def _autograde_once(submitted: Any, timeout: int | None) -> _Autograded:
    """One nbgrader autograde of ``submitted`` in a throw-away one-student course."""
    import nbformat

    ready = prepared_course()
    root = Path(tempfile.mkdtemp(prefix="apicourse-grade-"))
    try:
        shutil.copy2(ready / "gradebook.db", root / "gradebook.db")
        (root / "source" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy2(SOURCE_NOTEBOOK, root / "source" / ASSIGNMENT / SOURCE_NOTEBOOK.name)
        target = root / "submitted" / "learner" / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(submitted, target / f"{ASSIGNMENT}.ipynb")  # whatever the learner's file was called
        running: list[Any] = []

        def autograde() -> dict[str, Any]:
            from nbgrader.apps import NbGraderAPI
            from nbgrader.preprocessors import Execute

            original = Execute.preprocess_cell

            def tracking(self: Any, cell: Any, resources: Any, index: int) -> Any:
                running.append(cell)
                return original(self, cell, resources, index)

            Execute.preprocess_cell = tracking  # type: ignore[method-assign]
            try:
                return NbGraderAPI(config=course_config(root, timeout=timeout)).autograde(ASSIGNMENT, "learner")
            finally:
                Execute.preprocess_cell = original  # type: ignore[method-assign]

        outcome = _in_worker_thread(autograde)
        if not outcome.get("success"):
            log = _tail(outcome)
            if "DeadKernelError" in (outcome.get("error") or "") + (outcome.get("log") or "") and running:
                return _Autograded(dead_kernel=running[-1], log=log)
            return _Autograded(error="nbgrader could not grade the notebook:\n" + log, log=log)
        graded_path = root / "autograded" / "learner" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        return _Autograded(
            scores=_scores(root, "learner"),
            graded=nbformat.read(graded_path, as_version=4),
            release=nbformat.read(ready / "release.ipynb", as_version=4),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _disable_killer(nb: Any, killer: Any) -> str | None:
    """Neutralise the cell that killed the kernel; return the question it costs (or the cell's id)."""
    grade_id = killer.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    question = next((q.id for q in QUESTIONS if grade_id in q.hints), None)  # a test calling the answer
    match = _ANSWER_MARK.match(killer.source.split("\n", 1)[0])
    if match:
        question = match.group(1).upper()
    if question is not None:
        for cell in nb.cells:
            found = _ANSWER_MARK.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
            if found and found.group(1).upper() == question:
                cell.source = f"# ANSWER {question}\nraise RuntimeError('this answer stopped the grading kernel')"
                return question
        return None
    for cell in nb.cells:  # a cell of the learner's own (not an answer, not a test)
        if cell.get("id") == killer.get("id") and cell.source == killer.source and "nbgrader" not in cell.metadata:
            cell.source = "# (this cell stopped the grading kernel; skipped)"
            return f"cell {cell.get('id')}"
    return None


def _timeout_used(timeout: int | None) -> int:
    return int(timeout if timeout is not None else course_config(COURSE).Execute.timeout)


def _scores(root: Path, student: str, db_url: str | None = None) -> dict[str, tuple[float, float]]:
    """Points per test cell (grade id → (score, max)) from an nbgrader gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url or f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: (float(g.score or 0.0), float(g.max_score)) for g in submission.grades}


def _cells_by_id(nb: Any) -> dict[str, Any]:
    cells = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id not in cells:
            cells[grade_id] = cell
    return cells


def _answer_cells(nb: Any) -> dict[str, str]:
    """Question id → source of the cell whose first line is ``# ANSWER Qn``."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        match = _ANSWER_MARK.match(cell.source.split("\n", 1)[0])
        if match:
            found.setdefault(match.group(1).upper(), cell.source)
    return found


def _error_of(cell: Any) -> tuple[str, str] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), str(output.get("evalue", ""))
    return None


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_feedback(
    scores: dict[str, tuple[float, float]], graded: Any, release: Any, *, timeout: int = 10
) -> list[QuestionResult]:
    """Turn nbgrader's per-cell scores and the autograded notebook into points and feedback per question."""
    cells = _cells_by_id(graded)
    answers = _answer_cells(graded)
    blanks = _answer_cells(release)
    results = []
    for q in QUESTIONS:
        got = sum(scores.get(gid, (0.0, 0.0))[0] for gid in q.hints)
        out_of = sum(scores.get(gid, (0.0, 1.0))[1] for gid in q.hints)
        if got >= out_of:
            feedback = f"Correct. {q.takeaway}"
        elif q.id not in answers or _normalise(answers[q.id]) == _normalise(blanks.get(q.id, "")):
            feedback = f"Not answered yet: write your answer in the cell that starts with # ANSWER {q.id}."
        else:
            notes = []
            answer_cell = next(
                (c for c in graded.cells if c.cell_type == "code" and _ANSWER_MARK.match(c.source.split("\n", 1)[0])
                 and _ANSWER_MARK.match(c.source.split("\n", 1)[0]).group(1).upper() == q.id), None)
            answer_error = _error_of(answer_cell) if answer_cell is not None else None
            if answer_error and answer_error[0] in {"SyntaxError", "IndentationError", "NameError"}:
                notes.append(_explain_error(*answer_error, timeout=timeout, where="Your answer cell")
                             + " Fix it, save, and grade again.")
            else:
                for gid, hint in q.hints.items():
                    score, max_points = scores.get(gid, (0.0, 1.0))
                    if score >= max_points:
                        continue
                    error = _error_of(cells[gid]) if gid in cells else None
                    detail = " " + _explain_error(*error, timeout=timeout, where="The test") if error and q.code else ""
                    notes.append(hint + detail)
                if answer_error:
                    notes.append(_explain_error(*answer_error, timeout=timeout, where="Your answer cell"))
            feedback = " ".join(notes) if notes else "Not all of it is right yet."
        results.append(QuestionResult(q.id, q.title, got, out_of, feedback))
    return results


def _explain_error(ename: str, evalue: str, *, timeout: int, where: str) -> str:
    if ename in {"CellTimeoutError", "KeyboardInterrupt", "TimeoutError"} or "timeout" in evalue.lower():
        return f"{where} ran longer than {timeout} s and was stopped — an endless loop?"
    if ename == "AssertionError" and evalue:
        return f"({_short(evalue)})"
    return f"{where} raised {ename}: {_short(evalue) or '(no message)'}."


def _normalise(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())


def _tail(outcome: dict[str, Any], lines: int = 12) -> str:
    text = (outcome.get("error") or "") + "\n" + (outcome.get("log") or "")
    return "\n".join(text.strip().splitlines()[-lines:])


# --- the learner's side ----------------------------------------------------------------------------------------
def learner_name(environ: dict[str, str] | None = None) -> str:
    """Who is grading: ``$APICOURSE_LEARNER``, else ``$JUPYTERHUB_USER``, else the login name.

    >>> learner_name({"JUPYTERHUB_USER": "ada"}), learner_name({"APICOURSE_LEARNER": "grace", "JUPYTERHUB_USER": "x"})
    ('ada', 'grace')
    """
    env = os.environ if environ is None else environ
    for var in (LEARNER_VAR, "JUPYTERHUB_USER"):
        if env.get(var):
            return env[var]
    try:
        import getpass

        return getpass.getuser() or "learner"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "learner"


def find_quiz_notebook(notebook: str | Path | None = None) -> Path:
    """The notebook to grade: ``notebook`` if given, else the one this kernel was opened for.

    JupyterLab tells the kernel its notebook's path (``$JPY_SESSION_NAME``); if that file is gone (renamed
    while open), the most recently saved quiz notebook in the current folder is taken.
    """
    if notebook is not None:
        return Path(notebook)
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        for candidate in (Path(session), Path.cwd() / Path(session).name):
            if candidate.is_file():
                return candidate
    here = [p for p in Path.cwd().glob("*.ipynb") if _looks_like_quiz(p)]
    if here:
        return max(here, key=lambda p: p.stat().st_mtime)
    if RELEASE_NOTEBOOK.is_file() and Path.cwd() == RELEASE_NOTEBOOK.parent:
        return RELEASE_NOTEBOOK
    raise FileNotFoundError(
        "Could not tell which notebook to grade. Pass its path, e.g. grade_my_quiz('module_assessment.ipynb')."
    )


def _looks_like_quiz(path: Path) -> bool:
    try:
        return "# ANSWER Q1" in path.read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return False


def unsaved_answers(notebook: Path, history: Sequence[str] | None = None) -> list[str]:
    """Questions whose answer cell, as last run in this kernel, differs from the saved file.

    ``history`` is the kernel's input history (IPython's ``In``); by default it is read from the running
    IPython, and outside IPython nothing can be compared (an empty list).

    >>> import pathlib, tempfile, nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('# ANSWER Q1\\nq1a = "B"')])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "quiz.ipynb"; nbformat.write(nb, path)
    >>> unsaved_answers(path, ['# ANSWER Q1\\nq1a = "B"'])
    []
    >>> unsaved_answers(path, ['# ANSWER Q1\\nq1a = "C"'])
    ['Q1']
    """
    if history is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover
            shell = None
        if shell is None:
            return []
        history = list(shell.history_manager.input_hist_raw)
    last_run: dict[str, str] = {}
    for source in history:
        match = _ANSWER_MARK.match((source or "").split("\n", 1)[0])
        if match:
            last_run[match.group(1).upper()] = source
    import nbformat

    try:
        saved = _answer_cells(nbformat.read(notebook, as_version=4))
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the grader itself
        return []
    return sorted(q for q, source in last_run.items() if q in saved and _normalise(source) != _normalise(saved[q]))


def grade_my_quiz(
    notebook: str | Path | None = None,
    *,
    ledger: Ledger | str | None = None,
    learner: str | None = None,
    ignore_unsaved: bool = False,
    timeout: int | None = None,
) -> GradeResult | None:
    """Grade the saved quiz notebook, record the attempt, and return the result (shown as HTML in Jupyter).

    Nothing is graded (and the result says why) if the saved file differs from the answers this kernel
    ran — save with Ctrl+S and run again, or pass ``ignore_unsaved=True``. Inside nbgrader's own run
    of the notebook (``$NBGRADER_EXECUTION``) it does nothing, so grading never recurses.
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        print("(Self-grading is skipped while nbgrader itself runs this notebook.)")
        return None
    try:
        path = find_quiz_notebook(notebook)
    except FileNotFoundError as error:
        return GradeResult(notebook=str(notebook or "?"), error=str(error))
    if not ignore_unsaved:
        stale = unsaved_answers(path)
        if stale:
            return GradeResult(notebook=path.name, unsaved=stale)
    result = grade_notebook(path, timeout=timeout)
    result.learner = learner or learner_name()
    if result.graded:
        record(result, ledger)
    return result


def record(result: GradeResult, ledger: Ledger | str | None = None, *, source: str = "self") -> GradeResult:
    """Put a graded result into the ledger and attach the learner's standing (or the ledger's error)."""
    from apicourse.ledger import Ledger, LedgerError, NewAttempt

    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    attempt = NewAttempt(
        learner=result.learner or learner_name(),
        assignment=ASSIGNMENT,
        score=result.score,
        max_score=result.max_score,
        source=source,
        submission=result.submission,
        details={"points": result.points(), "notebook": result.notebook},
        graded_at=result.graded_at,
    )
    try:
        result.standing = book.record(attempt)
    except LedgerError as error:
        result.ledger_error = str(error)
    return result


@dataclass
class Certificate:
    """Where :func:`export_certificate` wrote the record of the best attempt (shown as links in Jupyter)."""

    json_path: Path | None
    html_path: Path | None
    record: dict[str, Any] | None
    error: str | None = None

    def __repr__(self) -> str:
        if self.error:
            return f"No certificate: {self.error}"
        return f"Certificate written: {self.html_path} and {self.json_path}"

    def _repr_html_(self) -> str:
        if self.error:
            return f'<div class="apicourse-certificate apicourse-error">No certificate: {html.escape(self.error)}</div>'
        assert self.record is not None and self.html_path and self.json_path
        r = self.record
        links = " · ".join(
            f'<a href="{html.escape(p.name)}" download>{html.escape(p.name)}</a>' for p in (self.html_path, self.json_path)
        )
        return (
            f'<div class="apicourse-certificate">Best score <strong>{_num(r["best_score"])}/{_num(r["max_score"])}'
            f'</strong> ({r["percent"]:.0f}%, {"passed" if r["passed"] else "not passed yet"}) after '
            f'{r["attempts"]} attempt(s). Written next to this notebook: {links} — download them to keep them.</div>'
        )


def export_certificate(
    directory: str | Path = ".", *, ledger: Ledger | str | None = None, learner: str | None = None
) -> Certificate:
    """Write ``certificate.json`` and ``certificate.html`` (best score, its date, attempts) into ``directory``."""
    from apicourse.ledger import Ledger, LedgerError

    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    try:
        json_path, html_path = book.write_certificate(learner or learner_name(), ASSIGNMENT, Path(directory))
    except (LookupError, LedgerError, OSError) as error:
        return Certificate(None, None, None, error=str(error))
    return Certificate(json_path, html_path, json.loads(json_path.read_text(encoding="utf-8")))


# --- HTML ----------------------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _on_binder() -> bool:
    return any(key.startswith("BINDER_") for key in os.environ)


def _unsaved_message(questions: list[str]) -> str:
    return (
        f"Not graded: the saved notebook differs from the answers you ran ({', '.join(questions)}). Save the "
        "notebook (Ctrl+S, or File → Save Notebook), then run this cell again — or re-run those answer cells "
        "if the saved version is the one you want graded."
    )


_STYLE = """<style>
.apicourse-grade{font-family:var(--jp-ui-font-family,system-ui,sans-serif);border:2px solid #888;border-radius:6px;
 padding:.6em 1em;margin:.4em 0;max-width:60em}
.apicourse-grade.apicourse-pass{border-color:#2e7d32}.apicourse-grade.apicourse-fail{border-color:#c62828}
.apicourse-grade table{border-collapse:collapse;width:100%}.apicourse-grade td,.apicourse-grade th{
 text-align:left;vertical-align:top;padding:.25em .5em;border-bottom:1px solid #ddd}
.apicourse-verdict{font-size:1.3em;font-weight:bold}.apicourse-pass .apicourse-verdict{color:#2e7d32}
.apicourse-fail .apicourse-verdict{color:#c62828}.apicourse-points{white-space:nowrap;font-weight:bold}
.apicourse-unsaved,.apicourse-error,.apicourse-ledger-error{color:#8a4b00}
</style>"""


def result_html(result: GradeResult) -> str:
    """The HTML shown under the grading cell (stable CSS classes, see the module docstring)."""
    esc = html.escape
    if result.unsaved:
        return (f'{_STYLE}<div class="apicourse-grade apicourse-unsaved" data-graded="false">'
                f"<strong>Not graded yet.</strong> {esc(_unsaved_message(result.unsaved))}</div>")
    if result.error:
        return (f'{_STYLE}<div class="apicourse-grade apicourse-error" data-graded="false">'
                f"<strong>Not graded.</strong><pre>{esc(result.error)}</pre></div>")
    verdict = "PASS" if result.passed else "FAIL"
    state = "apicourse-pass" if result.passed else "apicourse-fail"
    rows = "".join(
        f'<tr class="apicourse-question" data-question="{q.id}" data-points="{_num(q.points)}" '
        f'data-max="{_num(q.max_points)}"><th>{q.id} · {esc(q.title)}</th>'
        f'<td class="apicourse-points">{_num(q.points)}/{_num(q.max_points)}</td>'
        f'<td class="apicourse-feedback">{esc(q.feedback)}</td></tr>'
        for q in result.questions
    )
    s = result.standing
    attempt = best = ""
    if s is not None:
        attempt = f'<div class="apicourse-attempt" data-attempt="{s.attempt}">Attempt {s.attempt}</div>'
        best = (
            f'<div class="apicourse-best" data-best="{_num(s.best_score)}" data-max="{_num(s.max_score)}">'
            f"Best so far: <strong>{_num(s.best_score)}/{_num(s.max_score)}</strong> ({s.best_percent or 0:.0f}%"
            f"{', passed' if s.passed else ''}) over {s.attempts} attempt(s). Your best is kept; retake any time."
            "</div>"
        )
    ledger_error = (f'<div class="apicourse-ledger-error">Not recorded: {esc(result.ledger_error)}</div>'
                    if result.ledger_error else "")
    binder = (
        '<div class="apicourse-binder">On Binder nothing persists after the session: run '
        "<code>from apicourse.grading import export_certificate; export_certificate()</code> and download "
        "<code>certificate.html</code> / <code>certificate.json</code>.</div>"
        if _on_binder() else
        '<div class="apicourse-hint">Keep a record: <code>from apicourse.grading import export_certificate; '
        "export_certificate()</code></div>"
    )
    return (
        f'{_STYLE}<div class="apicourse-grade {state}" data-score="{_num(result.score)}" '
        f'data-max="{_num(result.max_score)}" data-percent="{result.percent:.0f}" data-passed="{str(result.passed).lower()}">'
        f'<div class="apicourse-verdict">{verdict} — {_num(result.score)}/{_num(result.max_score)} '
        f"({result.percent:.0f}%)</div>"
        f"<table>{rows}</table>"
        f'<div class="apicourse-total">Total {_num(result.score)}/{_num(result.max_score)} ({result.percent:.0f}%); '
        f"pass mark {PASS_FRACTION:.0%}.</div>{attempt}{best}{ledger_error}{binder}</div>"
    )


# --- the instructor's side ---------------------------------------------------------------------------------------
@dataclass
class ClassReport:
    """What :func:`grade_class` did: scores per student, the CSV written, anything that went wrong."""

    scores: dict[str, float]
    max_score: float
    csv_path: Path
    recorded: int
    feedback: bool
    problems: list[str]
    seconds: float

    def __repr__(self) -> str:
        lines = [f"{student}: {_num(score)}/{_num(self.max_score)}" for student, score in sorted(self.scores.items())]
        lines.append(
            f"{len(self.scores)} submission(s) graded in {self.seconds:.1f} s, {self.recorded} new attempt(s) "
            f"recorded; CSV: {self.csv_path}" + ("; feedback generated" if self.feedback else "")
        )
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _course_gradebook_ready(course: Path, config: Any) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    db = Path(course) / "gradebook.db"
    if not db.exists():
        return False
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        try:
            return bool(gradebook.find_assignment(ASSIGNMENT).notebooks)
        except MissingEntry:
            return False


def _fix_renamed_submissions(course: Path) -> list[str]:
    """A student who renamed the notebook would score 0; put a copy under the expected name (keep theirs)."""
    notes = []
    for folder in sorted((course / "submitted").glob(f"*/{ASSIGNMENT}")):
        expected = folder / f"{ASSIGNMENT}.ipynb"
        if expected.exists():
            continue
        others = sorted(p for p in folder.glob("*.ipynb") if _looks_like_quiz(p))
        if others:
            chosen = max(others, key=lambda p: p.stat().st_mtime)
            shutil.copy2(chosen, expected)
            notes.append(f"{folder.parent.name}: graded {chosen.name} as {expected.name}")
    return notes


_FAILED_STUDENT = re.compile(r"error processing assignment '[^']*' for student '([^']+)'")
_FAILED_FOLDER = re.compile(r"There was an error processing assignment: (.+)$")


def _failure_reasons(log: str) -> dict[str, str]:
    """The last line of nbgrader's traceback for each student it could not grade, e.g.
    ``{"dave": "nbclient.exceptions.DeadKernelError: Kernel died"}``."""
    reasons: dict[str, str] = {}
    student = None
    for line in log.splitlines():
        start = _FAILED_FOLDER.search(line)
        if start:
            student = Path(start.group(1).strip()).parent.name
        elif student is not None and line.startswith("[") and "Traceback" not in line:
            student = None  # the next log record: this traceback is over
        elif student is not None and line.strip() and "Traceback" not in line:
            reasons[student] = line.strip()
    return reasons


def _autograde_in_parallel(course: Path, students: list[str], workers: int, timeout: int | None) -> dict[str, Any]:
    """Autograde ``students`` in ``workers`` processes (one nbgrader run each, over its share)."""
    shares = [students[i::workers] for i in range(workers)]
    command = [sys.executable, "-m", "apicourse.grading", "autograde-share", "--course", str(course)]
    if timeout is not None:
        command += ["--timeout", str(timeout)]
    env = {**os.environ, **_with_venv_on_path()}
    runs = [subprocess.Popen([*command, *share], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for share in shares]
    logs = [run.communicate()[0] for run in runs]
    return {"success": all(run.returncode == 0 for run in runs), "log": "\n".join(logs)}


def _retry_alone(
    config: Any, course: Path, students: Sequence[str], outcome: dict[str, Any], problems: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Give each notebook nbgrader did not grade one more run, alone; returns the outcome (a success unless
    nbgrader itself broke down) and who failed twice, with nbgrader's reason, e.g.
    ``{"dave": "nbclient.exceptions.DeadKernelError: Kernel died"}``.

    A notebook can fail for a reason of the moment (a kernel slow to start on a busy machine, a locked
    gradebook); one that fails again (a kernel its code kills, say) is graded by :func:`grade_notebook` instead.
    ``problems`` gains a line for each notebook graded on the second try.
    """
    from nbgrader.apps import NbGraderAPI

    def graded(student: str) -> bool:
        return (course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

    first = _failure_reasons(outcome.get("log") or "")
    failed: dict[str, str] = {}
    for student in [s for s in students if not graded(s)]:
        again = _in_worker_thread(lambda s=student: NbGraderAPI(config=config).autograde(ASSIGNMENT, s))
        log = again.get("log") or ""
        if again.get("success"):
            why = first.get(student, "no reason in nbgrader's log")
            problems.append(f"{student}: nbgrader failed once ({why}); graded on the second try")
        elif student in _FAILED_STUDENT.findall(log):
            failed[student] = _failure_reasons(log).get(student) or first.get(student) or "no reason given"
        else:
            return again, failed  # not this notebook's fault (the gradebook, say): report nbgrader's own error
    return {**outcome, "success": True}, failed


def _autograde_share(course: Path, students: Sequence[str], timeout: int | None) -> int:
    """One worker of :func:`_autograde_in_parallel`: nbgrader autograde over these students only."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    # several processes write one SQLite gradebook: wait for each other instead of failing at once
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}?timeout=120"
    config.NbGraderAPI.log_level = "ERROR"
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    mine = set(students)
    others = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}") if p.parent.name not in mine)
    config.CourseDirectory.student_id_exclude = ",".join(others)
    outcome = NbGraderAPI(config=config).autograde(ASSIGNMENT, "*")
    print(outcome.get("log") or "")
    if not outcome.get("success"):
        print(outcome.get("error") or "")
    return 0 if outcome.get("success") else 1


def grade_class(
    course: str | Path = COURSE,
    *,
    ledger: Ledger | str | None = None,
    csv_path: str | Path | None = None,
    feedback: bool = True,
    timeout: int | None = None,
    workers: int | None = None,
) -> ClassReport:
    """Autograde every submission in ``<course>/submitted/<student>/module_assessment/`` with nbgrader,
    record each new submission as an attempt, export ``student,latest,best,attempts,passed`` as CSV and
    (by default) generate the feedback HTML (``<course>/feedback/``).

    The ledger defaults to ``$APICOURSE_LEDGER_URL``, else ``<course>/attempts.db``; the CSV to
    ``<course>/grades.csv``. Running it again on unchanged submissions records nothing new.
    ``workers`` nbgrader processes share the class (default: two per CPU core, at least 8 notebooks each:
    a worker spends much of its time waiting for its kernels to start, so two per core keep the CPUs busy).
    A notebook nbgrader could not grade gets one more run, alone; if that fails too it is graded by
    :func:`grade_notebook` (no gradebook entry, no feedback file). ``problems`` names each such student.
    """
    from nbgrader.apps import NbGraderAPI

    from apicourse.ledger import Ledger, LedgerError, NewAttempt

    started = time.perf_counter()
    course = Path(course).resolve()
    if ledger is None:
        ledger = os.environ.get("APICOURSE_LEDGER_URL") or f"sqlite:///{course / 'attempts.db'}"
    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    csv_file = Path(csv_path) if csv_path else course / "grades.csv"
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.NbGraderAPI.log_level = "ERROR"
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    problems = _fix_renamed_submissions(course)
    students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}") if p.is_dir())

    if workers is None:
        workers = min(2 * (os.cpu_count() or 1), len(students) // 8 or 1)
    workers = max(1, min(workers, len(students)))

    def prepare() -> dict[str, Any]:
        with _Env(**_with_venv_on_path()):
            if not _course_gradebook_ready(course, config):
                return NbGraderAPI(config=config).generate_assignment(ASSIGNMENT)
        return {"success": True}

    outcome = _in_worker_thread(prepare)
    failed: dict[str, str] = {}  # student -> why nbgrader could not grade the notebook, twice
    if outcome.get("success") and students:
        if workers > 1:  # nbgrader grades one notebook at a time: share the class among processes
            outcome = _autograde_in_parallel(course, students, workers, timeout)
        else:
            outcome = _in_worker_thread(lambda: NbGraderAPI(config=config).autograde(ASSIGNMENT, "*"))
        if not outcome.get("success"):
            outcome, failed = _retry_alone(config, course, students, outcome, problems)
    if not outcome.get("success"):
        problems.append("nbgrader: " + _tail(outcome))
    if feedback and students and outcome.get("success"):
        fb = _in_worker_thread(lambda: NbGraderAPI(config=config).generate_feedback(ASSIGNMENT, "*"))
        if not fb.get("success"):
            problems.append("feedback: " + _tail(fb, 4))
    scores: dict[str, float] = {}
    max_score = 10.0
    recorded = 0
    for student in students:
        nb_file = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if student in failed:
            # nbgrader gave up on this notebook (its kernel died, say): grade it the robust way instead,
            # so the attempt is not lost; the gradebook has no entry for it.
            fallback = grade_notebook(nb_file, timeout=timeout)
            if not fallback.graded:
                problems.append(f"{student}: not graded ({fallback.error})")
                continue
            points = {q.id: (q.points, q.max_points) for q in fallback.questions}
            problems.append(f"{student}: nbgrader could not grade it ({failed[student]}); "
                            f"graded by apicourse.grading instead ({_num(fallback.score)}/{_num(fallback.max_score)}, "
                            "not in the gradebook, no feedback file)")
        else:
            try:
                points = _scores(course, student, db_url=config.CourseDirectory.db_url)
            except Exception as error:  # noqa: BLE001 - a student nbgrader could not grade
                problems.append(f"{student}: not graded ({type(error).__name__}: {error})")
                continue
        score = sum(p for p, _ in points.values())
        max_score = sum(m for _, m in points.values()) or max_score
        scores[student] = score
        stamp = course / "submitted" / student / ASSIGNMENT / "timestamp.txt"
        digest = hashlib.sha256(
            (nb_file.read_bytes() if nb_file.exists() else b"") + (stamp.read_bytes() if stamp.exists() else b"")
        ).hexdigest()
        try:
            if book.has_submission(student, ASSIGNMENT, digest, "instructor"):
                continue
            book.record(NewAttempt(student, ASSIGNMENT, score, max_score, source="instructor", submission=digest,
                                   details={"cells": {k: v[0] for k, v in points.items()}}))
            recorded += 1
        except LedgerError as error:
            problems.append(f"{student}: {error}")
    try:
        book.export_csv(ASSIGNMENT, csv_file)
    except LedgerError as error:
        problems.append(f"CSV not written: {error}")
    return ClassReport(scores, max_score, csv_file, recorded, feedback and not any(p.startswith("feedback")
                       for p in problems), problems, time.perf_counter() - started)


# --- command line -------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m apicourse.grading grade-class | grade NOTEBOOK | certificate`` (see ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m apicourse.grading", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cls = commands.add_parser("grade-class", help="autograde every submission, record attempts, export CSV")
    cls.add_argument("--course", default=str(COURSE), help="the nbgrader course folder (default: quiz/)")
    cls.add_argument("--ledger", help="SQLAlchemy URL of the attempts ledger (default: <course>/attempts.db)")
    cls.add_argument("--csv", help="where to write the CSV (default: <course>/grades.csv)")
    cls.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    cls.add_argument("--workers", type=int, help="nbgrader processes sharing the class (default: 2 per CPU core)")
    share = commands.add_parser("autograde-share")  # internal: one worker of grade-class
    share.add_argument("--course", required=True)
    share.add_argument("--timeout", type=int)
    share.add_argument("students", nargs="+")
    one = commands.add_parser("grade", help="grade one notebook and record the attempt")
    one.add_argument("notebook")
    one.add_argument("--learner")
    one.add_argument("--ledger")
    cert = commands.add_parser("certificate", help="write certificate.json and certificate.html")
    cert.add_argument("--directory", default=".")
    cert.add_argument("--learner")
    cert.add_argument("--ledger")
    args = parser.parse_args(argv)
    if args.command == "grade-class":
        report = grade_class(args.course, ledger=args.ledger, csv_path=args.csv, feedback=not args.no_feedback,
                             workers=args.workers)
        print(report)
        return 1 if any(p.startswith("nbgrader") for p in report.problems) else 0
    if args.command == "autograde-share":
        return _autograde_share(Path(args.course), args.students, args.timeout)
    if args.command == "grade":
        result = grade_notebook(args.notebook)
        result.learner = args.learner or learner_name()
        if result.graded:
            record(result, args.ledger)
        print(result.text())
        return 0 if result.graded else 1
    certificate = export_certificate(args.directory, ledger=args.ledger, learner=args.learner)
    print(certificate)
    return 1 if certificate.error else 0


if __name__ == "__main__":
    sys.exit(main())
