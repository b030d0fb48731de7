"""The module assessment's questions, its files and the ``# ANSWER Qn`` cells that hold the answers.

>>> [q.id for q in QUESTIONS]
['Q1', 'Q2', 'Q3', 'Q4', 'Q5']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apicourse import paths

PASS_FRACTION = 0.7
"""A score of 70% or more passes (the same as :data:`apicourse.ledger.PASS_FRACTION`)."""

ASSIGNMENT = "module_assessment"
"""The nbgrader assignment (and notebook) name of the module assessment."""

COURSE: Path = paths.QUIZ
CONFIG_FILE: Path = COURSE / "nbgrader_config.py"
SOURCE_NOTEBOOK: Path = COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
"""The instructor's notebook: solutions and hidden tests (nbgrader's ``source/``)."""
RELEASE_NOTEBOOK: Path = COURSE / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
"""The learner's copy generated from the source by ``nbgrader generate_assignment`` (committed)."""

CACHE_DIR_VAR = "APICOURSE_CACHE_DIR"
"""Environment variable: where the grader keeps its prepared gradebook (default: the user's cache dir)."""
LEARNER_VAR = "APICOURSE_LEARNER"
"""Environment variable: the learner's name in the ledger (default: $JUPYTERHUB_USER, else the login)."""

_ANSWER_MARK = re.compile(r"^\s*#\s*ANSWER\s+(Q\d+)\b", re.IGNORECASE)


# --- the questions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """One question: its test cells (nbgrader grade ids) with a hint each, and what it teaches."""

    id: str
    title: str
    takeaway: str
    hints: dict[str, str]
    code: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question(
        "Q1",
        "REST and JSON",
        "An API is a contract; generating text means POSTing a structured (JSON) request.",
        {
            "q1a_method": "a) Generating text means *sending* data (your prompt). Which method sends data? "
            "See lesson 01.",
            "q1b_contract": "b) Remember the restaurant menu: what you can order, how to order, what comes back. "
            "See lesson 01.",
        },
    ),
    Question(
        "Q2",
        "Keys stay out of your code",
        "Keys come from the environment (or .env), never from the code.",
        {
            "q2_headers": "Read the key inside the function with os.environ and send it as 'Bearer <key>' with "
            "Content-Type application/json; no key written in the code. See lesson 03.",
            "q2_missing_key": "When OPENAI_API_KEY is missing or empty, raise RuntimeError with a message that "
            "names OPENAI_API_KEY. See lesson 03.",
        },
        code=True,
    ),
    Question(
        "Q3",
        "Retry with exponential backoff",
        "After a 429, wait (Retry-After, or 1 s, 2 s, 4 s …) and retry; never retry a bad request.",
        {
            "q3_backoff": "On 429 without Retry-After, call sleep(2 ** attempt) — 1, 2, 4 … — and send again; on "
            "200 return response.json(). See lesson 04.",
            "q3_retry_after": "Wait the Retry-After seconds when given, stop after max_retries calls with "
            "RuntimeError, and raise at once on other errors such as 400. See lesson 04.",
        },
        code=True,
    ),
    Question(
        "Q4",
        "Two APIs, one pattern",
        "OpenAI and Anthropic answer in structured JSON you can navigate, tool use included.",
        {
            "q4a_openai": "The text is at completion['choices'][0]['message']['content'], the tokens at "
            "completion['usage']['total_tokens']. See lesson 05.",
            "q4b_anthropic": "Find the content block whose type is 'tool_use' and answer its id in a 'user' "
            "message holding one 'tool_result' block. See lesson 06.",
        },
        code=True,
    ),
    Question(
        "Q5",
        "Building real applications",
        "Chain calls (one output feeds the next); retry only what a retry can fix.",
        {
            "q5a_chaining": "a) One call's output becomes the next call's input. See lesson 08.",
            "q5b_bad_request": "b) A 4xx other than 429 means the request itself is wrong. See lesson 09.",
        },
    ),
)



def _cells_by_id(nb: Any) -> dict[str, Any]:
    cells = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id not in cells:
            cells[grade_id] = cell
    return cells


def _answer_cells(nb: Any) -> dict[str, str]:
    """Question id → source of the cell whose first line is ``# ANSWER Qn``."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        match = _ANSWER_MARK.match(cell.source.split("\n", 1)[0])
        if match:
            found.setdefault(match.group(1).upper(), cell.source)
    return found



def _normalise(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())



def _looks_like_quiz(path: Path) -> bool:
    try:
        return "# ANSWER Q1" in path.read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return False
