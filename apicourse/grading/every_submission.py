"""``grade-class`` grades every submission, not only the latest one nbgrader collected, and grades the course
you stand in.

nbgrader's exchange keeps each timestamped submission in ``inbound/``; ``collect`` copies only the latest into
``submitted/``. :func:`grade_earlier_submissions` grades each submission the ledger does not have yet, exactly
once however often it runs (a submission is known by its digest, :func:`~apicourse.grading.exchange.submission_digest`),
in scratch copies of the course so that the course's own gradebook, ``submitted/`` and feedback keep
nbgrader's meaning (the latest submission).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.class_export import INSTRUCTOR
from apicourse.grading.exchange import Submission, class_submissions, collected_submissions, read_timestamp, rounds
from apicourse.grading.questions import ASSIGNMENT, COURSE

if TYPE_CHECKING:
    from apicourse.ledger import Ledger

CONFIG = "nbgrader_config.py"


def course_here(course: str | Path | None = None, cwd: str | Path | None = None) -> Path:
    """The course ``grade-class`` grades: ``course`` if given; else the folder you stand in when it holds an
    ``nbgrader_config.py`` (as nbgrader's own commands do); else the repository's ``quiz/``.

    >>> import tempfile; here = Path(tempfile.mkdtemp()); _ = (here / "nbgrader_config.py").write_text("")
    >>> course_here(cwd=here) == here.resolve(), course_here("elsewhere", cwd=here).name
    (True, 'elsewhere')
    """
    if course is not None:
        return Path(course).resolve()
    here = Path(cwd or Path.cwd()).resolve()
    return here if (here / CONFIG).is_file() else COURSE.resolve()


def exchange_of(course: Path) -> tuple[str | None, str | None]:
    """The exchange root and course id the course's ``nbgrader_config.py`` sets (None where it sets none)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG, path=str(course)).load_config()
    root = config.Exchange.root if "root" in config.Exchange else None
    course_id = config.CourseDirectory.course_id if "course_id" in config.CourseDirectory else None
    return root, course_id


def submitted_at(folder: Path) -> dict[str, Any]:
    """The ledger detail saying when a submission was made (empty if nbgrader left no timestamp)."""
    moment = read_timestamp(folder)
    return {"submitted_at": moment.isoformat()} if moment else {}


def _scratch_course(course: Path) -> Path:
    """A copy of the course's source and settings, with a gradebook of its own (SQLite, thrown away)."""
    scratch = Path(tempfile.mkdtemp(prefix="apicourse-every-submission-"))
    shutil.copytree(course / "source", scratch / "source")
    config = (course / CONFIG).read_text(encoding="utf-8")
    own_gradebook = f"sqlite:///{scratch / 'gradebook.db'}"
    (scratch / CONFIG).write_text(
        f"{config}\n\n# scratch copy made by apicourse.grading: its own gradebook, never the course's\n"
        f"c.CourseDirectory.root = {str(scratch)!r}\nc.CourseDirectory.db_url = {own_gradebook!r}\n",
        encoding="utf-8")
    return scratch


@dataclass
class Earlier:
    """What :func:`grade_earlier_submissions` did."""

    graded: int = 0
    recorded: int = 0
    problems: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # digests of submissions made under another's name


def grade_earlier_submissions(
    course: Path, book: Ledger, *, timeout: int | None = None, workers: int | None = None,
    require_sandbox: bool = False,
) -> Earlier:
    """Grade and record every submission in the exchange's ``inbound/`` (and ``submitted/``) that the ledger
    has not got from the instructor yet, except the copies now in ``submitted/`` (``grade_class`` grades those
    itself). ``refused`` names what another Unix user made under a student's name: never recorded."""
    from apicourse.grading.class_command import grade_class
    from apicourse.ledger import LedgerError

    exchange_root, course_id = exchange_of(course)
    found = class_submissions(course, ASSIGNMENT, exchange_root=exchange_root, course_id=course_id)
    done = Earlier(problems=found.problems, refused=found.refused)
    current = {s.digest for s in collected_submissions(course, ASSIGNMENT)}

    def recorded_already(sub: Submission) -> bool:
        try:
            return book.has_submission(sub.student, ASSIGNMENT, sub.digest, INSTRUCTOR)
        except LedgerError:  # an unusable ledger: grade it; recording keeps the attempt pending and says why
            return False

    pending = [s for s in found.submissions if s.digest not in current and not recorded_already(s)]
    if not pending:
        return done
    scratch = _scratch_course(course)  # one gradebook for all rounds: generated once, each round replaces
    try:
        for batch in rounds(pending):
            for folder in ("submitted", "autograded"):
                shutil.rmtree(scratch / folder, ignore_errors=True)
            for sub in batch:
                shutil.copytree(sub.folder, scratch / "submitted" / sub.student / ASSIGNMENT)
            report = grade_class(scratch, ledger=book, csv_path=scratch / "grades.csv", feedback=False,
                                 timeout=timeout, workers=workers, every_submission=False,
                                 require_sandbox=require_sandbox)
            done.graded += len(report.scores)
            done.recorded += report.recorded
            done.problems += [f"earlier submission: {p}" for p in report.problems]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return done
