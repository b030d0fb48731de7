"""What a grading shows: the result per question, as text and as HTML with stable CSS classes
(listed in :mod:`apicourse.grading`; a result whose code ran without the sandbox adds ``apicourse-unsandboxed``,
the sentence that says so and why)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apicourse.grading.questions import PASS_FRACTION
from apicourse.grading.sandbox import SandboxStatus, sandbox_status

if TYPE_CHECKING:
    from apicourse.ledger import Standing


# --- results ------------------------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    """Points and feedback for one question."""

    id: str
    title: str
    points: float
    max_points: float
    feedback: str


@dataclass
class GradeResult:
    """The outcome of grading one notebook, and (once recorded) the learner's standing.

    Displayed in Jupyter as an HTML table (see the module docstring for its CSS classes).
    """

    notebook: str
    questions: list[QuestionResult] = field(default_factory=list)
    graded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    learner: str | None = None
    standing: Standing | None = None
    ledger_error: str | None = None
    unsaved: list[str] = field(default_factory=list)
    error: str | None = None
    submission: str | None = None
    sandbox: SandboxStatus = field(default_factory=sandbox_status)
    """Whether the notebook's code ran sandboxed, as the grader found it when this grading began."""

    @property
    def graded(self) -> bool:
        """Whether nbgrader produced a score (False if unsaved or the grading could not run)."""
        return not self.unsaved and self.error is None

    @property
    def score(self) -> float:
        return float(sum(q.points for q in self.questions))

    @property
    def max_score(self) -> float:
        return float(sum(q.max_points for q in self.questions))

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def passed(self) -> bool:
        """PASS at 70% or more."""
        return self.graded and self.max_score > 0 and self.score / self.max_score >= PASS_FRACTION - 1e-9

    @property
    def unsandboxed(self) -> str | None:
        """One sentence if the learner's code ran without the sandbox, and why; None if it ran sandboxed.

        >>> GradeResult("quiz.ipynb", sandbox=SandboxStatus(False, "the sandbox is turned off.")).unsandboxed
        'Your code ran without the sandbox: the sandbox is turned off.'
        >>> GradeResult("quiz.ipynb", sandbox=SandboxStatus(True, "sandboxed.")).unsandboxed is None
        True
        """
        return None if self.sandbox.available else f"Your code ran without the sandbox: {self.sandbox.reason}"

    def points(self) -> dict[str, float]:
        """Points per question id, e.g. ``{"Q1": 2.0, ...}``."""
        return {q.id: q.points for q in self.questions}

    def __repr__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The result as plain text (what the terminal and the instructor command print)."""
        if self.unsaved:
            return _unsaved_message(self.unsaved)
        if self.error:
            return f"Not graded: {self.error}"
        lines = [f"{q.id} {q.title}: {_num(q.points)}/{_num(q.max_points)} — {q.feedback}" for q in self.questions]
        lines.append(f"Total {_num(self.score)}/{_num(self.max_score)} ({self.percent:.0f}%) — "
                     f"{'PASS' if self.passed else 'FAIL'} (pass mark {PASS_FRACTION:.0%})")
        if self.standing is not None:
            s = self.standing
            lines.append(f"Attempt {s.attempt} · best so far {_num(s.best_score)}/{_num(s.max_score)} "
                         f"({s.best_percent or 0:.0f}%)")
        if self.ledger_error:
            lines.append(f"Not recorded: {self.ledger_error}")
        if self.unsandboxed:
            lines.append(self.unsandboxed)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return result_html(self)



# --- HTML ----------------------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _on_binder() -> bool:
    return any(key.startswith("BINDER_") for key in os.environ)


def _unsaved_message(questions: list[str]) -> str:
    return (
        f"Not graded: the saved notebook differs from the answers you ran ({', '.join(questions)}). Save the "
        "notebook (Ctrl+S, or File → Save Notebook), then run this cell again — or re-run those answer cells "
        "if the saved version is the one you want graded."
    )


_STYLE = """<style>
.apicourse-grade{font-family:var(--jp-ui-font-family,system-ui,sans-serif);border:2px solid #888;border-radius:6px;
 padding:.6em 1em;margin:.4em 0;max-width:60em}
.apicourse-grade.apicourse-pass{border-color:#2e7d32}.apicourse-grade.apicourse-fail{border-color:#c62828}
.apicourse-grade table{border-collapse:collapse;width:100%}.apicourse-grade td,.apicourse-grade th{
 text-align:left;vertical-align:top;padding:.25em .5em;border-bottom:1px solid #ddd}
.apicourse-verdict{font-size:1.3em;font-weight:bold}.apicourse-pass .apicourse-verdict{color:#2e7d32}
.apicourse-fail .apicourse-verdict{color:#c62828}.apicourse-points{white-space:nowrap;font-weight:bold}
.apicourse-unsaved,.apicourse-error,.apicourse-ledger-error,.apicourse-unsandboxed{color:#8a4b00}
</style>"""


def result_html(result: GradeResult) -> str:
    """The HTML shown under the grading cell (stable CSS classes, see the module docstring)."""
    esc = html.escape
    if result.unsaved:
        return (f'{_STYLE}<div class="apicourse-grade apicourse-unsaved" data-graded="false">'
                f"<strong>Not graded yet.</strong> {esc(_unsaved_message(result.unsaved))}</div>")
    if result.error:
        return (f'{_STYLE}<div class="apicourse-grade apicourse-error" data-graded="false">'
                f"<strong>Not graded.</strong><pre>{esc(result.error)}</pre></div>")
    verdict = "PASS" if result.passed else "FAIL"
    state = "apicourse-pass" if result.passed else "apicourse-fail"
    rows = "".join(
        f'<tr class="apicourse-question" data-question="{q.id}" data-points="{_num(q.points)}" '
        f'data-max="{_num(q.max_points)}"><th>{q.id} · {esc(q.title)}</th>'
        f'<td class="apicourse-points">{_num(q.points)}/{_num(q.max_points)}</td>'
        f'<td class="apicourse-feedback">{esc(q.feedback)}</td></tr>'
        for q in result.questions
    )
    s = result.standing
    attempt = best = ""
    if s is not None:
        attempt = f'<div class="apicourse-attempt" data-attempt="{s.attempt}">Attempt {s.attempt}</div>'
        best = (
            f'<div class="apicourse-best" data-best="{_num(s.best_score)}" data-max="{_num(s.max_score)}">'
            f"Best so far: <strong>{_num(s.best_score)}/{_num(s.max_score)}</strong> ({s.best_percent or 0:.0f}%"
            f"{', passed' if s.passed else ''}) over {s.attempts} attempt(s). Your best is kept; retake any time."
            "</div>"
        )
    ledger_error = (f'<div class="apicourse-ledger-error">Not recorded: {esc(result.ledger_error)}</div>'
                    if result.ledger_error else "")
    unsandboxed = (f'<div class="apicourse-unsandboxed">{esc(result.unsandboxed)}</div>'
                   if result.unsandboxed else "")
    binder = (
        '<div class="apicourse-binder">On Binder nothing persists after the session: run '
        "<code>from apicourse.grading import export_certificate; export_certificate()</code> and download "
        "<code>certificate.html</code> / <code>certificate.json</code>.</div>"
        if _on_binder() else
        '<div class="apicourse-hint">Keep a record: <code>from apicourse.grading import export_certificate; '
        "export_certificate()</code></div>"
    )
    return (
        f'{_STYLE}<div class="apicourse-grade {state}" data-score="{_num(result.score)}" '
        f'data-max="{_num(result.max_score)}" data-percent="{result.percent:.0f}" data-passed="{str(result.passed).lower()}">'
        f'<div class="apicourse-verdict">{verdict} — {_num(result.score)}/{_num(result.max_score)} '
        f"({result.percent:.0f}%)</div>"
        f"<table>{rows}</table>"
        f'<div class="apicourse-total">Total {_num(result.score)}/{_num(result.max_score)} ({result.percent:.0f}%); '
        f"pass mark {PASS_FRACTION:.0%}.</div>{attempt}{best}{ledger_error}{unsandboxed}{binder}</div>"
    )
