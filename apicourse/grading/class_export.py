"""What the instructor exports: one row per student from the attempts the instructor's own grading produced.

Learners' self-gradings (``source="self"`` in :mod:`apicourse.ledger`) are theirs (their progress, their
certificate) and are never counted here, whatever ledger they were written to. ``grades.csv`` keeps the columns
``student,latest,best,attempts,passed`` and adds ``best_submitted_at``: when the best submission was made
(nbgrader's timestamp, UTC)::

    rows = class_rows(ledger, "module_assessment")
    write_grades_csv(rows, course / "grades.csv")
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.ledger import passed as _passes

if TYPE_CHECKING:
    from apicourse.ledger import Attempt, Ledger

INSTRUCTOR = "instructor"
"""The ledger ``source`` of attempts ``grade-class`` produced (the only ones exported)."""

COLUMNS = ("student", "latest", "best", "attempts", "passed", "best_submitted_at")


@dataclass(frozen=True)
class ClassRow:
    """One student's record in the instructor's export."""

    student: str
    latest: float
    best: float
    max_score: float
    attempts: int
    passed: bool
    best_submitted_at: datetime | None


def _submitted_at(attempt: Attempt) -> datetime:
    """When the graded submission was made (recorded by grade-class), else when it was graded."""
    try:
        stamp = json.loads(attempt.details or "{}").get("submitted_at")
    except (ValueError, AttributeError):
        stamp = None
    moment = datetime.fromisoformat(stamp) if stamp else attempt.graded_at
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def row_of(student: str, attempts: list[Any]) -> ClassRow:
    """A student's row from their instructor-graded attempts: the latest by submission time, the best over all
    (the earliest submission among equal bests).

    >>> from types import SimpleNamespace as A
    >>> when = lambda h: json.dumps({"submitted_at": f"2026-12-02T{h}:00:00+00:00"})
    >>> r = row_of("ada", [A(score=10, max_score=10, details=when("09"), graded_at=None),
    ...                    A(score=4, max_score=10, details=when("10"), graded_at=None),
    ...                    A(score=7, max_score=10, details=when("11"), graded_at=None)])
    >>> (r.latest, r.best, r.attempts, r.passed, r.best_submitted_at.hour)
    (7.0, 10.0, 3, True, 9)
    """
    by_time = sorted(attempts, key=_submitted_at)
    best = max(by_time, key=lambda a: a.score / a.max_score if a.max_score else 0.0)  # max keeps the first
    return ClassRow(student, float(by_time[-1].score), float(best.score), float(best.max_score), len(attempts),
                    _passes(best.score, best.max_score), _submitted_at(best))


def class_rows(ledger: Ledger, assignment: str) -> list[ClassRow]:
    """Every student with an instructor-graded attempt on ``assignment``, sorted by name."""
    return [row_of(student, ledger.attempts(student, assignment, source=INSTRUCTOR))
            for student in ledger.learners(assignment, source=INSTRUCTOR)]


def num(value: float) -> str:
    """A score as the CSV shows it: ``10``, ``7.5``."""
    return f"{value:g}"


def write_grades_csv(rows: list[ClassRow], path: str | Path) -> Path:
    """Write ``student,latest,best,attempts,passed,best_submitted_at`` (ISO 8601, UTC); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for r in rows:
            when = r.best_submitted_at.isoformat(timespec="seconds") if r.best_submitted_at else ""
            writer.writerow([r.student, num(r.latest), num(r.best), r.attempts, r.passed, when])
    return path
