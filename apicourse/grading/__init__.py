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
``apicourse-total``, ``apicourse-verdict``, ``apicourse-attempt``, ``apicourse-best``, ``apicourse-ledger-error``,
``apicourse-unsandboxed`` (the learner's code ran without the sandbox, and why);
an unsaved notebook gives ``apicourse-unsaved`` and a grading that could not run ``apicourse-error``.

The package's parts: :mod:`~apicourse.grading.questions` (the questions and answer cells),
:mod:`~apicourse.grading.self_grading` (one notebook, the learner's attempt), :mod:`~apicourse.grading.warmup`
(the grader made ready in the background), :mod:`~apicourse.grading.class_command` (``grade-class``),
:mod:`~apicourse.grading.feedback` and :mod:`~apicourse.grading.report` (what a grading shows),
:mod:`~apicourse.grading.certificates` (export) and :mod:`~apicourse.grading.carry_over` (import in a new
session), :mod:`~apicourse.grading.nbgrader_run` (running nbgrader from Python)
and the command line in ``__main__``. The attempts themselves are kept by :mod:`apicourse.ledger`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Imported on first use (PEP 562): the quiz's first cell and every grading kernel
# run ``from apicourse.grading import warm_up``, which must not pay for SQLAlchemy, the ledger or the class
# command (0.6 s and 30 MB measured, once per graded notebook).
_HOME = {
    "CarriedOver": "carry_over", "import_certificate": "carry_over",
    "Certificate": "certificates", "export_certificate": "certificates",
    "ClassReport": "class_command", "_retry_alone": "class_command", "grade_class": "class_command",
    "build_feedback": "feedback",
    "_Env": "nbgrader_run", "_in_worker_thread": "nbgrader_run", "_with_venv_on_path": "nbgrader_run",
    "course_config": "nbgrader_run",
    **dict.fromkeys(["_ANSWER_MARK", "ASSIGNMENT", "CACHE_DIR_VAR", "CONFIG_FILE", "COURSE", "LEARNER_VAR",
                     "PASS_FRACTION", "QUESTIONS", "RELEASE_NOTEBOOK", "SOURCE_NOTEBOOK", "Question",
                     "_answer_cells"], "questions"),
    "GradeResult": "report", "QuestionResult": "report", "result_html": "report",
    **dict.fromkeys(["find_quiz_notebook", "grade_my_quiz", "grade_notebook", "learner_name", "record",
                     "unsaved_answers"], "self_grading"),
    "prepared_course": "warmup", "warm_up": "warmup",
}

if TYPE_CHECKING:
    from apicourse.grading.carry_over import CarriedOver, import_certificate
    from apicourse.grading.certificates import Certificate, export_certificate
    from apicourse.grading.class_command import ClassReport, _retry_alone, grade_class
    from apicourse.grading.feedback import build_feedback
    from apicourse.grading.nbgrader_run import _Env, _in_worker_thread, _with_venv_on_path, course_config
    from apicourse.grading.questions import (
        _ANSWER_MARK,
        ASSIGNMENT,
        CACHE_DIR_VAR,
        CONFIG_FILE,
        COURSE,
        LEARNER_VAR,
        PASS_FRACTION,
        QUESTIONS,
        RELEASE_NOTEBOOK,
        SOURCE_NOTEBOOK,
        Question,
        _answer_cells,
    )
    from apicourse.grading.report import GradeResult, QuestionResult, result_html
    from apicourse.grading.self_grading import (
        find_quiz_notebook,
        grade_my_quiz,
        grade_notebook,
        learner_name,
        record,
        unsaved_answers,
    )
    from apicourse.grading.warmup import prepared_course, warm_up


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'apicourse.grading' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"apicourse.grading.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "ASSIGNMENT",
    "CACHE_DIR_VAR",
    "CONFIG_FILE",
    "COURSE",
    "LEARNER_VAR",
    "PASS_FRACTION",
    "QUESTIONS",
    "RELEASE_NOTEBOOK",
    "SOURCE_NOTEBOOK",
    "_ANSWER_MARK",
    "CarriedOver",
    "Certificate",
    "ClassReport",
    "GradeResult",
    "Question",
    "QuestionResult",
    "_Env",
    "_answer_cells",
    "_in_worker_thread",
    "_retry_alone",
    "_with_venv_on_path",
    "build_feedback",
    "course_config",
    "export_certificate",
    "find_quiz_notebook",
    "grade_class",
    "grade_my_quiz",
    "grade_notebook",
    "import_certificate",
    "learner_name",
    "prepared_course",
    "record",
    "result_html",
    "unsaved_answers",
    "warm_up",
]
