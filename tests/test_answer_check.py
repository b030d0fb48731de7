"""Answers that reach into the interpreter are refused before the kernel runs them, and nothing else is touched
(fast checks of :mod:`apicourse.grading.answer_check`; graded end to end in ``test_grading_fairness.py``)."""

from __future__ import annotations

import copy

import nbformat
import pytest
from grading_helpers import RELEASE, SOLUTION, notebook
from test_grading_fairness import HOSTILE_ANSWERS, VARIANTS
from test_grading_security import HOSTILE as HOSTILE_SUBMISSION

from apicourse.grading.answer_check import AnswerCheck, not_run_reason, refusal_of_answer
from apicourse.grading.questions import ASSIGNMENT
from apicourse.grading.warmup import prepared_course

REACHES_IN = {
    "an input transformer": "get_ipython().input_transformers_post.append(lambda lines: [])",
    "a magic (the kernel runs get_ipython())": "%config Completer.use_jedi = False\nq1a = 'B'",
    "a shell escape": "!python -c 'print(1)'",
    "a custom exception handler": "ip = get_ipython()\nip.set_custom_exc((BaseException,), lambda *a: None)",
    "builtins replaced": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "builtins through requests": "import requests\nrequests.compat.builtins.len = lambda x: 1",
    "sys.modules through os": "import os\nos.sys.modules['json'] = None",
    "sys imported from os": "from os import sys",
    "the subclasses walk": "for c in ().__class__.__base__.__subclasses__():\n    pass",
    "gc": "import gc\ngc.get_objects()",
    "a program run": "import os\nos.system('true')",
    "os's functions imported": "from os import system as run",
    "a frame": "def f():\n    yield\ng = f()\nprint(g.gi_frame.f_back)",
    "getattr with a string": "getattr(q1a, 'strip')",
    "eval": "q1a = eval('\"B\"')",
    "IPython's exit object": "shell = exit._ip",
    "IPython's history": "print(_i1)",
    "__builtins__ replaced": "__builtins__ = {}",
    "a module's function patched": "import json\njson.loads = len",
    "a forward reference evaluated": "import typing\ndef f(x: 'int'): pass\ntyping.get_type_hints(f)",
    "a match pattern reading __class__": "match 1:\n    case object(__class__=c):\n        pass",
    "a file opened": "open('gradebook.db', 'rb')",
    "os through an alias": "import os\nrun = os\nrun.system('true')",
    "sys.modules": "import sys\nsys.modules['json'] = None",
    "a module file written by logging": "import logging\nlogging.basicConfig(filename='statistics.py')",
    "a module file written by urllib": "import urllib.parse\nurllib.request.urlretrieve('data:,x', 'statistics.py')",
    "a file written by pathlib": "import pathlib\npathlib.Path('statistics.py').write_text('x')",
    "the hostile submission of test_grading_security": HOSTILE_SUBMISSION.format(gradebook="g", ledger="l", source="s",
                                                                                  classmate="c", port=1),
}


LOGS = SOLUTION["Q3"].replace(  # test_quiz's answer that logs and warns on stderr
    "    for retry in range(max_retries + 1):",
    "    import logging, sys, warnings\n    logging.warning('retrying'); print('oops', file=sys.stderr)\n"
    "    warnings.warn('careful')\n    for retry in range(max_retries + 1):")
KILLS = SOLUTION["Q1"] + "\nimport os\nos._exit(3)\n"  # stops the kernel: costs its question, reaches nothing


def test_every_honest_answer_and_the_released_notebook_runs_unchanged():
    honest = [a for _, a, points in VARIANTS.values() if points] + list(SOLUTION.values()) + [LOGS, KILLS]
    honest += ["# ANSWER Q2\nimport os.path\nfrom sys import stderr\nimport logging\n"
               "logging.basicConfig(level=logging.INFO)\ndef auth_headers():\n    print(os.path.sep, file=stderr)\n"
               "    return {'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']}\n",
               "# ANSWER Q4\nimport email.utils, urllib.parse, http, requests\nfrom collections.abc import Mapping\n"
               "class Reply:\n    __slots__ = ('text',)\n    def __repr__(self): return self.text\n"]
    for answer in honest:
        assert refusal_of_answer(answer) is None, answer
    for cell in RELEASE.cells:  # the learner's copy as released: answers, helpers, the grading cells
        if cell.cell_type == "code":
            assert refusal_of_answer(cell.source, own_cell=True) is None, cell.source


@pytest.mark.parametrize("what", REACHES_IN)
def test_an_answer_that_reaches_into_the_interpreter_is_refused_in_one_sentence(what):
    reason = refusal_of_answer("# ANSWER Q1\n" + REACHES_IN[what])
    assert reason is not None, what
    assert reason.startswith("This answer was not run: ") and reason.endswith("it scores 0.")
    assert reason.count(". ") == 0 and "(line " in reason, reason


def test_a_cell_that_does_not_parse_is_left_to_score_as_it_does():
    assert refusal_of_answer("# ANSWER Q3\ndef call_with_retry(send, sleep:\n    get_ipython()") is None


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """nbgrader's resources for the quiz's real gradebook (the one self-grading copies)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APICOURSE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        ready = prepared_course()
    return {"nbgrader": {"db_url": f"sqlite:///{ready / 'gradebook.db'}", "notebook": ASSIGNMENT,
                         "assignment": ASSIGNMENT}}


def test_the_check_replaces_only_the_refused_answer(gradebook):
    hostile = "# ANSWER Q3\n" + REACHES_IN["a custom exception handler"] + "\ndef call_with_retry(*a): return {}\n"
    own = nbformat.v4.new_code_cell(REACHES_IN["an input transformer"])  # a cell the learner added

    def spoof(nb):  # the Q5 answer claims to be a locked cell (the notebook's flags are the learner's)
        nb.cells.insert(7, own)
        q5 = next(c for c in nb.cells if c.source.startswith("# ANSWER Q5"))
        q5.source = "# ANSWER Q5\nq5a = q5b = 'A'\nimport gc\n"
        q5.metadata.nbgrader.update(locked=True, grade=True, solution=False, points=2)

    nb = notebook({"Q1": "solution", "Q2": "solution", "Q3": hostile}, edit=spoof)
    before = copy.deepcopy(nb)
    checked, _ = AnswerCheck().preprocess(nb, gradebook)
    changed = [i for i, (a, b) in enumerate(zip(before.cells, checked.cells, strict=True)) if a.source != b.source]
    assert [checked.cells[i].source.split("\n", 1)[0] for i in changed] == [
        "# This cell was not run: get_ipython (line 1) reaches into the Python interpreter that runs the tests, "
        "which no answer needs; it was skipped.", "# ANSWER Q3", "# ANSWER Q5"]
    assert checked.cells[changed[2]].source.split("\n")[1].endswith("import gc (line 3) reaches into the Python "
                                                                     "interpreter that runs the tests, which no "
                                                                     "answer needs; it scores 0.")
    q3 = checked.cells[changed[1]].source
    assert not_run_reason(q3) == ("This answer was not run: get_ipython (line 2) reaches into the Python "
                                  "interpreter that runs the tests, which no answer needs; it scores 0.")
    assert q3.endswith(f"\nraise RuntimeError({not_run_reason(q3)!r})\n"), q3


def test_the_hostile_answers_graded_in_the_fairness_test_are_all_refused():
    for student in HOSTILE_ANSWERS:
        question, answer, points = VARIANTS[student]
        assert points == 0 and refusal_of_answer(answer) is not None, student
