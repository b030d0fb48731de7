"""Feedback per question from nbgrader's per-cell scores and the autograded notebook."""

from __future__ import annotations

from typing import Any

from apicourse.grading.questions import _ANSWER_MARK, QUESTIONS, _answer_cells, _cells_by_id, _normalise
from apicourse.grading.report import QuestionResult


def _error_of(cell: Any) -> tuple[str, str] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output.get("ename", "Error"), str(output.get("evalue", ""))
    return None


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_feedback(
    scores: dict[str, tuple[float, float]], graded: Any, release: Any, *, timeout: int = 10
) -> list[QuestionResult]:
    """Turn nbgrader's per-cell scores and the autograded notebook into points and feedback per question."""
    from apicourse.grading.answer_check import not_run_reason  # imports nbgrader: never in the learner's kernel

    cells = _cells_by_id(graded)
    answers = _answer_cells(graded)
    blanks = _answer_cells(release)
    results = []
    for q in QUESTIONS:
        got = sum(scores.get(gid, (0.0, 0.0))[0] for gid in q.hints)
        out_of = sum(scores.get(gid, (0.0, 1.0))[1] for gid in q.hints)
        if got >= out_of:
            feedback = f"Correct. {q.takeaway}"
        elif q.id not in answers or _normalise(answers[q.id]) == _normalise(blanks.get(q.id, "")):
            feedback = f"Not answered yet: write your answer in the cell that starts with # ANSWER {q.id}."
        else:
            notes = []
            answer_cell = next(
                (c for c in graded.cells if c.cell_type == "code" and _ANSWER_MARK.match(c.source.split("\n", 1)[0])
                 and _ANSWER_MARK.match(c.source.split("\n", 1)[0]).group(1).upper() == q.id), None)
            answer_error = _error_of(answer_cell) if answer_cell is not None else None
            refused = not_run_reason(answer_cell.source) if answer_cell is not None else None
            if refused:
                notes.append(refused)  # the grader did not run it (apicourse.grading.answer_check)
            elif answer_error and answer_error[0] in {"SyntaxError", "IndentationError", "NameError"}:
                notes.append(_explain_error(*answer_error, timeout=timeout, where="Your answer cell")
                             + " Fix it, save, and grade again.")
            else:
                for gid, hint in q.hints.items():
                    score, max_points = scores.get(gid, (0.0, 1.0))
                    if score >= max_points:
                        continue
                    error = _error_of(cells[gid]) if gid in cells else None
                    detail = " " + _explain_error(*error, timeout=timeout, where="The test") if error and q.code else ""
                    notes.append(hint + detail)
                if answer_error:
                    notes.append(_explain_error(*answer_error, timeout=timeout, where="Your answer cell"))
            feedback = " ".join(notes) if notes else "Not all of it is right yet."
        results.append(QuestionResult(q.id, q.title, got, out_of, feedback))
    return results


def _explain_error(ename: str, evalue: str, *, timeout: int, where: str) -> str:
    if ename in {"CellTimeoutError", "KeyboardInterrupt", "TimeoutError"} or "timeout" in evalue.lower():
        return f"{where} ran longer than {timeout} s and was stopped — an endless loop?"
    if ename == "AssertionError" and evalue:
        return f"({_short(evalue)})"
    return f"{where} raised {ename}: {_short(evalue) or '(no message)'}."
