"""A learner's retake is graded in a kernel started beforehand (apicourse.grading.spare_kernel): the same grade,
a fresh kernel every time, nothing left running."""

from __future__ import annotations

import os
import time

import nbformat
import pytest

from apicourse.grading import grade_notebook, prepared_course
from apicourse.grading import spare_kernel
from grading_helpers import ALL, notebook


@pytest.fixture
def taken(monkeypatch):
    """Every spare a grading took (observed, not replaced)."""
    seen: list[spare_kernel.Spare] = []
    original = spare_kernel.take

    def observe(key):
        spare = original(key)
        if spare is not None:
            spare.pid = spare.km.provisioner.process.pid  # its process, to check it is gone afterwards
            seen.append(spare)
        return spare

    monkeypatch.setattr(spare_kernel, "take", observe)
    spare_kernel.shut_down()
    yield seen
    spare_kernel.shut_down()


def write(tmp_path, name, nb):
    path = tmp_path / name / "module_assessment.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def kernel_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_retake_takes_the_spare_and_grades_the_same(tmp_path, taken):
    prepared_course()
    full, blank = write(tmp_path, "full", notebook(ALL)), write(tmp_path, "blank", notebook())
    first = grade_notebook(full, spare=True)
    assert first.score == 10 and not taken, "the first grading of a process starts its own kernel"
    assert spare_kernel._SPARE is not None, "after a grading, the next kernel is started for the retake"
    again = grade_notebook(blank, spare=True)
    assert [s.km is not None for s in taken] == [True], "the retake took the spare"
    assert again.score == 0 and again.error is None
    third = grade_notebook(full, spare=True)
    assert third.score == 10 and len(taken) == 2 and taken[0] is not taken[1], "a spare is used once"
    taken[0].join(timeout=60)
    assert not taken[0].is_alive() and not kernel_alive(taken[0].pid), "a used spare is shut down after its grading"


def test_each_grading_gets_a_fresh_kernel(tmp_path, taken):
    """What one notebook leaves in its kernel (an environment variable here) is gone for the next grading."""
    prepared_course()
    leaves = notebook({**ALL, "Q1": '# ANSWER Q1\nimport os\nos.environ["Q1A"] = "B"\nq1a = "B"\nq1b = "C"'})
    reads = notebook({**ALL, "Q1": '# ANSWER Q1\nimport os\nq1a = os.environ.get("Q1A", "")\nq1b = "C"'})
    grade_notebook(write(tmp_path, "first", notebook(ALL)), spare=True)  # now a spare is ready
    assert grade_notebook(write(tmp_path, "leaves", leaves), spare=True).points()["Q1"] == 2
    result = grade_notebook(write(tmp_path, "reads", reads), spare=True)
    assert len(taken) == 2, "both gradings ran in a spare"
    assert result.points()["Q1"] == 1, "the spare must not have run the previous notebook"


def test_a_spare_for_another_sandbox_is_not_used(tmp_path, taken):
    prepared_course()
    path = write(tmp_path, "full", notebook(ALL))
    grade_notebook(path, spare=True)
    assert spare_kernel._SPARE is not None
    spare_kernel._SPARE.key = ("started", "for", "another", "sandbox")
    stale = spare_kernel._SPARE
    assert grade_notebook(path, spare=True).score == 10
    assert not taken, "a spare started with other settings is not used"
    stale.join(timeout=60)
    assert not stale.is_alive(), "and it is shut down"


def test_an_unused_spare_is_shut_down_when_idle(tmp_path, taken, monkeypatch):
    monkeypatch.setattr(spare_kernel, "IDLE_SECONDS", 1)
    prepared_course()
    grade_notebook(write(tmp_path, "full", notebook(ALL)), spare=True)
    spare = spare_kernel._SPARE
    assert spare is not None and spare.ready.wait(120) and spare.km is not None
    pid = spare.km.provisioner.process.pid
    assert kernel_alive(pid)
    spare.join(timeout=60)
    assert not spare.is_alive() and not kernel_alive(pid), "an idle spare gives its memory back"
    assert spare_kernel._SPARE is None


def test_a_loop_that_swallows_the_interrupt_costs_only_its_question_in_the_spare(tmp_path, taken):
    prepared_course()
    stuck = ("# ANSWER Q3\ndef call_with_retry(send, sleep, max_retries=4):\n    while True:\n        try:\n"
             "            send()\n        except:  # noqa: E722\n            pass\n")
    path = write(tmp_path, "stuck", notebook({**ALL, "Q3": stuck}))
    grade_notebook(write(tmp_path, "full", notebook(ALL)), spare=True)
    started = time.perf_counter()
    result = grade_notebook(path, timeout=2, spare=True)
    assert taken, "graded in the spare"
    assert result.points() == {"Q1": 2, "Q2": 2, "Q3": 0, "Q4": 2, "Q5": 2}, (result.error, result.points())
    # the interrupt lands inside the answer's try (the kernel is stopped) or outside it (the test is stopped):
    # either way the learner is told why Q3 scored 0
    feedback = {q.id: q.feedback for q in result.questions}["Q3"]
    assert "interrupted" in feedback or "was stopped" in feedback, feedback
    assert time.perf_counter() - started < 300
