"""A learner takes the module assessment in JupyterLab, passes, retakes it worse, and keeps the best score.

The learner copy (``quiz/release/...``) is what a learner opens. Each answer cell starts with a marker
comment (``# ANSWER Q1`` …); the learner types over it, saves with Ctrl+S and runs everything; the last
cell grades the notebook as saved and shows PASS/FAIL, the score, the attempt and the best score.
"""

from __future__ import annotations

import re

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUIZ = "quiz/release/module_assessment/module_assessment.ipynb"
SOURCE = "quiz/source/module_assessment/module_assessment.ipynb"
QUESTIONS = ("Q1", "Q2", "Q3", "Q4", "Q5")


def marker(question: str) -> str:
    return f"# ANSWER {question}"


def answer_cells(path) -> dict[str, str]:
    """Question → the source of its answer cell (the one whose first line is its marker)."""
    cells = {}
    for cell in nbformat.read(path, as_version=4).cells:
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        match = re.match(r"# ANSWER (Q\d+)\b", first)
        if cell.cell_type == "code" and match:
            cells[match.group(1)] = cell.source
    return cells


def right_answers(course) -> dict[str, str]:
    """What a learner who knows the material types: the instructor's solutions, markers removed."""
    solved = {}
    for question, source in answer_cells(course / SOURCE).items():
        lines = [
            line
            for line in source.splitlines()
            if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
        ]
        solved[question] = "\n".join(lines)
    return solved


def test_quiz_pass_then_a_worse_retake_keeps_the_best(learner) -> None:
    course = learner.lab.course
    assert (course / QUIZ).is_file(), f"the learner copy {QUIZ} is missing (nbgrader generate_assignment)"
    blank = answer_cells(course / QUIZ)
    right = right_answers(course)
    assert sorted(blank) == sorted(right) == list(QUESTIONS)

    learner.open(QUIZ)

    # --- first attempt: every answer right -------------------------------------------------------------
    for question in QUESTIONS:
        learner.replace_source(learner.cell_containing(marker(question)), right[question])
    learner.save()
    saved = answer_cells(course / QUIZ)
    assert all(saved[q].strip() == right[q].strip() for q in QUESTIONS), "Ctrl+S did not save the answers"
    learner.run_all()

    grade = learner.notebook.locator(".apicourse-grade")
    grade.wait_for()
    assert "apicourse-pass" in grade.get_attribute("class")
    assert (grade.get_attribute("data-score"), grade.get_attribute("data-max")) == ("10", "10")
    assert grade.locator(".apicourse-verdict").inner_text().startswith("PASS")
    assert "10/10" in grade.locator(".apicourse-verdict").inner_text()
    assert len(grade.locator(".apicourse-question").all()) == len(QUESTIONS)
    assert grade.locator(".apicourse-attempt").get_attribute("data-attempt") == "1"
    best = grade.locator(".apicourse-best")
    assert (best.get_attribute("data-best"), best.get_attribute("data-max")) == ("10", "10")
    assert "Best so far: 10/10" in best.inner_text()

    # --- retake, worse: two wrong letters in Q1, Q2-Q4 back to blank, Q5 still right ----------------------
    worse = {
        "Q1": '# ANSWER Q1\nq1a = "A"\nq1b = "A"',
        "Q2": blank["Q2"],
        "Q3": blank["Q3"],
        "Q4": blank["Q4"],
    }
    for question, source in worse.items():
        learner.replace_source(learner.cell_containing(marker(question)), source)

    # forgetting to save first: nothing is graded, and the learner is told to save
    learner.run_all()
    unsaved = learner.notebook.locator(".apicourse-grade")
    assert "apicourse-unsaved" in unsaved.get_attribute("class"), unsaved.inner_text()
    assert "save" in unsaved.inner_text().lower()

    learner.save()
    learner.run_all()
    grade = learner.notebook.locator(".apicourse-grade")
    assert "apicourse-fail" in grade.get_attribute("class"), grade.inner_text()
    assert grade.get_attribute("data-score") == "2"
    assert grade.locator(".apicourse-verdict").inner_text().startswith("FAIL")
    points = {
        row.get_attribute("data-question"): row.get_attribute("data-points")
        for row in grade.locator(".apicourse-question").all()
    }
    assert points == {"Q1": "0", "Q2": "0", "Q3": "0", "Q4": "0", "Q5": "2"}
    assert grade.locator(".apicourse-attempt").get_attribute("data-attempt") == "2"
    best = grade.locator(".apicourse-best")
    assert best.get_attribute("data-best") == "10", "a worse attempt lowered the best score"
    assert "Best so far: 10/10" in best.inner_text()

    assert learner.errors() == [], "the quiz notebook shows an error"
    assert learner.lab.blocked_connections() == []
