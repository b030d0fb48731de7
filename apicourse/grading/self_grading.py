"""The learner's self-grading: one notebook graded by nbgrader in a throw-away one-student course,
the attempt recorded in the ledger."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.feedback import _short, build_feedback
from apicourse.grading.nbgrader_run import STUCK_KERNEL, _in_worker_thread, _scores, _tail, course_config
from apicourse.grading.questions import (
    _ANSWER_MARK,
    ASSIGNMENT,
    COURSE,
    LEARNER_VAR,
    QUESTIONS,
    RELEASE_NOTEBOOK,
    SOURCE_NOTEBOOK,
    _answer_cells,
    _looks_like_quiz,
    _normalise,
)
from apicourse.grading.report import GradeResult
from apicourse.grading.sandbox import protected_paths, sandbox_status
from apicourse.grading.submissions import read_notebook, refusal_of
from apicourse.grading.warmup import prepared_course

if TYPE_CHECKING:  # imported lazily: the grading cell must cost nothing while nbgrader runs the notebook
    from apicourse.ledger import Ledger


# --- grading -------------------------------------------------------------------------------------------------
def grade_notebook(notebook: str | Path, *, timeout: int | None = None, hidden: Sequence[Path] = (),
                   spare: bool = False) -> GradeResult:
    """Grade one notebook file with nbgrader's autograder; nothing is recorded.

    Whatever the notebook holds (blank answers, syntax errors, exceptions, endless loops, huge outputs,
    edited, deleted or invented cells, broken metadata, an answer that kills the kernel, any file name), the
    result is a score; ``result.error`` is a one-sentence refusal if the file is not a notebook or not this
    quiz (:func:`~apicourse.grading.submissions.refusal_of`), or says why nbgrader itself failed.
    ``timeout`` overrides the course's per-cell limit in seconds; ``hidden`` adds paths the sandboxed kernel
    must not see (the class command's course and ledger); with ``spare`` a kernel started beforehand is
    used and the next one started afterwards (:mod:`~apicourse.grading.spare_kernel`: a learner's retakes).

    >>> grade_notebook(__file__).error  # doctest: +ELLIPSIS
    'self_grading.py could not be read as a notebook (it is not valid JSON): not graded.'
    """
    notebook = Path(notebook)
    started = time.perf_counter()
    result = GradeResult(notebook=notebook.name)
    try:
        data = notebook.read_bytes()
    except OSError as error:
        result.error = f"{notebook.name} could not be read ({type(error).__name__}: {_short(str(error))}): not graded."
        return result
    refused = refusal_of(data, notebook.name)
    if refused:
        result.error = refused
        return result
    submitted = read_notebook(data)
    result.submission = hashlib.sha256(data).hexdigest()
    stopped: dict[str, str] = {}
    try:
        for _ in range(len(QUESTIONS) + 1):
            outcome = _autograde_once(submitted, timeout, hidden, spare)
            if outcome.dead_kernel is None:
                break
            # A cell stopped the kernel (os._exit, a crash, memory exhausted): disable it (an answer then
            # scores 0) and grade the rest.
            disabled = _disable_killer(submitted, outcome.dead_kernel)
            if disabled is None or disabled in stopped:
                result.error = "the grading kernel died and the cause could not be isolated:\n" + outcome.log
                return result
            stopped[disabled] = "it kept running after it was interrupted" if STUCK_KERNEL in outcome.log \
                else "the kernel died"
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
                              "Remove whatever exits, uses up the memory or catches every exception (a bare "
                              "except: also catches the interrupt that stops an endless loop), save, and grade again.")
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


def _autograde_once(submitted: Any, timeout: int | None, hidden: Sequence[Path] = (), spare: bool = False) -> _Autograded:
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

            from apicourse.grading.preprocessors import harden

            original = Execute.preprocess_cell

            def tracking(self: Any, cell: Any, resources: Any, index: int) -> Any:
                running.append(cell)
                return original(self, cell, resources, index)

            Execute.preprocess_cell = tracking  # type: ignore[method-assign]
            try:
                config = harden(course_config(root, timeout=timeout), sandbox=sandbox_status().available,
                                hidden=[root, *protected_paths(), *hidden], spare=spare)
                return NbGraderAPI(config=config).autograde(ASSIGNMENT, "learner")
            finally:
                Execute.preprocess_cell = original  # type: ignore[method-assign]

        outcome = _in_worker_thread(autograde)
        if not outcome.get("success"):
            log = _tail(outcome)
            if "DeadKernelError" in (outcome.get("error") or "") + (outcome.get("log") or "") and running:
                return _Autograded(dead_kernel=running[-1], log=log)
            busy = "GraderBusy: " in log and log.split("GraderBusy: ", 1)[1].strip().splitlines()[0]
            if busy:  # no grading slot came free (apicourse.grading.slots): the sentence alone says it all
                return _Autograded(error=busy, log=log)
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
    result = grade_notebook(path, timeout=timeout, spare=True)
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
