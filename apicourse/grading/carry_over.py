"""Bring your best score back: import a ``certificate.json`` you exported into this session's ledger.

On Binder the container, ledger included, is deleted when the session ends, so a learner who comes back
starts with an empty ledger. Upload the ``certificate.json`` that :func:`export_certificate` wrote last
time (drag it into the file browser, next to the quiz), then::

    from apicourse.grading import import_certificate
    import_certificate()                 # reads certificate.json next to the notebook

The record comes back as one attempt marked ``imported`` (:data:`apicourse.ledger.IMPORTED`), dated when
that best was graded. It never lowers a best: a certificate no better than the best already here is not
imported. A file that is damaged or was changed after export (its checksum does not match), or that
belongs to another course, assignment or learner, is refused with a sentence saying why.

**It proves nothing to an instructor.** The file is self-reported: its checksum only shows that it is
whole, and anyone can write one. Instructors grade submissions (``grade-class``), and the instructor's
CSV leaves imported records out.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.questions import ASSIGNMENT, LEARNER_VAR
from apicourse.grading.report import _num
from apicourse.grading.self_grading import learner_name

if TYPE_CHECKING:
    from apicourse.ledger import Ledger, Standing

COURSE_NAME = "Working with APIs"
"""The ``course`` field of this course's certificates."""

SELF_REPORTED = (
    "An imported record is self-reported: it proves nothing to an instructor, who grades submitted "
    "notebooks, not certificates."
)

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "course": str,
    "assignment": str,
    "learner": str,
    "best_score": (int, float),
    "max_score": (int, float),
    "best_at": str,
    "attempts": int,
    "checksum": str,
}


class CertificateRefused(ValueError):
    """The file is not a certificate of this course's quiz for this learner, or it is damaged."""


@dataclass
class CarriedOver:
    """What :func:`import_certificate` did: ``imported`` or not, why, and the standing afterwards."""

    imported: bool
    message: str
    standing: Standing | None = None
    refused: bool = False

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        kind = "apicourse-refused" if self.refused else ("apicourse-imported" if self.imported else "apicourse-kept")
        return (
            f'<div class="apicourse-carry-over {kind}" data-imported="{str(self.imported).lower()}">'
            f"{html.escape(self.message)}<br><small>{html.escape(SELF_REPORTED)}</small></div>"
        )


def read_certificate(path: Path) -> dict[str, Any]:
    """The record in a ``certificate.json``, checked whole and of this course's quiz.

    Raises :class:`CertificateRefused` with a sentence saying what is wrong.
    """
    name = path.name
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CertificateRefused(
            f"There is no {name} in {path.parent}: upload the certificate.json you exported last time "
            "(drag it into the file browser, next to this notebook) and run this again."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CertificateRefused(f"{name} is not a certificate: it is not readable JSON ({error}).") from None
    if not isinstance(record, dict):
        raise CertificateRefused(f"{name} is not a certificate: it holds no record.")
    missing = [key for key, kind in _REQUIRED.items() if not isinstance(record.get(key), kind)]
    if missing:
        raise CertificateRefused(f"{name} is not a whole certificate: {', '.join(missing)} missing or wrong.")
    from apicourse.ledger import certificate_checksum  # here: the ledger brings SQLAlchemy (~17 MB)

    if record["checksum"] != certificate_checksum(record):
        raise CertificateRefused(
            f"{name} was changed or damaged after it was exported (its checksum does not match): nothing imported."
        )
    if record["course"] != COURSE_NAME or record["assignment"] != ASSIGNMENT:
        raise CertificateRefused(
            f"{name} is a certificate of {record['course']!r} / {record['assignment']!r}, not of this course's "
            f"{ASSIGNMENT}: nothing imported."
        )
    if not 0 <= record["best_score"] <= record["max_score"] or record["max_score"] <= 0:
        raise CertificateRefused(f"{name} has an impossible score: nothing imported.")
    try:
        datetime.fromisoformat(record["best_at"])
    except ValueError:
        raise CertificateRefused(f"{name} has no readable date of its best attempt: nothing imported.") from None
    return record


def import_certificate(
    path: str | Path = "certificate.json", *, ledger: Ledger | str | None = None, learner: str | None = None
) -> CarriedOver:
    """Import the best score of an exported ``certificate.json`` into the ledger (see the module's docstring).

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> import_certificate(folder / "certificate.json", ledger=f"sqlite:///{folder / 'l.db'}").imported
    False
    """
    who = learner or learner_name()
    try:
        record = read_certificate(Path(path))
    except CertificateRefused as refused:
        return CarriedOver(False, str(refused), refused=True)
    # only now: the ledger brings SQLAlchemy (about 17 MB), and the quiz runs this cell with no certificate
    # to import in most sessions, its kernel then open next to every lesson
    from apicourse.ledger import IMPORTED, Ledger, LedgerError, NewAttempt

    if record["learner"] != who:
        return CarriedOver(
            False,
            f"This certificate is {record['learner']}'s, and you are grading as {who}: nothing imported. If it is "
            f"yours, set {LEARNER_VAR}={record['learner']} (in .env or the environment) and grade under that name.",
            refused=True,
        )
    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    best, top = record["best_score"], record["max_score"]
    try:
        if book.has_submission(who, ASSIGNMENT, record["checksum"], IMPORTED):
            return CarriedOver(False, "This certificate was imported already.", book.standing(who, ASSIGNMENT))
        before = book.standing(who, ASSIGNMENT)
        if before.best_score is not None and before.best_score / (before.max_score or 1) >= best / top:
            return CarriedOver(
                False,
                f"Your best here, {_num(before.best_score)}/{_num(before.max_score)}, is already at least the "
                f"certificate's {_num(best)}/{_num(top)}: nothing imported.",
                before,
            )
        attempt = NewAttempt(
            learner=who,
            assignment=ASSIGNMENT,
            score=best,
            max_score=top,
            source=IMPORTED,
            submission=record["checksum"],
            details={"self_reported": True, "certificate": record},
            graded_at=datetime.fromisoformat(record["best_at"]).astimezone(UTC),
        )
        standing = book.record(attempt)
    except LedgerError as error:
        return CarriedOver(False, f"Not imported: {error}", refused=True)
    return CarriedOver(
        True,
        f"Imported your best score {_num(best)}/{_num(top)} (graded {record['best_at'][:10]}, "
        f"{record['attempts']} attempt(s) then) as a self-reported record. Your best is now "
        f"{_num(standing.best_score)}/{_num(standing.max_score)}; a better attempt here will replace it.",
        standing,
    )
