"""Every submission a class made, from nbgrader's exchange: each timestamped copy in ``inbound/``, not only the
latest one ``nbgrader collect`` keeps.

nbgrader's ``submit`` writes ``<exchange>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/``
and keeps every submission; ``collect`` copies only each student's latest into
``<course>/submitted/<student>/<assignment>/`` (nbgrader 0.9.6, ``exchange/default/submit.py`` and
``collect.py``). :func:`class_submissions` lists both, each submission once (its :attr:`Submission.digest` is
the same whether it is read from ``inbound/`` or from its collected copy), oldest first::

    found = class_submissions(course, "module_assessment", exchange_root="/srv/nbgrader/exchange",
                              course_id="working-with-apis")
    for batch in rounds(found.submissions):     # at most one submission per student in each batch
        ...

On a machine where each learner is a Unix user, a folder in ``inbound/`` that another user made (or a notebook
another user put into it) is not graded as that student's: nbgrader trusts the folder name, this does not
(:attr:`Found.refused` also names the copy ``nbgrader collect`` may have made of it in ``submitted/``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

try:
    import pwd
except ImportError:  # pragma: no cover - Windows
    pwd = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Submission:
    """One submission of one student: where it is, when it was submitted, and its fingerprint."""

    student: str
    assignment: str
    folder: Path
    notebook: Path
    submitted_at: datetime | None
    digest: str
    origin: str  # "inbound" or "submitted"


@dataclass
class Found:
    """The submissions found, the lines saying what was refused, and the refused submissions' digests."""

    submissions: list[Submission] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)


def submission_digest(folder: Path, notebook: Path) -> str:
    """The fingerprint of a submission: its notebook's bytes and nbgrader's ``timestamp.txt``.

    ``nbgrader collect`` copies both unchanged, so a submission read from ``inbound/`` and its collected copy
    in ``submitted/`` have the same digest (and are graded once).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "a.ipynb").write_text("{}"); (d / "timestamp.txt").write_text("t")
    2
    1
    >>> len(submission_digest(d, d / "a.ipynb"))
    64
    """
    stamp = folder / "timestamp.txt"
    data = (notebook.read_bytes() if notebook.exists() else b"") + (stamp.read_bytes() if stamp.exists() else b"")
    return hashlib.sha256(data).hexdigest()


def read_timestamp(folder: Path) -> datetime | None:
    """When nbgrader says the submission was made (``timestamp.txt``), in UTC; None if absent or unreadable.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "timestamp.txt").write_text("2026-12-02 10:00:00.123456 UTC")
    >>> read_timestamp(d).isoformat()
    '2026-12-02T10:00:00.123456+00:00'
    """
    from nbgrader.utils import parse_utc

    try:
        moment = parse_utc((folder / "timestamp.txt").read_text(encoding="utf-8").strip())
    except (OSError, ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _notebook_in(folder: Path, assignment: str) -> Path | None:
    expected = folder / f"{assignment}.ipynb"
    if expected.exists():
        return expected
    others = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime)
    return others[-1] if others else None


def _owner(path: Path) -> tuple[int, str | None]:
    uid = path.lstat().st_uid
    if pwd is None:
        return uid, None
    try:
        return uid, pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid, None


def forged(folder: Path, notebook: Path, student: str) -> str | None:
    """Why ``folder`` is not really ``student``'s submission, or None if it may be.

    Where each learner is a Unix user, nbgrader's ``submit`` runs as the learner, so the folder and the
    notebook belong to them. Anything made by another user (not the grader itself, who may copy submissions
    around) is refused. Where everyone is one account (a Kubernetes hub, a laptop) ownership cannot tell.
    """
    me = os.getuid() if hasattr(os, "getuid") else None
    for path in (folder, notebook):
        uid, name = _owner(path)
        if uid != me and name != student:
            return f"{path.name} belongs to Unix user {name or uid}, not {student}"
    return None


def inbound_submissions(exchange_root: str | Path, course_id: str, assignment: str) -> Found:
    """Every submission of ``assignment`` in the exchange's ``inbound/``, and what was refused."""
    inbound = Path(exchange_root) / course_id / "inbound"
    found = Found()
    try:
        entries = sorted(inbound.iterdir())
    except FileNotFoundError:
        return found
    except PermissionError:
        found.problems.append(f"inbound {inbound} cannot be listed by this account: only collected submissions graded")
        return found
    for folder in entries:
        parts = folder.name.rsplit("+", 3)  # as nbgrader's collect: user names may hold "+"
        if len(parts) < 3 or parts[1] != assignment or not folder.is_dir():
            continue
        student = parts[0]
        notebook = _notebook_in(folder, assignment)
        if notebook is None:
            found.problems.append(f"{student}: inbound {folder.name} holds no notebook")
            continue
        digest = submission_digest(folder, notebook)
        why = forged(folder, notebook, student)
        if why:
            found.problems.append(f"{student}: inbound {folder.name} not graded ({why})")
            found.refused.add(digest)
            continue
        found.submissions.append(Submission(student, assignment, folder, notebook, read_timestamp(folder), digest,
                                            "inbound"))
    return found


def collected_submissions(course: str | Path, assignment: str) -> list[Submission]:
    """The copies in ``<course>/submitted/<student>/<assignment>/`` (nbgrader's collect, or placed by hand)."""
    found = []
    for folder in sorted(Path(course, "submitted").glob(f"*/{assignment}")):
        notebook = _notebook_in(folder, assignment) if folder.is_dir() else None
        if notebook is not None:
            found.append(Submission(folder.parent.name, assignment, folder, notebook, read_timestamp(folder),
                                    submission_digest(folder, notebook), "submitted"))
    return found


def class_submissions(
    course: str | Path, assignment: str, *, exchange_root: str | Path | None, course_id: str | None
) -> Found:
    """Every distinct submission in ``inbound/`` and ``submitted/`` (oldest first) but the refused ones."""
    found = inbound_submissions(exchange_root, course_id, assignment) if exchange_root and course_id else Found()
    seen = found.refused | {s.digest for s in found.submissions}
    found.submissions += [s for s in collected_submissions(course, assignment) if s.digest not in seen]
    oldest = datetime.min.replace(tzinfo=UTC)
    found.submissions.sort(key=lambda s: (s.submitted_at or oldest, s.student))
    return found


def rounds(submissions: Iterable[Submission]) -> list[list[Submission]]:
    """Batches holding at most one submission per student, each student's in submission order.

    nbgrader's gradebook holds one submission per student and assignment, so each batch is graded on its own.

    >>> s = lambda who, n: Submission(who, "a", Path(n), Path(n), None, n, "inbound")
    >>> [[x.digest for x in r] for r in rounds([s("ada", "1"), s("bob", "2"), s("ada", "3")])]
    [['1', '2'], ['3']]
    """
    batches: list[list[Submission]] = []
    count: dict[str, int] = {}
    for sub in submissions:
        n = count.get(sub.student, 0)
        count[sub.student] = n + 1
        if n == len(batches):
            batches.append([])
        batches[n].append(sub)
    return batches
