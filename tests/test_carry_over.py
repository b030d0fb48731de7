"""A learner's best score comes back in a new session: export a certificate, import it into a fresh ledger.

Each session is a ledger of its own (a SQLite file), as on Binder where the container and its ledger are
deleted when the session ends. The certificates are written by the course's own ``export_certificate``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from apicourse.grading import ASSIGNMENT, RELEASE_NOTEBOOK, export_certificate, import_certificate
from apicourse.ledger import IMPORTED, Ledger, NewAttempt, certificate_checksum
from notebooks import execute_notebook


def _session(tmp_path: Path, name: str, *scores: float) -> Ledger:
    """A session's ledger holding graded attempts with ``scores`` out of 10 (oldest first)."""
    book = Ledger(f"sqlite:///{tmp_path / f'{name}.db'}")
    for day, score in enumerate(scores, start=1):
        book.record(NewAttempt("ada", ASSIGNMENT, score, 10, graded_at=datetime(2026, 11, day, tzinfo=UTC)))
    return book


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """Yesterday's session: three attempts, the best 8/10; its certificate, exported."""
    exported = export_certificate(tmp_path / "yesterday", ledger=_session(tmp_path, "yesterday", 5, 8, 6), learner="ada")
    assert exported.error is None and exported.json_path is not None
    return exported.json_path


def _rewrite(path: Path, **changes: object) -> dict:
    record = {**json.loads(path.read_text(encoding="utf-8")), **changes}
    path.write_text(json.dumps(record), encoding="utf-8")
    return record


def test_the_best_score_comes_back_in_a_new_session(certificate: Path, tmp_path: Path) -> None:
    today = _session(tmp_path, "today")
    outcome = import_certificate(certificate, ledger=today, learner="ada")
    assert outcome.imported, outcome.message
    standing = today.standing("ada", ASSIGNMENT)
    assert (standing.best_score, standing.max_score, standing.passed) == (8, 10, True)
    [row] = today.attempts("ada", ASSIGNMENT)
    assert row.source == IMPORTED and json.loads(row.details)["self_reported"] is True
    assert row.graded_at == datetime(2026, 11, 2), "dated when that best was graded, not today"
    assert "self-reported" in outcome.message and "proves nothing" in outcome._repr_html_()
    # a better attempt today replaces it; a worse one does not lower it
    today.record(NewAttempt("ada", ASSIGNMENT, 6, 10))
    assert today.standing("ada", ASSIGNMENT).best_score == 8


def test_an_import_never_lowers_a_best_and_counts_once(certificate: Path, tmp_path: Path) -> None:
    today = _session(tmp_path, "today", 9)
    outcome = import_certificate(certificate, ledger=today, learner="ada")
    assert not outcome.imported and "already at least" in outcome.message
    assert today.standing("ada", ASSIGNMENT).attempts == 1

    fresh = _session(tmp_path, "fresh")
    assert import_certificate(certificate, ledger=fresh, learner="ada").imported
    again = import_certificate(certificate, ledger=fresh, learner="ada")
    assert not again.imported and "imported already" in again.message
    assert fresh.standing("ada", ASSIGNMENT).attempts == 1


def test_an_edited_certificate_is_refused(certificate: Path, tmp_path: Path) -> None:
    _rewrite(certificate, best_score=10, percent=100.0)
    outcome = import_certificate(certificate, ledger=_session(tmp_path, "today"), learner="ada")
    assert outcome.refused and not outcome.imported
    assert "changed or damaged after it was exported" in outcome.message


@pytest.mark.parametrize(
    "damage, sentence",
    [
        (lambda p: p.write_text(p.read_text()[:40], encoding="utf-8"), "not readable JSON"),
        (lambda p: p.write_text("[]", encoding="utf-8"), "holds no record"),
        (lambda p: _rewrite(p, best_score="eight"), "best_score missing or wrong"),
        (lambda p: p.unlink(), "There is no certificate.json"),
    ],
    ids=["truncated", "not-a-record", "wrong-type", "missing"],
)
def test_a_damaged_or_missing_file_is_refused_with_a_sentence(certificate: Path, tmp_path: Path, damage, sentence) -> None:
    damage(certificate)
    outcome = import_certificate(certificate, ledger=_session(tmp_path, "today"), learner="ada")
    assert outcome.refused and sentence in outcome.message, outcome.message


@pytest.mark.parametrize(
    "field, value, sentence",
    [
        ("course", "Another course", "not of this course's module_assessment"),
        ("assignment", "final_exam", "not of this course's module_assessment"),
        ("best_score", 12, "impossible score"),
    ],
)
def test_a_foreign_certificate_is_refused_even_with_a_valid_checksum(
    certificate: Path, tmp_path: Path, field: str, value: object, sentence: str
) -> None:
    record = _rewrite(certificate, **{field: value})
    _rewrite(certificate, checksum=certificate_checksum(record))  # whole, just not ours
    today = _session(tmp_path, "today")
    outcome = import_certificate(certificate, ledger=today, learner="ada")
    assert outcome.refused and sentence in outcome.message, outcome.message
    assert today.standing("ada", ASSIGNMENT).attempts == 0


def test_someone_elses_certificate_is_refused(certificate: Path, tmp_path: Path) -> None:
    outcome = import_certificate(certificate, ledger=_session(tmp_path, "today"), learner="grace")
    assert outcome.refused and "ada's" in outcome.message and "APICOURSE_LEARNER=ada" in outcome.message


def test_the_instructors_csv_leaves_imported_records_out(certificate: Path, tmp_path: Path) -> None:
    shared = _session(tmp_path, "class")  # a class ledger: ada imports, grace is graded
    assert import_certificate(certificate, ledger=shared, learner="ada").imported
    shared.record(NewAttempt("grace", ASSIGNMENT, 7, 10))
    rows = (shared.export_csv(ASSIGNMENT, tmp_path / "grades.csv")).read_text().splitlines()
    assert rows == ["student,latest,best,attempts,passed", "grace,7,7,1,True"]


def test_the_quiz_has_a_cell_that_brings_the_best_score_back(certificate: Path, tmp_path: Path) -> None:
    quiz = nbformat.read(RELEASE_NOTEBOOK, as_version=4)
    [cell] = [c for c in quiz.cells if c.cell_type == "code" and "import_certificate()" in c.source]
    prose = " ".join(c.source for c in quiz.cells if c.cell_type == "markdown")
    assert "proves nothing" in prose and "Colab" in prose and "Binder" in prose
    # the cell, run in a kernel next to an uploaded certificate, imports it into that session's ledger
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "certificate.json").write_bytes(certificate.read_bytes())
    path = folder / "carry_over.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.source)]), path)
    ran, _ = execute_notebook(path, tmp_path / "kernel", extra_env={"APICOURSE_LEARNER": "ada"})
    shown = json.dumps(ran.cells[0].outputs)
    assert "Imported your best score 8/10" in shown, shown
    ledger = Ledger(f"sqlite:///{tmp_path / 'kernel' / 'ledger.db'}")  # the kernel's ledger (keyless_env)
    assert ledger.standing("ada", ASSIGNMENT).best_score == 8
