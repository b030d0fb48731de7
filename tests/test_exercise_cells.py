"""The exercise cells of lessons 05-09 as committed: the blank exercise gets "Not yet" (Run All goes on), and the
folded solution the lesson shows passes its own check."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from apicourse import paths

NOTEBOOKS = ["05_openai", "06_anthropic", "07_hugging_face", "08_research_assistant", "09_production_practices"]
SETUP = """
import json, time, random
import anthropic
from apicourse import exercises, models, research
"""


def _cells(stem: str) -> dict[str, str]:
    nb = json.loads((paths.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return {cell["id"]: "".join(cell["source"]) for cell in nb["cells"]}


def _run(source: str, namespace: dict[str, Any]) -> Any:
    """Run a cell; the value of its last line if that is an expression (as a notebook shows it)."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


def _lesson_namespace(stem: str, cells: dict[str, str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(SETUP, namespace)
    for source in cells.values():  # the lesson's own tools (06): definitions only, no calls
        if source.startswith(("tools = [", "def get_stock_price")):
            exec(source, namespace)
    return namespace


def _exercises(stem: str) -> list[tuple[str, str, str | None, str]]:
    cells = _cells(stem)
    found = []
    for cid, source in cells.items():
        if cid.endswith("-code") and f"{cid.removesuffix('-code')}-solution" in cells:
            base = cid.removesuffix("-code")
            solution = re.search(r"```python\n(.*?)\n```", cells[f"{base}-solution"], re.DOTALL)
            assert solution, f"{base}: the solution is not a folded code block"
            assert cells[f"{base}-solution"].startswith("<details>")
            found.append((base, source, cells.get(f"{base}-check"), solution.group(1)))
    return found


CASES = [(stem, case) for stem in NOTEBOOKS for case in _exercises(stem)]


def test_every_lesson_from_05_has_code_writing_exercises():
    counts = {stem: len(_exercises(stem)) for stem in NOTEBOOKS}
    assert all(count >= 1 for count in counts.values()), counts
    assert sum(counts.values()) >= 11, counts


@pytest.mark.parametrize(("stem", "case"), CASES, ids=[f"{stem}:{case[0]}" for stem, case in CASES])
def test_blank_exercise_says_not_yet_and_solution_passes(stem, case, capsys):
    base, blank, check, solution = case
    cells = _cells(stem)
    namespace = _lesson_namespace(stem, cells)
    for earlier in _exercises(stem):  # a later step may build on an earlier one (08's chain)
        if earlier[0] == base:
            break
        exec(earlier[3], namespace)
    verdict = _run(blank + ("\n" + check if check else ""), namespace)
    assert verdict is not None and not verdict, f"{base}: the blank exercise passed its check"
    assert "✗ Not yet" in capsys.readouterr().out
    exec(solution, namespace)
    check_line = check or blank.strip().splitlines()[-1]
    verdict = _run(check_line, namespace)
    assert verdict, f"{base}: the lesson's own solution fails its check: {verdict.message}"
