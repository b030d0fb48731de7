"""No submission can touch the gradebook, the ledger, the course or a classmate, and no attempt is ever lost.

A hostile submission (mallory's) tries what the issue saw done: walk up from its folder to ``gradebook.db`` and
``attempts.db``, rewrite the hidden tests, set manual scores, forge and delete ledger rows, edit ``source/`` and a
classmate's submission, read the grader's secrets, open a connection. Sandboxed, every try fails and the class is
graded right; without the sandbox the tamper check catches it and nothing is recorded; ``--require-sandbox``
then refuses to grade. Every graded run is a real ``grade-class``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import shutil
import socket
from pathlib import Path

import nbformat
import pytest
from grading_helpers import ALL, grade_class, new_course, notebook, submit

from apicourse import grading
from apicourse.grading.integrity import poisoned_tests
from apicourse.grading.sandbox import sandbox_status
from apicourse.ledger import Ledger

pytestmark = pytest.mark.slow
SIX = {"Q1": "solution", "Q2": "solution", "Q3": "solution"}

TRY = '''
def _try(what, action):
    try:
        action()
        print("ESCAPED:", what)
    except Exception as error:
        print("blocked:", what, type(error).__name__)
'''
"""Answer code that tries something and prints whether it was blocked (a test then looks for "ESCAPED")."""

HOSTILE = '''# ANSWER Q1
import os, pathlib, socket, sqlite3
''' + TRY + '''
found = [p / name for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]
         for name in ("gradebook.db", "attempts.db") if (p / name).exists()]
print("found by walking up:", [str(p) for p in found])
GRADEBOOK, LEDGER, SOURCE, CLASSMATE = {gradebook!r}, {ledger!r}, {source!r}, {classmate!r}

def _poison():
    db = sqlite3.connect(GRADEBOOK, timeout=1)
    db.execute("UPDATE source_cell SET source = 'pass'")
    db.execute("UPDATE grade SET manual_score = 1")
    db.commit()

def _forge():
    db = sqlite3.connect(LEDGER, timeout=1)
    db.execute("DELETE FROM apicourse_attempts")
    db.execute("INSERT INTO apicourse_attempts (uid, learner, assignment, score, max_score, graded_at, source) "
               "VALUES ('forged', 'mallory', 'module_assessment', 10, 10, '2026-01-01 00:00:00', 'instructor')")
    db.commit()

_try("read the gradebook", lambda: open(GRADEBOOK, "rb").read(100))
_try("rewrite the hidden tests and set manual scores", _poison)
_try("forge and delete ledger rows", _forge)
_try("edit source/", lambda: open(SOURCE, "a").write(" "))
_try("edit a classmate's submission", lambda: open(CLASSMATE, "a").write(" "))
_try("open a connection", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1))
_try("read the grader's secret", lambda: os.environ["APICOURSE_TEST_SECRET"])
_try("read the machine's password hashes", lambda: open("/etc/shadow").read(1))
q1a = q1b = ""
'''


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outputs(course: Path, student: str) -> str:
    nb = nbformat.read(course / "autograded" / student / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb", 4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def read_csv(course: Path) -> dict[str, dict[str, str]]:
    with (course / "grades.csv").open(newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture
def hostile_class(tmp_path):
    """alice (10/10), bob (6/10) and mallory, whose answer attacks everything it can name.

    The answer check would refuse mallory's answer before it runs (``open``, ``import sqlite3``: see
    ``test_answer_check.py``); it is turned off here, in the course's config, to show what the sandbox and the
    tamper check stop on their own."""
    course = new_course(tmp_path)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.AnswerCheck.enabled = False\n")
    ledger_file = tmp_path / "attempts.db"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    alice = submit(course, "alice", notebook(ALL))
    submit(course, "bob", notebook(SIX))
    code = HOSTILE.format(gradebook=str(course / "gradebook.db"), ledger=str(ledger_file),
                          source=str(course / "source" / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb"),
                          classmate=str(alice), port=listener.getsockname()[1])
    submit(course, "mallory", notebook({"Q1": code}))
    env = {"APICOURSE_CACHE_DIR": str(tmp_path / "cache"), "APICOURSE_TEST_SECRET": "s3cret-of-the-grader"}
    yield course, f"sqlite:///{ledger_file}", ledger_file, alice, env
    listener.close()


@pytest.mark.skipif(not sandbox_status().available, reason=sandbox_status().reason)
def test_a_sandboxed_submission_can_change_nothing_but_its_own_score(hostile_class):
    course, url, ledger_file, alice, env = hostile_class
    source = course / "source" / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb"
    before = {"source": digest(source), "alice": digest(alice)}
    run = grade_class(course, url, "--require-sandbox", env=env)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Submissions ran sandboxed" in report and "TAMPERING" not in report, report
    seen = outputs(course, "mallory")
    assert "blocked: read the gradebook" in seen, seen  # the attack really ran
    assert "ESCAPED" not in seen and "s3cret" not in seen, seen
    assert "found by walking up: []" in seen, seen
    rows = read_csv(course)
    assert {s: (r["best"], r["attempts"]) for s, r in rows.items()} == {
        "alice": ("10", "1"), "bob": ("6", "1"), "mallory": ("0", "1")}, report
    assert {"source": digest(source), "alice": digest(alice)} == before
    assert poisoned_tests(course, f"sqlite:///{course / 'gradebook.db'}") is None, "the hidden tests are intact"
    assert [a.uid for a in Ledger(url).attempts("mallory", grading.ASSIGNMENT)] != ["forged"]

    ledger_bytes = ledger_file.read_bytes()  # the attack runs again: the ledger stays byte-for-byte the same
    again = grade_class(course, url, "--require-sandbox", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ledger_file.read_bytes() == ledger_bytes
    assert read_csv(course)["alice"]["best"] == "10"


def test_without_the_sandbox_the_tamper_check_records_nothing(hostile_class):
    course, url, ledger_file, alice, env = hostile_class
    run = grade_class(course, url, env={**env, "APICOURSE_SANDBOX": "off"})
    report = run.stdout + run.stderr
    assert "ESCAPED: rewrite the hidden tests" in outputs(course, "mallory"), "unsandboxed, the attack works"
    assert run.returncode == 1, report
    assert "WITHOUT the sandbox" in report and "TAMPERING: the hidden tests in the gradebook changed" in report
    assert "TAMPERING: the attempts ledger changed" in report, report
    book = Ledger(url)
    assert not book.attempts("alice", grading.ASSIGNMENT) and not book.attempts("bob", grading.ASSIGNMENT)
    # the next run refuses to grade with the poisoned gradebook, rather than grade everyone against `pass`
    rerun = grade_class(course, url, env={**env, "APICOURSE_SANDBOX": "off"})
    assert rerun.returncode == 1 and "differ from source/" in rerun.stdout, rerun.stdout + rerun.stderr


def test_require_sandbox_refuses_when_it_is_unavailable(hostile_class):
    course, url, ledger_file, alice, env = hostile_class
    run = grade_class(course, url, "--require-sandbox", env={**env, "APICOURSE_SANDBOX": "off"})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Not graded: --require-sandbox" in run.stdout and "turned off" in run.stdout
    assert not (course / "autograded").exists() and not ledger_file.exists()


def test_every_notebook_gets_a_grade_or_a_one_sentence_refusal(tmp_path):
    course = new_course(tmp_path)

    def without(*grade_ids):
        def edit(nb):
            nb.cells[:] = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                           not in grade_ids]
        return edit

    def invented(nb):
        extra = nbformat.v4.new_code_cell("assert True")
        extra.metadata["nbgrader"] = {"grade": True, "grade_id": "my_bonus", "locked": False, "points": 5,
                                      "schema_version": 3, "solution": False, "task": False}
        nb.cells.insert(3, extra)

    def stripped(nb):
        for c in nb.cells:
            c.metadata.pop("nbgrader", None)

    def broken(nb):
        for c in nb.cells:
            if "nbgrader" in c.metadata:
                c.metadata["nbgrader"] = "garbage" if c.cell_type == "markdown" else {"grade": "yes"}

    submit(course, "no-q3-cells", notebook(ALL, without("q3_answer", "q3_backoff", "q3_retry_after")))
    submit(course, "invented-cell", notebook(ALL, invented))
    submit(course, "stripped-metadata", notebook(ALL, stripped))
    submit(course, "broken-metadata", notebook(ALL, broken))
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    other.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "hw2_answer", "locked": False,
                                           "schema_version": 3, "solution": True, "task": False}
    huge = ALL | {"Q1": "# ANSWER Q1\nq1a = 'B'\nq1b = 'C'\nprint('x' * 10_000_000)\n"}  # one 10 MB line
    submit(course, "huge-line", notebook(huge))
    submit(course, "other-assignment", other)
    submit(course, "not-json", raw=b"{ this is not json")
    submit(course, "json-not-notebook", raw=json.dumps({"hello": "world"}).encode())
    url = f"sqlite:///{tmp_path / 'class.db'}"
    run = grade_class(course, url, "--workers", "2", env={"APICOURSE_CACHE_DIR": str(tmp_path / "cache")})
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Traceback" not in report and "KeyError" not in report, report
    rows = read_csv(course)
    assert {s: r["best"] for s, r in rows.items()} == {
        "no-q3-cells": "8", "invented-cell": "10", "stripped-metadata": "10", "broken-metadata": "10",
        "huge-line": "10"}, report
    graded = course / "autograded" / "huge-line" / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb"
    assert graded.stat().st_size < 200_000, "output is capped in characters, not only in lines"
    for student, words in (("other-assignment", "is not the module assessment"),
                           ("not-json", "could not be read as a notebook (it is not valid JSON)"),
                           ("json-not-notebook", "could not be read as a notebook (it has no list of cells)")):
        line = next(line for line in report.splitlines() if line.startswith(f"{student}: "))
        assert words in line and line.endswith("not graded."), line


def test_a_broken_ledger_keeps_every_attempt_and_a_worse_retake_never_becomes_the_best(tmp_path):
    course = new_course(tmp_path)
    ledger_file = tmp_path / "attempts.db"
    garbage = b"this is not an SQLite database\n" * 200
    ledger_file.write_bytes(garbage)
    url = f"sqlite:///{ledger_file}"
    env = {"APICOURSE_CACHE_DIR": str(tmp_path / "cache")}
    submit(course, "alice", notebook(ALL))
    run = grade_class(course, url, env=env)
    assert "1 attempt(s) kept pending" in run.stdout and "not a readable database" in run.stdout, run.stdout
    assert ledger_file.read_bytes() == garbage, "the broken ledger is left untouched"
    shutil.move(ledger_file, tmp_path / "attempts.db.broken")  # the instructor moves it aside, as told
    submit(course, "alice", notebook(SIX))  # a worse retake
    again = grade_class(course, url, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    alice = read_csv(course)["alice"]
    assert (alice["best"], alice["latest"], alice["attempts"]) == ("10", "6", "2"), again.stdout
    grade_class(course, url, env=env)  # unchanged: nothing counted twice, the kept attempt included
    assert read_csv(course)["alice"]["attempts"] == "2"


def test_self_grading_without_the_sandbox_still_grades_and_says_so(tmp_path, monkeypatch):
    """Where bubblewrap cannot sandbox (Binder forbids user namespaces), the learner's result says so."""
    from apicourse.grading import sandbox
    from apicourse.grading.self_grading import grade_notebook

    refusing = tmp_path / "bwrap"  # what the installed bwrap prints where user namespaces are not allowed
    refusing.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the kernel "
                        "does not allow non-privileged user namespaces.' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(sandbox, "_bwrap", lambda: str(refusing))
    monkeypatch.setattr(sandbox, "_probe", functools.cache(sandbox._probe.__wrapped__))  # probed afresh
    monkeypatch.setenv("APICOURSE_CACHE_DIR", str(tmp_path / "cache"))
    quiz = tmp_path / "module_assessment.ipynb"
    nbformat.write(notebook(ALL), quiz)
    result = grade_notebook(quiz)
    assert result.graded and result.score == 10, result.text()
    said = ("Your code ran without the sandbox: bubblewrap cannot sandbox here: this machine does not allow user "
            "namespaces (common in containers and on Binder)")
    assert said in result.text(), result.text()
    assert 'class="apicourse-unsandboxed">' + said in result._repr_html_()
    monkeypatch.setenv("APICOURSE_SANDBOX", "off")
    off = grading.GradeResult(quiz.name, questions=result.questions)
    assert "Your code ran without the sandbox: the sandbox is turned off ($APICOURSE_SANDBOX=off)." in off.text()
