"""grade-class run again: a submission already graded and recorded, unchanged since, is not run again."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from grading_helpers import ALL, SOLUTION, grade_class, new_course, notebook, submit

from apicourse import grading


def rows(course: Path) -> dict[str, tuple[str, str, str]]:
    with (course / "grades.csv").open(newline="") as f:
        return {r["student"]: (r["latest"], r["best"], r["attempts"]) for r in csv.DictReader(f)}


def test_a_rerun_skips_unchanged_submissions_and_grades_changed_ones(tmp_path: Path) -> None:
    course = new_course(tmp_path)
    config = course / "nbgrader_config.py"  # ada's answer counts its runs in a file, which the answer check refuses
    config.write_text(config.read_text() + "\nc.AnswerCheck.enabled = False\n")
    runs = tmp_path / "ada-ran"  # each run of ada's notebook adds a line (outside the sandbox: it is off here)
    counting = SOLUTION["Q2"] + f"\nwith open({str(runs)!r}, 'a') as _f:\n    _f.write('ran\\n')\n"
    submit(course, "ada", notebook({**ALL, "Q2": counting}))
    submit(course, "bob", notebook({}))
    ledger = f"sqlite:///{tmp_path / 'class.db'}"
    env = {"APICOURSE_SANDBOX": "off"}

    first = grade_class(course, ledger, "--workers", "2", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert rows(course) == {"ada": ("10", "10", "1"), "bob": ("0", "0", "1")}
    assert runs.read_text().count("ran") == 1

    submit(course, "bob", notebook(ALL))  # bob submits again; ada's submission is unchanged
    second = grade_class(course, ledger, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert runs.read_text().count("ran") == 1, "ada's unchanged submission was run again"
    assert rows(course) == {"ada": ("10", "10", "1"), "bob": ("10", "10", "2")}
    assert "1 of them unchanged since the last run (kept, not run again)" in second.stdout
    assert "ada: 10/10" in second.stdout, "the report still gives every student's score"

    shutil.rmtree(course / "autograded" / "ada")  # the graded copy is gone: grade it again, record nothing new
    third = grade_class(course, ledger, env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    assert runs.read_text().count("ran") == 2
    assert rows(course) == {"ada": ("10", "10", "1"), "bob": ("10", "10", "2")}
    assert (course / "autograded" / "ada" / grading.ASSIGNMENT / f"{grading.ASSIGNMENT}.ipynb").is_file()
