"""The learner's certificate: the best attempt from the ledger, as JSON and HTML files to keep."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apicourse.grading.questions import ASSIGNMENT
from apicourse.grading.report import _num
from apicourse.grading.self_grading import learner_name

if TYPE_CHECKING:
    from apicourse.ledger import Ledger


@dataclass
class Certificate:
    """Where :func:`export_certificate` wrote the record of the best attempt (shown as links in Jupyter)."""

    json_path: Path | None
    html_path: Path | None
    record: dict[str, Any] | None
    error: str | None = None

    def __repr__(self) -> str:
        if self.error:
            return f"No certificate: {self.error}"
        return f"Certificate written: {self.html_path} and {self.json_path}"

    def _repr_html_(self) -> str:
        if self.error:
            return f'<div class="apicourse-certificate apicourse-error">No certificate: {html.escape(self.error)}</div>'
        assert self.record is not None and self.html_path and self.json_path
        r = self.record
        links = " · ".join(
            f'<a href="{html.escape(p.name)}" download>{html.escape(p.name)}</a>' for p in (self.html_path, self.json_path)
        )
        return (
            f'<div class="apicourse-certificate">Best score <strong>{_num(r["best_score"])}/{_num(r["max_score"])}'
            f'</strong> ({r["percent"]:.0f}%, {"passed" if r["passed"] else "not passed yet"}) after '
            f'{r["attempts"]} attempt(s). Written next to this notebook: {links} — download them to keep them.</div>'
        )


def export_certificate(
    directory: str | Path = ".", *, ledger: Ledger | str | None = None, learner: str | None = None
) -> Certificate:
    """Write ``certificate.json`` and ``certificate.html`` (best score, its date, attempts) into ``directory``."""
    from apicourse.ledger import Ledger, LedgerError

    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    try:
        json_path, html_path = book.write_certificate(learner or learner_name(), ASSIGNMENT, Path(directory))
    except (LookupError, LedgerError, OSError) as error:
        return Certificate(None, None, None, error=str(error))
    return Certificate(json_path, html_path, json.loads(json_path.read_text(encoding="utf-8")))
