"""A class on a real JupyterHub with PostgreSQL, end to end, as an instructor runs it.

The hub runs the course's own ``deploy/jupyterhub/jupyterhub_config.py``; three learners and an instructor log in
over HTTP; learners fetch and submit from their own servers (nbgrader's assignment list, as the Lab UI does it),
one of them three times (10, 4, then 7 points); the instructor collects and runs ``grade-class`` in the formgrader
service, on PostgreSQL. Every submission counts toward the best, and nothing a learner runs changes what the
instructor exports. Everything listens on 127.0.0.1 and is stopped at the end.

Needs root, PostgreSQL 15, the class's Unix accounts, the proxy and the learners' environment: ``.ci/run``
prepares them (``deploy/jupyterhub/setup-host.sh``) and sets ``APICOURSE_REQUIRE_HUB=1`` so that a missing
piece fails instead of skipping.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from hub_class import GRADER, INSTRUCTOR, LEARNERS, Browser, Hub, Postgres, missing

from apicourse.grading import RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, _answer_cells
from apicourse.grading.questions import _ANSWER_MARK

pytestmark = [pytest.mark.slow]

ADA, BOB, CYD = LEARNERS
SERVICE = "formgrader-working-with-apis"
SOLUTION = _answer_cells(nbformat.read(SOURCE_NOTEBOOK, as_version=4))
TEN = dict(SOLUTION)
FOUR = {q: SOLUTION[q] for q in ("Q1", "Q2")}
SEVEN = {q: SOLUTION[q] for q in ("Q1", "Q2", "Q3")} | {"Q5": '# ANSWER Q5\nq5a = "C"\nq5b = "B"\n'}


@pytest.fixture(scope="module")
def hub():
    lacks = missing()
    if lacks:
        message = "a real class cannot run here; missing: " + "; ".join(lacks)
        if os.environ.get("APICOURSE_REQUIRE_HUB"):
            pytest.fail(message + " (run deploy/jupyterhub/setup-host.sh as .ci/run does)")
        pytest.skip(message)
    postgres = Postgres().start()
    running = Hub(postgres)
    try:
        yield running.start()
    finally:
        running.stop()
        postgres.stop()


def answered(fetched: dict, answers: dict[str, str]) -> dict:
    """The fetched notebook with some answer cells filled in, as a learner types them."""
    nb = copy.deepcopy(fetched)
    for cell in nb["cells"]:
        first = "".join(cell["source"]).split("\n", 1)[0] if cell["cell_type"] == "code" else ""
        match = _ANSWER_MARK.match(first)
        if match and match.group(1) in answers:
            cell["source"] = answers[match.group(1)]
    return nb


FETCHED: dict[str, dict] = {}  # each learner's notebook as fetched, before any answer


def submit(learner: Browser, answers: dict[str, str]) -> None:
    """Write answers into the fetched notebook (the contents API, as Lab saves) and submit (nbgrader's API)."""
    path = "/api/contents/module_assessment/module_assessment.ipynb"
    if learner.user not in FETCHED:
        fetched = learner.call("GET", path)
        assert fetched.ok, fetched.text
        FETCHED[learner.user] = fetched.json()["content"]
    saved = learner.call("PUT", path, json={"type": "notebook", "format": "json",
                                            "content": answered(FETCHED[learner.user], answers)})
    assert saved.ok, saved.text
    sent = learner.call("POST", "/assignments/submit",
                        data={"course_id": "working-with-apis", "assignment_id": "module_assessment"})
    assert sent.ok and sent.json()["success"], f"{learner.user} could not submit: {sent.text}"


def disabled_extensions(browser: Browser, prefix: str) -> set[str]:
    """The JupyterLab extensions the page at ``prefix`` turns off (from its embedded page config)."""
    page = browser.http.get(f"{prefix}/lab", timeout=60)
    assert page.ok, page.text
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S)
    assert found, "JupyterLab's page config is missing"
    return set(json.loads(found.group(1)).get("disabledExtensions") or [])


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_a_class_on_jupyterhub_every_submission_counts_and_learners_cannot_forge(hub: Hub) -> None:
    svc = f"{hub.url}/services/{SERVICE}"
    run_in_course = "import subprocess, sys\n{}"

    # --- the instructor logs in, opens formgrader (a hub service) and releases the quiz ------------------------
    instructor = Browser(hub, INSTRUCTOR)
    assert instructor.login().status_code == 302, "the instructor logs in over HTTP"
    instructor.open(svc)
    assert instructor.http.get(f"{svc}/formgrader", timeout=60).ok, "instructors see formgrader"
    assert not {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} & disabled_extensions(
        instructor, svc), "instructors see formgrader and Create Assignment"
    release = (
        "for step in (['generate_assignment', 'module_assessment', '--force'], ['release_assignment', "
        "'module_assessment', '--force']):\n"
        "    out = subprocess.run([sys.executable, '-m', 'nbgrader', *step], capture_output=True, text=True)\n"
        "    assert out.returncode == 0, out.stdout + out.stderr\n"
        "print('released')"
    )
    assert "released" in instructor.run(run_in_course.format(release), prefix=svc)

    # --- learners log in, start their servers, fetch; they see the assignment list and no instructor tools -----
    learners = {name: Browser(hub, name) for name in LEARNERS}
    for name, learner in learners.items():
        assert learner.login().status_code == 302, f"{name} logs in over HTTP"
        learner.start_server()
        assert learner.call("GET", "/formgrader").status_code == 404, "no formgrader in a learner's server"
        assert learner.http.get(f"{svc}/lab", timeout=60, allow_redirects=True).status_code == 403, \
            "a learner cannot open the instructors' formgrader service"
        disabled = disabled_extensions(learner, learner.prefix)
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= disabled, disabled
        assert "@jupyter/nbgrader:assignment-list" not in disabled, "learners see the assignment list"
        listed = learner.call("GET", "/assignments", params={"course_id": "working-with-apis"})
        assert listed.ok and listed.json()["success"], listed.text
        fetched = learner.call("POST", "/assignments/fetch",
                               data={"course_id": "working-with-apis", "assignment_id": "module_assessment"})
        assert fetched.ok and fetched.json()["success"], f"{name} could not fetch: {fetched.text}"

    # --- they submit: ada three times (10, then 4, then 7 points); bob a blank copy; cyd once (7) ---------------
    for answers in (TEN, FOUR, SEVEN):
        submit(learners[ADA], answers)
    submit(learners[BOB], {})
    submit(learners[CYD], SEVEN)

    # --- what a learner can and cannot do ------------------------------------------------------------------------
    bob = learners[BOB]
    # bob grades himself (a full solution) in his own server: that is his record, not the instructor's
    selfgrade = (
        "from apicourse.grading import grade_my_quiz\n"
        "r = grade_my_quiz('solved.ipynb', ignore_unsaved=True)\n"
        "print('self', r.score, r.learner, r.standing.best_score if r.standing else r.ledger_error)"
    )
    solved = bob.call("PUT", "/api/contents/solved.ipynb", json={
        "type": "notebook", "format": "json",
        "content": answered(json.loads(nbformat.writes(nbformat.read(RELEASE_NOTEBOOK, as_version=4))), TEN)})
    assert solved.ok, solved.text
    assert f"self 10.0 {BOB} 10.0" in bob.run(selfgrade), "bob's own record has his self-graded 10"
    probe = f"""
import glob, json, os
from apicourse.ledger import Ledger, LedgerError, NewAttempt
inbound = os.path.join(os.environ['APICOURSE_EXCHANGE'], 'working-with-apis', 'inbound')
result = {{'env': sorted(k for k in os.environ if 'LEDGER' in k or 'GRADEBOOK' in k),
          'password_in_env': {hub.pg.password!r} in json.dumps(dict(os.environ))}}
def attempt(name, action):
    try:
        action()
        result[name] = 'allowed'
    except (PermissionError, LedgerError) as error:
        result[name] = 'refused: ' + str(error)[:300]
attempt('list_inbound', lambda: os.listdir(inbound))
result['guess_inbound'] = glob.glob(os.path.join(inbound, '{ADA}+*'))
attempt('read_ada_notebook', lambda: open('/home/{ADA}/module_assessment/module_assessment.ipynb').read())
attempt('list_course_submitted', lambda: os.listdir('/home/{GRADER}/working-with-apis'))
for who, url in (('write_ledger', {hub.pg.url('ledger', password=False)!r}),
                 ('write_ledger_as_postgres', 'postgresql+psycopg://postgres@127.0.0.1:{hub.pg.port}/ledger'),
                 ('write_ledger_guessing', 'postgresql+psycopg://{hub.pg.role}:guess@127.0.0.1:{hub.pg.port}/ledger')):
    attempt(who, lambda url=url: Ledger(url, timeout=5).record(
        NewAttempt('{BOB}', 'module_assessment', 10, 10, source='instructor')))
# a submission made under cyd's name, written straight into the exchange's write-only inbound/
forged = os.path.join(inbound, '{CYD}+module_assessment+2099-01-01 00:00:00.000000 UTC+forged')
os.makedirs(forged)
os.chmod(forged, 0o777)
with open('solved.ipynb') as src, open(os.path.join(forged, 'module_assessment.ipynb'), 'w') as out:
    out.write(src.read())
with open(os.path.join(forged, 'timestamp.txt'), 'w') as out:
    out.write('2099-01-01 00:00:00.000000 UTC')
print(json.dumps(result))
"""
    seen = json.loads(bob.run(probe).strip().splitlines()[-1])
    assert seen["env"] == [] and not seen["password_in_env"], "a learner's server gets no grading credentials"
    assert seen["list_inbound"].startswith("refused"), "learners cannot list the exchange's inbound/"
    assert seen["guess_inbound"] == [], "nor find another learner's submission in it"
    assert seen["read_ada_notebook"].startswith("refused"), "nor read another learner's notebook"
    assert seen["list_course_submitted"].startswith("refused"), "nor look into the instructor's course"
    for attempt in ("write_ledger", "write_ledger_as_postgres", "write_ledger_guessing"):
        assert seen[attempt].startswith("refused"), f"{attempt}: {seen[attempt]}"
        assert "password" in seen[attempt] or "authentication" in seen[attempt], seen[attempt]

    # --- the instructor collects and grades the class on PostgreSQL, in the course folder --------------------
    grade = (
        "out = subprocess.run([sys.executable, '-m', 'nbgrader', 'collect', 'module_assessment'], "
        "capture_output=True, text=True)\n"
        "assert out.returncode == 0, out.stdout + out.stderr\n"
        "out = subprocess.run([sys.executable, '-m', 'apicourse.grading', 'grade-class', '--lms', 'canvas', "
        "'--lms', 'moodle'], capture_output=True, text=True)\n"
        "print(out.stdout + out.stderr)\nassert out.returncode == 0"
    )
    report = instructor.run(run_in_course.format(grade), prefix=svc)
    course = hub.course
    assert f"Course graded: {course}" in report and f"CSV: {course / 'grades.csv'}" in report, report
    rows = read_csv(course / "grades.csv")
    assert set(rows) == set(LEARNERS), report
    ada = rows[ADA]
    assert (ada["best"], ada["attempts"], ada["latest"], ada["passed"]) == ("10", "3", "7", "True"), report
    assert (rows[BOB]["best"], rows[BOB]["attempts"]) == ("0", "1"), "bob's self-grading is not in the export"
    assert (rows[CYD]["best"], rows[CYD]["attempts"]) == ("7", "1"), "the submission bob made as cyd is refused"
    assert f"{CYD}: inbound {CYD}+module_assessment+2099" in report and f"belongs to Unix user {BOB}" in report
    submitted = [json.loads(line) for line in hub.pg.sql(
        "SELECT json_build_object('who', learner, 'score', score, 'source', source) FROM apicourse_attempts "
        "ORDER BY id", db="ledger").splitlines()]
    assert sorted((a["who"], a["score"]) for a in submitted) == sorted(
        [(ADA, 10), (ADA, 4), (ADA, 7), (BOB, 0), (CYD, 7)]), submitted
    assert {a["source"] for a in submitted} == {"instructor"}
    assert hub.pg.sql("SELECT count(*) FROM submitted_assignment", db="gradebook").strip() == "3", \
        "nbgrader's own gradebook (in PostgreSQL) holds each learner's latest submission"
    canvas = (course / "canvas-grades.csv").read_text(encoding="utf-8").splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,") and f"{ADA},,,{ADA},,10" in canvas
    assert f"{ADA},10" in (course / "moodle-grades.csv").read_text(encoding="utf-8").splitlines()
    # (grading again records nothing twice: tests/test_class_exchange.py, which needs no hub)
