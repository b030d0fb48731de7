"""Is this file a quiz notebook the grader can grade? Every submission gets a grade or a one-sentence refusal.

Anything that reads as a notebook and holds at least one of the quiz's answer cells (``# ANSWER Qn``) or one
of its graded cells is graded — deleted cells come back, invented or broken ones are ignored
(:class:`apicourse.grading.preprocessors.RepairCells`). Anything else is refused in a sentence::

    >>> refusal_of(b"{ not json", "quiz.ipynb")
    'quiz.ipynb could not be read as a notebook (it is not valid JSON): not graded.'
"""

from __future__ import annotations

import json
from typing import Any

from apicourse.grading.questions import _ANSWER_MARK, QUESTIONS


def read_notebook(data: bytes) -> Any:
    """The notebook in ``data`` (nbformat 4), tolerant of broken metadata; raises ValueError if it is none."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("it is not valid JSON") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("it has no list of cells")
    for cell in raw["cells"]:  # broken metadata is dropped, not fatal: the cells themselves are what count
        if not isinstance(cell, dict):
            raise ValueError("a cell is not a JSON object")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(str(line) for line in cell["source"])
        cell.setdefault("source", "")
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
    raw.setdefault("nbformat", 4)
    raw.setdefault("nbformat_minor", 5)
    import nbformat

    try:
        return nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise ValueError(f"nbformat cannot read it: {error}") from error


def _is_quiz(nb: Any) -> bool:
    graded = {gid for q in QUESTIONS for gid in q.hints}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id") in graded:
            return True
        if cell.get("cell_type") == "code" and _ANSWER_MARK.match(str(cell.get("source", "")).split("\n", 1)[0]):
            return True
    return False


def refusal_of(data: bytes, name: str) -> str | None:
    """Why this file cannot be graded, in one sentence; None if it can."""
    try:
        nb = read_notebook(data)
    except ValueError as error:
        return f"{name} could not be read as a notebook ({error}): not graded."
    if not _is_quiz(nb):
        return (f"{name} is not the module assessment (none of its answer cells, # ANSWER Q1 … Q5, is in it): "
                "not graded.")
    return None
