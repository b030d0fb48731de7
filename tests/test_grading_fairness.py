"""The quiz is fair to every correct answer and cannot be gamed: per question, answers right in other styles,
plausibly wrong and hostile, all graded through ``grade-class`` (sandboxed, as an instructor runs it), each
with the points it must get — and every other question untouched.

One class holds every variant (one student each: the full solution with one answer replaced), so a single
``grade-class`` run grades them all.
"""

from __future__ import annotations

import csv

import nbformat
import pytest
from grading_helpers import ALL, SOLUTION, grade_class, new_course, notebook, points_per_question, submit

pytestmark = pytest.mark.slow

MC_ALWAYS_EQUAL = '''
class _Yes(str):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = str.__hash__
    def strip(self, *a): return self
    upper = rstrip = lower = strip
'''

VARIANTS: dict[str, tuple[str, str, float]] = {
    # student: (question, answer cell, points that question must get)
    # Q1 (Hugging Face + REST, and the API contract): multiple choice
    "q1-lower-case": ("Q1", '# ANSWER Q1\nq1a = "b"\nq1b = " c) "\n', 2),
    "q1-wrong": ("Q1", '# ANSWER Q1\nq1a = "D"\nq1b = "C"\n', 1),
    "q1-shadows-str": ("Q1", "# ANSWER Q1\nclass str:\n    def __init__(self, *a): pass\n"
                       "    def __eq__(self, other): return True\n    def __hash__(self): return 0\n"
                       "    def strip(self, *a): return self\n    upper = rstrip = strip\n"
                       'q1a = q1b = "Z"\n', 0),
    "q1-lying-string": ("Q1", "# ANSWER Q1\n" + MC_ALWAYS_EQUAL + "q1a = q1b = _Yes('Z')\n", 0),
    # Q2: keys from the environment
    "q2-case-insensitive-dict": ("Q2", "# ANSWER Q2\nimport os\nfrom requests.structures import CaseInsensitiveDict\n"
                                 "def auth_headers():\n    key = os.getenv('OPENAI_API_KEY')\n    if not key:\n"
                                 "        raise RuntimeError('OPENAI_API_KEY is not set')\n"
                                 "    return CaseInsensitiveDict({'authorization': 'Bearer ' + key, "
                                 "'content-type': 'application/json'})\n", 2),
    "q2-lower-case-names": ("Q2", "# ANSWER Q2\nimport os\ndef auth_headers():\n"
                            "    key = os.environ.get('OPENAI_API_KEY') or ''\n    if key == '':\n"
                            "        raise RuntimeError('Please set OPENAI_API_KEY')\n"
                            "    return {'authorization': f'Bearer {key}', 'content-type': 'application/json'}\n", 2),
    "q2-value-error": ("Q2", SOLUTION["Q2"].replace("raise RuntimeError", "raise ValueError"), 1),
    "q2-hard-coded-key": ("Q2", "# ANSWER Q2\ndef auth_headers():\n"
                          "    return {'Authorization': 'Bearer sk-test-key-one',\n"
                          "            'Content-Type': 'application/json'}\n",
                          0),
    "q2-always-equal": ("Q2", "# ANSWER Q2\n" + MC_ALWAYS_EQUAL +
                        "class _H(dict):\n    def get(self, *a): return _Yes('x')\n    def items(self): return []\n"
                        "def auth_headers():\n    import os\n    if not os.environ.get('OPENAI_API_KEY'):\n"
                        "        raise _Yes('OPENAI_API_KEY')\n    return _H()\n", 0),
    # Q3: retry 429 and 5xx, honour Retry-After, max_retries counts retries, never retry a 4xx
    "q3-lower-case-header": ("Q3", SOLUTION["Q3"].replace('.get("Retry-After")', '.get("retry-after")'), 2),
    "q3-while-loop": ("Q3", "# ANSWER Q3\ndef call_with_retry(send, sleep, max_retries=4):\n    retries = 0\n"
                      "    while True:\n        r = send()\n"
                      "        if r.status_code == 200:\n            return r.json()\n"
                      "        if not (r.status_code == 429 or 500 <= r.status_code <= 599):\n"
                      "            raise RuntimeError(r.status_code)\n        if retries >= max_retries:\n"
                      "            raise RuntimeError('giving up')\n"
                      "        wait = r.headers['Retry-After'] if 'Retry-After' in r.headers else 2 ** retries\n"
                      "        sleep(int(wait))\n        retries += 1\n", 2),
    "q3-retries-other-4xx": ("Q3", SOLUTION["Q3"].replace("if status != 429 and status < 500:",
                                                          "if status == 400:"), 1),
    "q3-counts-calls": ("Q3", SOLUTION["Q3"].replace("range(max_retries + 1)", "range(max_retries)")
                        .replace("if retry == max_retries:", "if retry == max_retries - 1:"), 1),
    "q3-no-5xx": ("Q3", SOLUTION["Q3"].replace("if status != 429 and status < 500:", "if status != 429:"), 0),
    "q3-shadows-RuntimeError": ("Q3", "# ANSWER Q3\nRuntimeError = BaseException\n" + SOLUTION["Q3"].replace(
        'raise RuntimeError(f"HTTP {status}: not worth a retry")', "raise ValueError(status)").split("\n", 1)[1], 1),
    "q3-redefines-fakes": ("Q3", "# ANSWER Q3\nclass FakeClock:\n    def __init__(self): self.sleeps = [1.0, 2.0]\n"
                           "    def __call__(self, s): pass\ndef fake_server(*responses):\n"
                           "    def send(): return responses[-1]\n    send.calls = 3\n    return send\n"
                           "def call_with_retry(send, sleep, max_retries=4):\n    r = send()\n"
                           "    if r.status_code == 200:\n        return r.json()\n    raise RuntimeError('no')\n", 0),
    # Q4: navigating OpenAI and Anthropic JSON
    "q4-list-and-json-dumps": ("Q4", "# ANSWER Q4\nimport json\ndef reply_and_tokens(completion):\n"
                               "    return [completion['choices'][0]['message']['content'], "
                               "completion['usage']['total_tokens']]\n\n"
                               "def tool_result_message(response, result):\n"
                               "    for block in reversed(response['content']):\n"
                               "        if block['type'] == 'tool_use':\n"
                               "            return {'role': 'user', 'content': [{'type': 'tool_result', "
                               "'tool_use_id': block['id'], 'content': json.dumps(result)}]}\n", 2),
    "q4-text-blocks": ("Q4", SOLUTION["Q4"].replace('"content": result}',
                                                    '"content": [{"type": "text", "text": result}]}'), 2),
    "q4-second-block": ("Q4", SOLUTION["Q4"].replace(
        'block = next(b for b in response["content"] if b.get("type") == "tool_use")',
        'block = response["content"][1]'), 1),
    "q4-last-block": ("Q4", SOLUTION["Q4"].replace(
        'block = next(b for b in response["content"] if b.get("type") == "tool_use")',
        'block = response["content"][-1]'), 1),
    "q4-shadows-and-lies": ("Q4", "# ANSWER Q4\nimport json\n" + MC_ALWAYS_EQUAL +
                            "isinstance = lambda *a: True\nlen = lambda x: 1\n"
                            "tuple = lambda x: ('REST uses HTTP methods.', 27)\njson.loads = lambda s: s\n"
                            "class _D(dict):\n    def get(self, *a): return _Yes('x')\n"
                            "    def __getitem__(self, k): return [self]\n"
                            "def reply_and_tokens(c): return _Yes('x')\n"
                            "def tool_result_message(r, x): return _D()\n", 0),
    # Q5: chaining, and what a 400 means
    "q5-parenthesis": ("Q5", '# ANSWER Q5\nq5a = "C)"\nq5b = "a"\n', 2),
}

HOSTILE_ANSWERS: dict[str, tuple[str, str, float]] = {
    # answers that reach into the interpreter running the hidden tests: refused before the kernel runs them
    # (apicourse.grading.answer_check). Run, the first would give a blank answer its points (it blanks every
    # later cell, the hidden tests included)...
    "hook-input-transformer": ("Q1", "# ANSWER Q1\nget_ipython().input_transformers_post.append(lambda lines: [])\n",
                               0),
    # ... and these are right answers that also reach in: run, they would score 2
    "hook-exception-handler": ("Q3", SOLUTION["Q3"] + "\nget_ipython().set_custom_exc((BaseException,), "
                               "lambda *a, **k: None)\n", 0),
    "hook-builtins-replaced": ("Q2", SOLUTION["Q2"] + "\nimport builtins\nbuiltins.print = lambda *a, **k: None\n", 0),
    "hook-sys-modules": ("Q4", SOLUTION["Q4"] + "\nimport os\nos.sys.modules['json'] = os\n", 0),
    "hook-subclasses-walk": ("Q5", SOLUTION["Q5"] + "\nfor c in ().__class__.__base__.__subclasses__():\n"
                             "    if c.__name__ == 'catch_warnings':\n        modules = c()._module.sys.modules\n", 0),
}
VARIANTS.update(HOSTILE_ANSWERS)

OWN_CELL_HOOK = "get_ipython().input_transformers_post.append(lambda lines: [])"
"""A cell the learner added (not an answer) that would blank every later cell: skipped, it costs nothing."""


def test_every_answer_gets_the_points_it_must_and_no_other_question_moves(tmp_path):
    assert set(ALL) == {"Q1", "Q2", "Q3", "Q4", "Q5"}
    for question, answer, _ in VARIANTS.values():
        assert answer.startswith(f"# ANSWER {question}"), answer
        assert answer != SOLUTION[question] or question == "Q5"
    course = new_course(tmp_path)
    for student, (question, answer, _) in VARIANTS.items():
        submit(course, student, notebook({**ALL, question: answer}))
    blank_q1 = notebook({**ALL, "Q1": '# ANSWER Q1\nq1a = ""\nq1b = ""\n'})
    blank_q1.cells.insert(next(i for i, c in enumerate(blank_q1.cells) if c.source.startswith("# ANSWER Q1")),
                          nbformat.v4.new_code_cell(OWN_CELL_HOOK))
    submit(course, "hook-in-own-cell", blank_q1)
    url = f"sqlite:///{tmp_path / 'class.db'}"
    run = grade_class(course, url, "--workers", "2", env={"APICOURSE_CACHE_DIR": str(tmp_path / "cache")})
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Submissions ran sandboxed" in report, report
    wrong = {}
    for student, (question, _, expected) in VARIANTS.items():
        got = points_per_question(url, student)
        if got != {**{q: 2.0 for q in ALL}, question: float(expected)}:
            wrong[student] = got
    got = points_per_question(url, "hook-in-own-cell")
    if got != {**{q: 2.0 for q in ALL}, "Q1": 0.0}:
        wrong["hook-in-own-cell"] = got
    assert not wrong, (wrong, report)
    with (course / "grades.csv").open(newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["q3-redefines-fakes"]["best"] == "8" and rows["q1-lower-case"]["best"] == "10"
