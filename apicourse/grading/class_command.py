"""The instructor's class command (``python -m apicourse.grading grade-class``): nbgrader autograde over
every submission, each new one recorded in the ledger, grades exported as CSV."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.nbgrader_run import _Env, _in_worker_thread, _scores, _tail, _with_venv_on_path
from apicourse.grading.class_export import class_rows, write_grades_csv
from apicourse.grading.every_submission import Earlier, course_here, grade_earlier_submissions, submitted_at
from apicourse.grading.exchange import submission_digest
from apicourse.grading.lms import write_lms_file
from apicourse.grading.questions import ASSIGNMENT, _looks_like_quiz
from apicourse.grading.report import _num
from apicourse.grading.self_grading import grade_notebook

if TYPE_CHECKING:
    from apicourse.ledger import Ledger


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
    course: Path | None = None
    earlier: int = 0  # earlier submissions (from the exchange's inbound/) graded in this run
    lms_files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"Course graded: {self.course}"] if self.course else []
        lines += [f"{student}: {_num(score)}/{_num(self.max_score)}" for student, score in sorted(self.scores.items())]
        earlier = f" (and {self.earlier} earlier one(s) from the exchange)" if self.earlier else ""
        lines.append(
            f"{len(self.scores)} submission(s) graded{earlier} in {self.seconds:.1f} s, {self.recorded} new "
            f"attempt(s) recorded; CSV: {self.csv_path}" + ("; feedback generated" if self.feedback else "")
        )
        lines += [f"LMS gradebook: {path}" for path in self.lms_files]
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
    if str(config.CourseDirectory.db_url or "sqlite").startswith("sqlite"):
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
    course: str | Path | None = None,
    *,
    ledger: Ledger | str | None = None,
    csv_path: str | Path | None = None,
    feedback: bool = True,
    timeout: int | None = None,
    workers: int | None = None,
    lms: Sequence[str] = (),
    every_submission: bool = True,
) -> ClassReport:
    """Autograde every submission in ``<course>/submitted/<student>/module_assessment/`` with nbgrader,
    record each new submission as an attempt, export ``student,latest,best,attempts,passed`` as CSV and
    (by default) generate the feedback HTML (``<course>/feedback/``).

    ``course`` defaults to the folder you stand in if it is an nbgrader course, else ``quiz/``
    (:func:`~apicourse.grading.every_submission.course_here`). With ``every_submission`` each earlier
    submission in the exchange's ``inbound/`` is graded and recorded too, once. The ledger defaults to
    ``$APICOURSE_INSTRUCTOR_LEDGER_URL``, else ``<course>/attempts.db`` (never the learners'
    ``$APICOURSE_LEDGER_URL``); the export counts only attempts grade-class recorded. The CSV goes to
    ``<course>/grades.csv``, and ``lms`` ("canvas", "moodle") adds the gradebook file each LMS imports.
    Running it again on unchanged submissions records nothing new.
    ``workers`` nbgrader processes share the class (default: two per CPU core, at least 8 notebooks each:
    a worker spends much of its time waiting for its kernels to start, so two per core keep the CPUs busy).
    A notebook nbgrader could not grade gets one more run, alone; if that fails too it is graded by
    :func:`grade_notebook` (no gradebook entry, no feedback file). ``problems`` names each such student.
    """
    from nbgrader.apps import NbGraderAPI

    from apicourse.ledger import Ledger, LedgerError, NewAttempt

    started = time.perf_counter()
    course = course_here(course)
    if ledger is None:
        ledger = os.environ.get("APICOURSE_INSTRUCTOR_LEDGER_URL") or f"sqlite:///{course / 'attempts.db'}"
    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    earlier = grade_earlier_submissions(course, book, timeout=timeout, workers=workers) if every_submission \
        else Earlier()
    csv_file = Path(csv_path) if csv_path else course / "grades.csv"
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.NbGraderAPI.log_level = "ERROR"
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    problems = earlier.problems + _fix_renamed_submissions(course)
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
    recorded = earlier.recorded
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
        digest = submission_digest(nb_file.parent, nb_file)  # the same as its copy in the exchange's inbound/
        if digest in earlier.refused:  # nbgrader collected a copy another user submitted under this name
            problems.append(f"{student}: the collected submission was made by another user; not recorded")
            continue
        scores[student] = score
        try:
            if book.has_submission(student, ASSIGNMENT, digest, "instructor"):
                continue
            book.record(NewAttempt(student, ASSIGNMENT, score, max_score, source="instructor", submission=digest,
                                   details={"cells": {k: v[0] for k, v in points.items()},
                                            **submitted_at(nb_file.parent)}))
            recorded += 1
        except LedgerError as error:
            problems.append(f"{student}: {error}")
    lms_files: list[Path] = []
    try:
        rows = class_rows(book, ASSIGNMENT)  # only what grade-class itself recorded
        write_grades_csv(rows, csv_file)
        lms_files = [write_lms_file(name, rows, ASSIGNMENT, csv_file.parent) for name in lms]
    except LedgerError as error:
        problems.append(f"CSV not written: {error}")
    return ClassReport(scores, max_score, csv_file, recorded, feedback and not any(p.startswith("feedback")
                       for p in problems), problems, time.perf_counter() - started, course, earlier.graded,
                       lms_files)
