"""The module assessment: nbgrader grades it, the ledger keeps every attempt and the best, bad input never
crashes grading or loses an attempt, and the instructor grades a class with one command.

Everything runs offline in temporary folders: the grader's prepared gradebook lives in a temporary cache
and every ledger is a temporary SQLite file (the repository is never written).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from apicourse import grading
from apicourse.grading import (
    QUESTIONS,
    RELEASE_NOTEBOOK,
    SOURCE_NOTEBOOK,
    export_certificate,
    grade_my_quiz,
    grade_notebook,
    result_html,
)
from apicourse.ledger import Ledger
from grading_helpers import notebook as filled_notebook

pytestmark = pytest.mark.slow  # each grading starts a kernel (1–3 s)

SOURCE = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
RELEASE = nbformat.read(RELEASE_NOTEBOOK, as_version=4)
SOLUTION = grading._answer_cells(SOURCE)


@pytest.fixture(scope="session")
def grader_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grader-cache")


@pytest.fixture(autouse=True)
def _grader_env(monkeypatch, grader_cache, tmp_path):
    monkeypatch.setenv(grading.CACHE_DIR_VAR, str(grader_cache))
    monkeypatch.setenv(grading.LEARNER_VAR, "ada")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(f"sqlite:///{tmp_path / 'attempts.db'}", timeout=1)


def learner_copy(folder: Path, answers: dict[str, str] | None = None, *, name: str = "module_assessment.ipynb",
                 edit=None) -> Path:
    """The committed learner copy with some answers filled in ("solution" = the source's answer cell)."""
    nb = filled_notebook(answers, edit)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


ALL = {q.id: "solution" for q in QUESTIONS}
SIX = {"Q1": "solution", "Q2": "solution", "Q3": "solution"}
SEVEN = {**SIX, "Q5": '# ANSWER Q5\nq5a = "C"\nq5b = "B"\n'}
EIGHT = {**SIX, "Q4": "solution"}


# --- scores --------------------------------------------------------------------------------------------------
def test_the_source_notebook_scores_10_of_10_and_passes():
    result = grade_notebook(SOURCE_NOTEBOOK)
    assert result.error is None
    assert (result.score, result.max_score, result.passed) == (10, 10, True)
    assert result.points() == {"Q1": 2, "Q2": 2, "Q3": 2, "Q4": 2, "Q5": 2}
    assert all(q.feedback.startswith("Correct.") for q in result.questions)


def test_the_blank_learner_copy_scores_0_and_says_what_to_do():
    result = grade_notebook(RELEASE_NOTEBOOK)
    assert (result.score, result.passed) == (0, False)
    assert all("Not answered yet" in q.feedback and f"# ANSWER {q.id}" in q.feedback for q in result.questions)


@pytest.mark.parametrize("answers, score, passed", [(SIX, 6, False), (SEVEN, 7, True), (EIGHT, 8, True)],
                         ids=["6-fails", "7-passes", "8-passes"])
def test_pass_mark_is_70_percent(tmp_path, answers, score, passed):
    result = grade_notebook(learner_copy(tmp_path, answers))
    assert (result.score, result.passed) == (score, passed)
    verdict = "apicourse-pass" if passed else "apicourse-fail"
    assert f'class="apicourse-grade {verdict}"' in result_html(result)


def test_partial_credit_and_feedback_per_part(tmp_path):
    wrong_b = {"Q1": '# ANSWER Q1\nq1a = "B"\nq1b = "A"\n'}
    result = grade_notebook(learner_copy(tmp_path, wrong_b))
    q1 = result.questions[0]
    assert q1.points == 1 and q1.max_points == 2
    assert "b)" in q1.feedback and "a)" not in q1.feedback


# --- the ledger: every attempt, the best kept ---------------------------------------------------------------
def test_attempts_6_then_10_then_0_keep_the_best_at_10(tmp_path, ledger):
    results = [
        grade_my_quiz(learner_copy(tmp_path / str(i), answers), ledger=ledger)
        for i, answers in enumerate([SIX, ALL, {}])
    ]
    assert [r.score for r in results] == [6, 10, 0]
    assert [r.standing.attempt for r in results] == [1, 2, 3]
    last = results[-1].standing
    assert (last.best_score, last.latest_score, last.attempts, last.passed) == (10, 0, 3, True)
    html = result_html(results[-1])
    assert 'class="apicourse-best" data-best="10"' in html and 'class="apicourse-grade apicourse-fail"' in html


def test_certificate_records_best_score_date_and_attempts(tmp_path, ledger):
    assert export_certificate(tmp_path, ledger=ledger).error  # nothing graded yet: a clear message, no file
    assert not (tmp_path / "certificate.json").exists()
    grade_my_quiz(learner_copy(tmp_path / "a", EIGHT), ledger=ledger)
    grade_my_quiz(learner_copy(tmp_path / "b", SIX), ledger=ledger)
    certificate = export_certificate(tmp_path, ledger=ledger)
    record = json.loads((tmp_path / "certificate.json").read_text())
    assert (record["best_score"], record["max_score"], record["attempts"], record["passed"]) == (8, 10, 2, True)
    assert record["learner"] == "ada" and record["best_at"]
    page = (tmp_path / "certificate.html").read_text()
    assert "8/10" in page and "PASSED" in page
    assert "certificate.html" in certificate._repr_html_()


# --- bad input never crashes grading -------------------------------------------------------------------------
def test_syntax_error_costs_only_that_question(tmp_path):
    broken = {**ALL, "Q2": "# ANSWER Q2\ndef auth_headers(:\n    return {}\n"}
    result = grade_notebook(learner_copy(tmp_path, broken))
    assert result.points()["Q2"] == 0 and result.score == 8
    assert "SyntaxError" in result.questions[1].feedback


def test_exceptions_in_answers_cost_only_that_question(tmp_path):
    raising = {**ALL, "Q4": "# ANSWER Q4\ndef reply_and_tokens(c):\n    raise KeyError('usage')\n\n"
                            "def tool_result_message(r, x):\n    return 1 / 0\n"}
    result = grade_notebook(learner_copy(tmp_path, raising))
    assert result.points()["Q4"] == 0 and result.score == 8
    assert "KeyError" in result.questions[3].feedback and "ZeroDivisionError" in result.questions[3].feedback


def test_an_endless_loop_times_out_and_scores_0_for_that_question(tmp_path):
    looping = {**ALL, "Q3": "# ANSWER Q3\ndef call_with_retry(send, sleep, max_retries=4):\n    while True:\n"
                            "        pass\n"}
    result = grade_notebook(learner_copy(tmp_path, looping), timeout=2)
    assert result.points() == {"Q1": 2, "Q2": 2, "Q3": 0, "Q4": 2, "Q5": 2}
    assert "longer than 2 s" in result.questions[2].feedback


def test_huge_output_is_graded(tmp_path):
    noisy = {**ALL, "Q1": SOLUTION["Q1"] + "\nfor _ in range(100_000):\n    print('x' * 100)\n"}
    result = grade_notebook(learner_copy(tmp_path, noisy))
    assert result.score == 10


def test_warnings_and_logging_on_stderr_do_not_cost_points(tmp_path):
    chatty = SOLUTION["Q3"].replace(
        "    for retry in range(max_retries + 1):",
        "    import logging, sys, warnings\n    logging.warning('retrying'); print('oops', file=sys.stderr)\n"
        "    warnings.warn('careful')\n    for retry in range(max_retries + 1):",
    )
    assert chatty != SOLUTION["Q3"]
    result = grade_notebook(learner_copy(tmp_path, {**ALL, "Q3": chatty}))
    assert result.score == 10


def test_edited_and_deleted_test_cells_are_restored(tmp_path):
    def tamper(nb):
        cell(nb, "q5a_chaining").source = "pass  # no test here"       # edited: would pass anything
        nb.cells.remove(cell(nb, "q5b_bad_request"))                     # deleted
        nb.cells.remove(cell(nb, "q1b_contract"))
        del cell(nb, "q4a_openai").metadata["nbgrader"]                  # disguised as an ordinary cell

    wrong_q5 = {**ALL, "Q5": '# ANSWER Q5\nq5a = "A"\nq5b = "A"\n'}
    result = grade_notebook(learner_copy(tmp_path, wrong_q5, edit=tamper))
    assert result.points() == {"Q1": 2, "Q2": 2, "Q3": 2, "Q4": 2, "Q5": 1}


def test_a_renamed_notebook_is_graded(tmp_path):
    path = learner_copy(tmp_path, ALL, name="module_assessment-Copy1 (final).ipynb")
    result = grade_notebook(path)
    assert result.score == 10 and result.notebook == path.name


def test_an_answer_that_kills_the_kernel_costs_only_that_question(tmp_path):
    fatal = {**ALL, "Q1": SOLUTION["Q1"] + "\nimport os\nos._exit(3)\n"}
    result = grade_notebook(learner_copy(tmp_path, fatal))
    assert result.error is None
    assert result.points() == {"Q1": 0, "Q2": 2, "Q3": 2, "Q4": 2, "Q5": 2}
    assert "stopped Python" in result.questions[0].feedback


def test_an_unreadable_file_is_reported_not_raised_and_not_recorded(tmp_path, ledger):
    path = tmp_path / "module_assessment.ipynb"
    path.write_text("{ this is not json", encoding="utf-8")
    result = grade_my_quiz(path, ledger=ledger)
    assert not result.graded and "could not be read" in result.error
    assert 'class="apicourse-grade apicourse-error"' in result_html(result)
    assert ledger.standing("ada", grading.ASSIGNMENT).attempts == 0


def test_two_gradings_at_once_are_both_recorded(tmp_path, grader_cache):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    grade_notebook(SOURCE_NOTEBOOK)  # the prepared gradebook exists: both processes only grade
    paths = [learner_copy(tmp_path / "one", SIX), learner_copy(tmp_path / "two", ALL)]
    env = {**os.environ, grading.CACHE_DIR_VAR: str(grader_cache)}
    runs = [
        subprocess.Popen([sys.executable, "-m", "apicourse.grading", "grade", str(p), "--learner", "ada",
                          "--ledger", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for p in paths
    ]
    outputs = [run.communicate(timeout=300) for run in runs]  # generous: a busy machine grades slowly
    assert [run.returncode for run in runs] == [0, 0], outputs
    standing = Ledger(url).standing("ada", grading.ASSIGNMENT)
    assert (standing.attempts, standing.best_score) == (2, 10)


def test_a_locked_ledger_gives_a_clear_error_and_the_attempt_is_not_lost(tmp_path):
    db = tmp_path / "attempts.db"
    ledger = Ledger(f"sqlite:///{db}", timeout=0.5)
    ledger.standing("ada", grading.ASSIGNMENT)  # creates the file
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    before = db.read_bytes()
    try:
        result = grade_my_quiz(learner_copy(tmp_path / "a", EIGHT), ledger=ledger)
    finally:
        holder.rollback()
        holder.close()
    assert result.graded and result.score == 8 and result.standing is None
    assert "locked" in result.ledger_error and "kept in" in result.ledger_error
    assert 'class="apicourse-ledger-error"' in result_html(result)
    assert db.read_bytes() == before
    again = grade_my_quiz(learner_copy(tmp_path / "b", SIX), ledger=ledger)
    assert again.ledger_error is None
    assert (again.standing.attempts, again.standing.attempt, again.standing.best_score) == (2, 2, 8)


def test_a_corrupted_ledger_is_kept_untouched_and_the_attempt_is_not_lost(tmp_path):
    db = tmp_path / "attempts.db"
    garbage = b"this is not an SQLite database\n" * 200
    db.write_bytes(garbage)
    ledger = Ledger(f"sqlite:///{db}", timeout=0.5)
    result = grade_my_quiz(learner_copy(tmp_path / "a", ALL), ledger=ledger)
    assert result.graded and result.score == 10
    assert "not a readable database" in result.ledger_error and "left untouched" in result.ledger_error
    assert db.read_bytes() == garbage
    # the learner moves the broken file aside, as the message says: the kept attempt comes back
    db.rename(tmp_path / "attempts.db.broken")
    again = grade_my_quiz(learner_copy(tmp_path / "b", SIX), ledger=ledger)
    assert (again.standing.attempts, again.standing.best_score, again.standing.latest_score) == (2, 10, 6)


# --- in a real kernel: the grading cell, unsaved changes, no recursion --------------------------------------
def _run_in_kernel(nb, folder: Path, env_extra: dict[str, str]) -> list:
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if k not in {"JPY_SESSION_NAME", "NBGRADER_EXECUTION"}}
    env.update(env_extra)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return nb.cells[-1].outputs


def test_the_grading_cell_grades_the_saved_notebook_in_a_kernel(tmp_path, grader_cache):
    path = learner_copy(tmp_path / "nb", SEVEN)
    url = f"sqlite:///{tmp_path / 'kernel.db'}"
    outputs = _run_in_kernel(nbformat.read(path, as_version=4), path.parent,
                             {grading.CACHE_DIR_VAR: str(grader_cache), "APICOURSE_LEDGER_URL": url,
                              "JPY_SESSION_NAME": str(path)})
    html = next(o for o in outputs if o.output_type == "execute_result")["data"]["text/html"]
    assert 'class="apicourse-grade apicourse-pass"' in html and 'data-score="7"' in html
    assert not [o for o in outputs if o.get("name") == "stderr"], "nothing red under the grading cell"
    assert Ledger(url).standing("ada", grading.ASSIGNMENT).attempts == 1


def test_unsaved_changes_are_reported_instead_of_grading_a_stale_file(tmp_path, grader_cache):
    path = learner_copy(tmp_path / "nb", {})  # saved: blank answers
    in_browser = nbformat.read(learner_copy(tmp_path / "edited", ALL), as_version=4)  # ran: all answered
    url = f"sqlite:///{tmp_path / 'kernel.db'}"
    outputs = _run_in_kernel(in_browser, path.parent,
                             {grading.CACHE_DIR_VAR: str(grader_cache), "APICOURSE_LEDGER_URL": url})
    html = next(o for o in outputs if o.output_type == "execute_result")["data"]["text/html"]
    assert 'class="apicourse-grade apicourse-unsaved"' in html and "Save" in html and "Q1" in html
    assert Ledger(url).standing("ada", grading.ASSIGNMENT).attempts == 0


def test_inside_nbgraders_own_run_the_grading_cell_does_nothing(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grade_my_quiz(SOURCE_NOTEBOOK) is None


def test_warm_up_readies_the_grader_in_the_background(tmp_path):
    """The quiz's first cell: returns at once and prepares the gradebook (in a process of its own) while the
    learner answers, so the grading cell at the end does not wait for it (a fresh Python, like a new kernel).
    The kernel itself stays light while the learner answers: nbgrader and SQLAlchemy (about 60 MB, next to
    every open lesson on Binder's 1-2 GB) are loaded by the first grading, not ahead of it."""
    cache = tmp_path / "empty-cache"
    code = (
        "import sys\n"
        "from apicourse.grading import warm_up\n"
        "thread = warm_up()\n"
        "print('busy', thread.is_alive(), repr(thread))\n"
        "assert warm_up() is thread, 'a second call starts nothing new'\n"
        "thread.join(120)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'nbgrader', 'sqlalchemy', 'nbconvert'})\n"
        "print('loaded', heavy, repr(thread))\n"
    )
    env = {**os.environ, grading.CACHE_DIR_VAR: str(cache)}
    env.pop("NBGRADER_EXECUTION", None)
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "busy True Getting the grader ready" in run.stdout, "warm_up() must return before the work is done"
    assert "loaded [] The grader is ready." in run.stdout, "the cell says so in words, not as a thread"
    assert list(cache.glob("grader/*/gradebook.db")), "the gradebook was prepared in the cache"


def test_warm_up_does_nothing_inside_nbgraders_own_run(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    import apicourse.grading.warmup as warmup

    monkeypatch.setattr(warmup, "_WARM_UP", None)
    assert grading.warm_up() is None


def test_the_quiz_starts_by_warming_up_the_grader():
    first_code = next(c for c in RELEASE.cells if c.cell_type == "code")
    assert "warm_up()" in first_code.source


# --- the instructor's flow -------------------------------------------------------------------------------------
def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_instructor_grades_a_class_with_one_command(tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(grading.CONFIG_FILE, course / "nbgrader_config.py")
    with (course / "nbgrader_config.py").open("a") as config:  # erin's answer writes a file (below), which the
        config.write("\nc.AnswerCheck.enabled = False\n")   # answer check would refuse: this tests the retries
    shutil.copytree(SOURCE_NOTEBOOK.parent, course / "source" / grading.ASSIGNMENT)
    submitted = course / "submitted"
    learner_copy(submitted / "alice" / grading.ASSIGNMENT, ALL)
    learner_copy(submitted / "bob" / grading.ASSIGNMENT, {})
    learner_copy(submitted / "carol" / grading.ASSIGNMENT, SEVEN, name="module_assessment (1).ipynb")
    fatal = {**ALL, "Q2": SOLUTION["Q2"] + "\nimport os\nos._exit(1)\n"}  # kills nbgrader's kernel
    learner_copy(submitted / "dave" / grading.ASSIGNMENT, fatal)
    # erin's notebook stops the kernel on its first run only, like a kernel lost on a busy machine; it leaves a
    # mark outside its folder to know, which the sandbox forbids: this test of the retries runs unsandboxed
    once = tmp_path / "erin-failed-once"
    flaky = {**ALL, "Q2": SOLUTION["Q2"] + f"\nimport os, pathlib\nif not pathlib.Path({str(once)!r}).exists():\n"
                           f"    pathlib.Path({str(once)!r}).touch()\n    os._exit(1)\n"}
    learner_copy(submitted / "erin" / grading.ASSIGNMENT, flaky)
    url = f"sqlite:///{tmp_path / 'class.db'}"
    command = [sys.executable, "-m", "apicourse.grading", "grade-class", "--course", str(course), "--ledger", url,
               "--workers", "2"]
    report = ""

    def grade_class(*options: str) -> dict[str, dict[str, str]]:
        nonlocal report
        run = subprocess.run([*command, *options], check=False, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "APICOURSE_SANDBOX": "off"})
        report = run.stdout + run.stderr
        assert run.returncode == 0, report
        return read_csv(course / "grades.csv")

    rows = grade_class()
    assert {s: (r["latest"], r["best"], r["attempts"], r["passed"]) for s, r in rows.items()} == {
        "alice": ("10", "10", "1", "True"),
        "bob": ("0", "0", "1", "False"),
        "carol": ("7", "7", "1", "True"),
        "dave": ("8", "8", "1", "True"),
        "erin": ("10", "10", "1", "True"),
    }, report
    for student in ("alice", "bob", "carol", "erin"):
        assert (course / "feedback" / student / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.html").exists(), report
    assert once.exists(), "erin's first run really failed"
    assert "erin: nbgrader failed once (nbclient.exceptions.DeadKernelError: Kernel died); graded on the second try" \
        in report
    assert "dave: nbgrader could not grade it (nbclient.exceptions.DeadKernelError: Kernel died)" in report
    assert (course / "gradebook.db").exists()

    for student in ("alice", "carol", "dave", "erin"):  # only bob submits again from here on
        shutil.rmtree(submitted / student)
    assert grade_class("--no-feedback")["bob"]["attempts"] == "1"  # an unchanged submission is not counted twice
    learner_copy(submitted / "bob" / grading.ASSIGNMENT, EIGHT)
    assert (grade_class("--no-feedback")["bob"]["latest"], read_csv(course / "grades.csv")["bob"]["best"]) == ("8", "8")
    learner_copy(submitted / "bob" / grading.ASSIGNMENT, SIX)
    rows = grade_class("--no-feedback")
    assert rows["alice"]["best"] == "10", "the ledger keeps everyone, also after their folders are gone"
    bob = rows["bob"]
    assert (bob["latest"], bob["best"], bob["attempts"], bob["passed"]) == ("6", "8", "3", "True")


def test_a_broken_gradebook_is_reported_as_nbgraders_error_not_blamed_on_a_notebook(tmp_path, monkeypatch):
    import nbgrader.apps

    tried = []

    class BrokenGradebook:
        def __init__(self, config):
            pass

        def autograde(self, assignment, student):
            tried.append(student)
            return {"success": False, "log": "[ERROR] sqlite3.OperationalError: database is locked", "error": "locked"}

    monkeypatch.setattr(nbgrader.apps, "NbGraderAPI", BrokenGradebook)
    problems: list[str] = []
    outcome, failed = grading._retry_alone(None, tmp_path, ["alice", "bob"], {"success": False, "log": ""}, problems)
    assert not outcome["success"] and "database is locked" in outcome["log"], "grade-class reports nbgrader's error"
    assert failed == {}, "no notebook is graded by the fallback for the gradebook's fault"
    assert tried == ["alice"], "one failure that is not a notebook's own stops the retries"
    assert problems == []


# --- the notebooks themselves ------------------------------------------------------------------------------------
def test_the_learner_copy_is_not_stale_against_the_source(tmp_path):
    from nbgrader.apps import NbGraderAPI

    course = tmp_path / "course"
    shutil.copytree(SOURCE_NOTEBOOK.parent, course / "source" / grading.ASSIGNMENT)
    with grading._Env(**grading._with_venv_on_path()):
        outcome = NbGraderAPI(config=grading.course_config(course)).generate_assignment(grading.ASSIGNMENT)
    assert outcome["success"], outcome
    fresh = nbformat.read(course / "release" / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in fresh.cells] == [(c.cell_type, c.source) for c in RELEASE.cells], (
        "quiz/release is stale: run `nbgrader generate_assignment module_assessment --force` in quiz/ "
        "and copy nothing else"
    )


def test_the_learner_copy_is_pleasant_and_safe():
    text = json.dumps(RELEASE)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    answers = grading._answer_cells(RELEASE)
    assert sorted(answers) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    code = [c for c in RELEASE.cells if c.cell_type == "code"]
    assert "grade_my_quiz()" in code[-1].source, "the last cell grades the quiz"
    prose = " ".join(c.source for c in RELEASE.cells if c.cell_type == "markdown")
    assert "Binder" in prose and "export_certificate" in prose and "70%" in prose
    for q in QUESTIONS:  # each question: 2 points in 2 test cells of 1 point
        points = [cell(SOURCE, gid).metadata["nbgrader"]["points"] for gid in q.hints]
        assert points == [1, 1], q.id


def test_the_quiz_cells_import_the_grader_lightly():
    """The quiz's first cells run in the learner's kernel and in every grading kernel: they must not load
    SQLAlchemy, the ledger, nbgrader or the class command (0.6 s and 30 MB per graded notebook)."""
    code = ("import sys\nfrom apicourse.grading import warm_up, import_certificate\n"
            "print(sorted(m for m in ('sqlalchemy', 'apicourse.ledger', 'nbgrader', "
            "'apicourse.grading.class_command') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]", run.stdout
