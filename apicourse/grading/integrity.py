"""After submissions ran: did anything the grader trusts change?

``grade-class`` takes a :func:`fingerprint` of what it trusts before nbgrader runs the submissions and another
after; :func:`changes` names each difference in a sentence, and the class command then records nothing.
Sandboxed, a submission cannot reach these; the check is what protects a class where the sandbox is unavailable,
and it catches a gradebook poisoned by an earlier run (:func:`poisoned_tests`)::

    >>> changes({"ledger": "a", "hidden tests": "b"}, {"ledger": "a", "hidden tests": "c"})
    ['the hidden tests in the gradebook changed while submissions ran']
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from apicourse.grading.questions import ASSIGNMENT

if TYPE_CHECKING:
    from apicourse.ledger import Ledger

_WHAT = {
    "hidden tests": "the hidden tests in the gradebook changed while submissions ran",
    "manual grades": "manual scores in the gradebook were set or changed while submissions ran",
    "source": "the instructor's source/ notebook changed while submissions ran",
    "ledger": "the attempts ledger changed while submissions ran (instructor rows the grader did not write)",
}


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _gradebook_state(db_url: str) -> tuple[str, str]:
    from nbgrader.api import Grade, Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            notebook = gradebook.find_notebook(ASSIGNMENT, ASSIGNMENT)
        except MissingEntry:
            return "no assignment", "no assignment"
        cells = [f"{c.name}|{c.locked}|{c.checksum}|{c.source}" for c in notebook.source_cells]
        cells += [f"{c.name}|{c.max_score}" for c in notebook.grade_cells]
        manual = [f"{g.id}|{g.manual_score}|{g.extra_credit}"  # autograde writes neither: only an instructor does
                  for g in gradebook.db.query(Grade).order_by(Grade.id)
                  if g.manual_score is not None or g.extra_credit is not None]
    return _digest(cells), _digest(manual)


def fingerprint(course: Path, db_url: str, ledger: Ledger) -> dict[str, str]:
    """Digests of what the grader trusts: the gradebook's hidden tests, its manual scores, ``source/`` and
    the ledger's instructor rows (``"unreadable"`` if the ledger cannot be read: then it is not compared)."""
    from apicourse.ledger import LedgerError

    tests, manual = _gradebook_state(db_url)
    source = sorted((Path(course) / "source" / ASSIGNMENT).rglob("*"))
    files = [f"{p.name}|{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in source if p.is_file()]
    try:
        rows = ledger.fingerprint(source="instructor")  # learners may self-grade into a shared ledger meanwhile
    except LedgerError:
        rows = "unreadable"
    return {"hidden tests": tests, "manual grades": manual, "source": _digest(files), "ledger": rows}


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One sentence per trusted thing whose fingerprint differs (an unreadable ledger is not compared)."""
    found = []
    for key, value in before.items():
        if key == "ledger" and "unreadable" in (value, after.get(key)):
            continue
        if after.get(key) != value:
            found.append(_WHAT.get(key, f"{key} changed while submissions ran"))
    return found


def poisoned_tests(course: Path, db_url: str) -> str | None:
    """A sentence if a locked cell in the gradebook (a test, a helper) differs from the instructor's
    ``source/`` notebook — a gradebook tampered with before this run; None if they agree."""
    from nbgrader.api import Gradebook, MissingEntry

    source_file = Path(course) / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    try:
        source = nbformat.read(source_file, as_version=4)
    except (OSError, ValueError):
        return None
    cells = {c.metadata["nbgrader"].get("grade_id"): c for c in source.cells
             if isinstance(c.get("metadata", {}).get("nbgrader"), dict)}
    with Gradebook(db_url) as gradebook:
        try:
            stored = gradebook.find_notebook(ASSIGNMENT, ASSIGNMENT)
        except MissingEntry:
            return None
        differ = [c.name for c in stored.source_cells
                  if c.locked and (c.name not in cells or cells[c.name].source != c.source)]
        points = {c.name: float(c.max_score) for c in stored.grade_cells}
    differ += [name for name, value in points.items()
               if name in cells and float(cells[name].metadata["nbgrader"].get("points", 0)) != value]
    if differ:
        return (f"the gradebook's locked cells ({', '.join(sorted(set(differ)))}) differ from source/: it was "
                "tampered with; move gradebook.db aside (grade-class builds it again) and grade again")
    return None
