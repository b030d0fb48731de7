"""The instructor's class command (``python -m apicourse.grading grade-class``): nbgrader autograde over
every submission, each new one recorded in the ledger, grades exported as CSV."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.nbgrader_run import (
    _Env,
    _in_worker_thread,
    _scores,
    _tail,
    _with_venv_on_path,
    one_engine_per_database,
)
from apicourse.grading.class_export import class_rows, write_grades_csv
from apicourse.grading.every_submission import Earlier, course_here, grade_earlier_submissions, submitted_at
from apicourse.grading.exchange import submission_digest
from apicourse.grading.lms import write_lms_file
from apicourse.grading.questions import ASSIGNMENT, _looks_like_quiz
from apicourse.grading.report import _num
from apicourse.grading.self_grading import grade_notebook
from apicourse.grading.submissions import refusal_of

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
    sandbox: str = ""
    """One sentence: whether submissions ran sandboxed, and if not why."""
    refused: dict[str, str] = field(default_factory=dict)
    """Students whose file could not be graded, with the one-sentence reason."""
    kept: int = 0
    """Attempts the ledger could not take, kept pending (added when it works again)."""
    tampered: list[str] = field(default_factory=list)
    """What changed that the grader trusts (then nothing was recorded)."""
    course: Path | None = None
    earlier: int = 0
    """Earlier submissions (from the exchange's ``inbound/``) graded in this run."""
    lms_files: list[Path] = field(default_factory=list)
    unchanged: int = 0
    """Submissions graded and recorded by an earlier run, unchanged since: not run again (their grades kept)."""

    def __repr__(self) -> str:
        lines = [f"Course graded: {self.course}"] if self.course else []
        lines += [f"{student}: {_num(score)}/{_num(self.max_score)}" for student, score in sorted(self.scores.items())]
        lines += [f"{student}: {why}" for student, why in sorted(self.refused.items())]
        earlier = f" (and {self.earlier} earlier one(s) from the exchange)" if self.earlier else ""
        if self.unchanged:
            earlier += f", {self.unchanged} of them unchanged since the last run (kept, not run again)"
        lines.append(
            f"{len(self.scores)} submission(s) graded{earlier} in {self.seconds:.1f} s, {self.recorded} new "
            f"attempt(s) recorded; CSV: {self.csv_path}" + ("; feedback generated" if self.feedback else "")
        )
        lines += [f"LMS gradebook: {path}" for path in self.lms_files]
        if self.kept:
            lines.append(f"{self.kept} attempt(s) kept pending: the ledger could not take them (see below); they are "
                         "added when it works again")
        if self.sandbox:
            lines.append(f"sandbox: {self.sandbox}")
        lines += [f"TAMPERING: {t}; nothing was recorded" for t in self.tampered]
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


def _autograde_in_parallel(course: Path, students: list[str], workers: int, timeout: int | None,
                           hidden: Sequence[Path] | None = None) -> dict[str, Any]:
    """Autograde ``students`` in ``workers`` processes (one nbgrader run each, over its share); with
    ``hidden`` (a list, maybe empty) their kernels run sandboxed, those paths masked.

    The workers are forked from this process, which has imported nbgrader already (and IPython, for
    :class:`~apicourse.grading.answer_check.AnswerCheck`): a worker started as a new Python would spend two
    CPU-seconds importing them again."""
    import multiprocessing
    import tempfile

    import IPython.core.inputtransformer2  # noqa: F401 - AnswerCheck's: imported once here, not in each worker

    shares = [students[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="apicourse-workers-") as folder:
        logs = [Path(folder) / f"worker-{i}.log" for i in range(workers)]
        runs = [context.Process(target=_worker, args=(course, share, timeout, hidden, log), daemon=True)
                for share, log in zip(shares, logs)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        text = "\n".join(log.read_text(errors="replace") if log.exists() else "" for log in logs)
    return {"success": all(run.exitcode == 0 for run in runs), "log": text}


def _worker(course: Path, students: Sequence[str], timeout: int | None, hidden: Sequence[Path] | None,
            log: Path) -> None:
    """One forked worker: its output (nbgrader's log) goes to ``log``, its exit status says if all went well."""
    with log.open("w") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        os.environ.update(_with_venv_on_path())  # nbgrader runs alembic when it creates a gradebook
        try:
            code = _autograde_share(course, students, timeout, hidden)
        except Exception:  # noqa: BLE001 - reported as nbgrader's own errors are: in the log
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            from apicourse.grading.zygote_kernel import stop_shared

            stop_shared()  # a forked process ends without atexit: stop the worker's sandbox and remove its folder
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)


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


def _autograde(config: Any, course: Path, students: list[str], workers: int | None, timeout: int | None,
               hidden: Sequence[Path] | None, problems: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """nbgrader autograde over ``students`` (in ``workers`` processes; default two per CPU core, at least 8
    notebooks each), each failure retried alone (:func:`_retry_alone`); returns the outcome and who failed twice."""
    from nbgrader.apps import NbGraderAPI

    if workers is None:
        workers = min(2 * (os.cpu_count() or 1), len(students) // 8 or 1)
    workers = max(1, min(workers, len(students) or 1))
    if workers > 1:  # nbgrader grades one notebook at a time: share the class among processes
        outcome = _autograde_in_parallel(course, students, workers, timeout, hidden)
    else:
        outcome = _in_worker_thread(lambda: NbGraderAPI(config=config).autograde(ASSIGNMENT, "*"))
    failed: dict[str, str] = {}
    if not outcome.get("success"):
        outcome, failed = _retry_alone(config, course, students, outcome, problems)
    _remember_graded(course, [s for s in students if s not in failed])
    return outcome, failed


def _class_config(course: Path, timeout: int | None, hidden: Sequence[Path] | None, db_url: str | None = None) -> Any:
    """The course's own nbgrader configuration, hardened (:func:`~apicourse.grading.preprocessors.harden`);
    sandboxed unless ``hidden`` is None, each kernel then forked from one zygote per process
    (:mod:`~apicourse.grading.zygote_kernel`: a worker grades one notebook after another)."""
    from traitlets.config.loader import PyFileConfigLoader

    from apicourse.grading.preprocessors import harden

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    if db_url:
        config.CourseDirectory.db_url = db_url
    config.NbGraderAPI.log_level = "ERROR"
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    return harden(config, sandbox=hidden is not None, hidden=hidden or (), forked=hidden is not None)


def _autograde_share(course: Path, students: Sequence[str], timeout: int | None,
                     hidden: Sequence[Path] | None = None) -> int:
    """One worker of :func:`_autograde_in_parallel`: nbgrader autograde over these students only (its log
    printed)."""
    from nbgrader.apps import NbGraderAPI

    # several processes write one SQLite gradebook: wait for each other instead of failing at once
    config = _class_config(course, timeout, hidden, f"sqlite:///{course / 'gradebook.db'}?timeout=120")
    mine = set(students)
    others = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}") if p.parent.name not in mine)
    config.CourseDirectory.student_id_exclude = ",".join(others)
    with one_engine_per_database():
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
    require_sandbox: bool = False,
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
    Running it again on unchanged submissions records nothing new and runs none of them again (``unchanged``).
    ``workers`` nbgrader processes share the class (default: two per CPU core, at least 8 notebooks each:
    a worker waits while its kernel runs the cells, so two per core keep the CPUs busy).
    A notebook nbgrader could not grade gets one more run, alone; if that fails too it is graded by
    :func:`grade_notebook` (no gradebook entry, no feedback file). ``problems`` names each such student.

    Each submission runs in the sandbox (:mod:`apicourse.grading.sandbox`) where the machine allows it;
    ``require_sandbox`` refuses to grade where it does not. A file that is not this quiz's notebook is refused
    in a sentence (``refused``). If anything the grader trusts changed while submissions ran
    (:mod:`apicourse.grading.integrity`) nothing is recorded (``tampered``). An attempt the ledger cannot
    take is kept pending and added when it works again (``kept``).
    """
    from nbgrader.apps import NbGraderAPI

    from apicourse.grading.integrity import changes, fingerprint, poisoned_tests
    from apicourse.grading.sandbox import protected_paths, sandbox_status
    from apicourse.ledger import Ledger

    started = time.perf_counter()
    course = course_here(course).resolve()
    if ledger is None:
        ledger = os.environ.get("APICOURSE_INSTRUCTOR_LEDGER_URL") or f"sqlite:///{course / 'attempts.db'}"
    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    csv_file = Path(csv_path) if csv_path else course / "grades.csv"
    status = sandbox_status()
    sandbox = ("Submissions ran sandboxed (bubblewrap: no network, no course files, a throw-away folder)."
               if status.available else f"Submissions ran WITHOUT the sandbox: {status.reason}")

    def report(scores: dict[str, float] | None = None, **more: Any) -> ClassReport:
        return ClassReport(scores or {}, more.pop("max_score", 10.0), csv_file, more.pop("recorded", 0),
                           more.pop("feedback", False), problems, time.perf_counter() - started, sandbox,
                           refused, course=course, earlier=earlier.graded, **more)

    problems: list[str] = []
    refused: dict[str, str] = {}
    earlier = Earlier()
    if require_sandbox and not status.available:
        sandbox = f"Not graded: --require-sandbox, and the sandbox is unavailable: {status.reason}"
        return report()
    if every_submission:  # before the tamper check's first look: these record attempts of their own
        earlier = grade_earlier_submissions(course, book, timeout=timeout, workers=workers,
                                            require_sandbox=require_sandbox)
        problems += earlier.problems
    hidden = [*protected_paths(course, book.url), *(p for p in [book.pending_file] if p)] if status.available else None
    config = _class_config(course, timeout, hidden)
    problems += _fix_renamed_submissions(course)
    submitted = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}") if p.is_dir())
    for student in submitted:
        nb_file = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        why = refusal_of(nb_file.read_bytes(), nb_file.name) if nb_file.is_file() else \
            f"no {ASSIGNMENT}.ipynb in the submission folder: not graded."
        if why:
            refused[student] = why
    students = [s for s in submitted if s not in refused]
    config.CourseDirectory.student_id_exclude = ",".join(refused)

    def prepare() -> dict[str, Any]:
        with _Env(**_with_venv_on_path()):
            if not _course_gradebook_ready(course, config):
                return NbGraderAPI(config=config).generate_assignment(ASSIGNMENT)
        return {"success": True}

    outcome = _in_worker_thread(prepare)
    db_url = config.CourseDirectory.db_url
    before: dict[str, str] = {}
    if outcome.get("success"):
        poisoned = poisoned_tests(course, db_url)
        if poisoned:
            problems.append(f"nbgrader: not graded: {poisoned}")
            return report()
        before = fingerprint(course, db_url, book)
    unchanged = _unchanged_since_last_run(book, course, students, db_url) if outcome.get("success") else []
    to_grade = [s for s in students if s not in unchanged]
    config.CourseDirectory.student_id_exclude = ",".join([*refused, *unchanged])
    failed: dict[str, str] = {}  # student -> why nbgrader could not grade the notebook, twice
    if outcome.get("success") and to_grade:
        outcome, failed = _autograde(config, course, to_grade, workers, timeout, hidden, problems)
    if not outcome.get("success"):
        problems.append("nbgrader: " + _tail(outcome))
        return report()
    points = _points(course, students, failed, db_url, timeout, hidden, problems)
    tampered = changes(before, fingerprint(course, db_url, book))
    scores = {student: sum(p for p, _ in cells.values()) for student, cells in points.items()}
    max_score = max((sum(m for _, m in cells.values()) for cells in points.values()), default=10.0)
    if tampered:
        return report(scores, max_score=max_score, tampered=tampered)
    made_feedback = False
    if feedback and students:
        fb = _in_worker_thread(lambda: NbGraderAPI(config=config).generate_feedback(ASSIGNMENT, "*"))
        made_feedback = bool(fb.get("success"))
        if not made_feedback:
            problems.append("feedback: " + _tail(fb, 4))
    for student in [s for s in points if _digest(course, s) in earlier.refused]:
        # nbgrader collected a copy another user submitted under this name: never recorded
        problems.append(f"{student}: the collected submission was made by another user; not recorded")
        del points[student], scores[student]
    recorded, kept = _record(book, course, points, problems)
    from apicourse.ledger import LedgerError

    lms_files: list[Path] = []
    try:
        rows = class_rows(book, ASSIGNMENT)  # only what grade-class itself recorded
        write_grades_csv(rows, csv_file)
        lms_files = [write_lms_file(name, rows, ASSIGNMENT, csv_file.parent) for name in lms]
    except LedgerError as error:
        problems.append(f"CSV not written: {error}")
    return report(scores, max_score=max_score, recorded=recorded + earlier.recorded, feedback=made_feedback,
                  kept=kept, lms_files=lms_files, unchanged=len(unchanged))


_GRADED_FROM = Path("autograded") / ".apicourse-graded-from.json"
"""Which submission (digest) each student's ``autograded/`` copy was made from (not a student folder: nbgrader
looks for ``autograded/<student>/<assignment>/``)."""


def _remember_graded(course: Path, students: Sequence[str]) -> None:
    """Note the submission each of ``students``' autograded copy was just made from."""
    import json

    known = _graded_from(course)
    for student in students:
        if (course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file():
            known[student] = _digest(course, student)
    (course / _GRADED_FROM).parent.mkdir(exist_ok=True)
    (course / _GRADED_FROM).write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")


def _graded_from(course: Path) -> dict[str, str]:
    import json

    try:
        known = json.loads((course / _GRADED_FROM).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(known, dict) else {}


def _unchanged_since_last_run(book: Ledger, course: Path, students: Sequence[str], db_url: str) -> list[str]:
    """Students whose submission an earlier run autograded into this course (``autograded/`` and the gradebook
    hold it) and recorded in the ledger: running it again would change nothing. Any doubt (another file, a
    ledger that cannot say, an autograded copy or gradebook gone) means grading it again."""
    known = _graded_from(course)
    same = []
    for student in students:
        digest = _digest(course, student)
        if known.get(student) != digest or not (course / "autograded" / student / ASSIGNMENT /
                                                 f"{ASSIGNMENT}.ipynb").is_file():
            continue
        try:
            if book.has_submission(student, ASSIGNMENT, digest, "instructor") and _scores(course, student, db_url):
                same.append(student)
        except Exception:  # noqa: BLE001 - a ledger that cannot say (LedgerError), no gradebook entry: grade it
            continue
    return same


def _digest(course: Path, student: str) -> str:
    """The submission's identity: the same as its copy's in the exchange's ``inbound/``."""
    folder = course / "submitted" / student / ASSIGNMENT
    return submission_digest(folder, folder / f"{ASSIGNMENT}.ipynb")


def _points(course: Path, students: Sequence[str], failed: dict[str, str], db_url: str, timeout: int | None,
            hidden: Sequence[Path] | None, problems: list[str]) -> dict[str, dict[str, tuple[float, float]]]:
    """Points per test cell of each student: from the gradebook, or (for a notebook nbgrader gave up on twice,
    its kernel dying, say) from :func:`grade_notebook`, so the attempt is not lost."""
    points: dict[str, dict[str, tuple[float, float]]] = {}
    for student in [s for s in students if s in failed]:
        nb_file = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        fallback = grade_notebook(nb_file, timeout=timeout, hidden=[course, *(hidden or ())])
        if not fallback.graded:
            problems.append(f"{student}: not graded ({fallback.error})")
            continue
        points[student] = {q.id: (q.points, q.max_points) for q in fallback.questions}
        problems.append(f"{student}: nbgrader could not grade it ({failed[student]}); "
                        f"graded by apicourse.grading instead ({_num(fallback.score)}/{_num(fallback.max_score)}, "
                        "not in the gradebook, no feedback file)")
    with one_engine_per_database():  # one gradebook engine for the whole class, not one per student
        for student in [s for s in students if s not in failed]:
            try:
                points[student] = _scores(course, student, db_url=db_url)
            except Exception as error:  # noqa: BLE001 - a student nbgrader could not grade
                problems.append(f"{student}: not graded ({type(error).__name__}: {error})")
    return {student: points[student] for student in students if student in points}


def _record(book: Ledger, course: Path, points: dict[str, dict[str, tuple[float, float]]],
            problems: list[str]) -> tuple[int, int]:
    """Record each new submission as an attempt; returns (recorded, kept pending). A ledger that cannot be
    read keeps the attempt pending (the ledger adds it, once, when it works again)."""
    from apicourse.ledger import LedgerError, NewAttempt

    recorded = kept = 0
    for student, cells in points.items():
        folder = course / "submitted" / student / ASSIGNMENT
        digest = _digest(course, student)
        attempt = NewAttempt(student, ASSIGNMENT, sum(p for p, _ in cells.values()),
                             sum(m for _, m in cells.values()), source="instructor", submission=digest,
                             details={"cells": {k: v[0] for k, v in cells.items()}, **submitted_at(folder)})
        try:
            try:
                if book.has_submission(student, ASSIGNMENT, digest, "instructor"):
                    continue
            except LedgerError:
                pass  # cannot tell: record() keeps it pending, and the ledger adds it only if it is new
            book.record(attempt)
            recorded += 1
        except LedgerError as error:
            kept += error.pending is not None
            problems.append(f"{student}: {error}")
    return recorded, kept
