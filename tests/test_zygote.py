"""grade-class forks each grading kernel from one zygote per worker (``apicourse.grading.zygote``): faster,
and still one clean sandbox per submission.

A worker grades its notebooks one after another in the same sandbox, so what one submission leaves behind
must be gone before the next starts: its processes (a daemon that would kill or spy on the next kernel), its
files (``/tmp``, ``/dev/shm``, its home), and it must not reach the zygote itself. Every run here is a real
``grade-class`` with one worker, students graded in name order.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from grading_helpers import ALL, grade_class, new_course, notebook, submit
from test_grading_security import TRY, outputs, read_csv

from apicourse.grading.sandbox import sandbox_status

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_status().available, reason=sandbox_status().reason)]

LEAVES_A_MESS = '''# ANSWER Q1
import os, pathlib, time
for place in ("/tmp", "/dev/shm", os.environ["HOME"], "."):
    pathlib.Path(place, "left-by-aaron.py").write_text("print('planted')")
kernel, zygote = os.getpid(), os.getppid()
if os.fork() == 0:  # a daemon that outlives this kernel, then kills the next kernel as soon as it starts
    os.setsid()
    if os.fork() == 0:
        me = os.getpid()
        while pathlib.Path(f"/proc/{kernel}").exists():
            time.sleep(0.01)
        end = time.time() + 120
        while time.time() < end:
            for entry in pathlib.Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) not in (1, me, zygote):
                    try:
                        if b"python" in (entry / "cmdline").read_bytes():
                            os.kill(int(entry.name), 9)
                    except Exception:
                        pass
            time.sleep(0.01)
    os._exit(0)
''' + TRY + '''
_try("read the zygote's memory", lambda: open(f"/proc/{os.getppid()}/mem", "rb").read(1))
_try("open the zygote's command pipe", lambda: open(f"/proc/{os.getppid()}/fd/0", "rb"))
_try("read the zygote's environment", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read(1))
print([line for line in open("/proc/self/status") if line.startswith("CapEff")])
q1a = q1b = ""
'''

LOOKS_AROUND = '''# ANSWER Q1
import os, pathlib
others = [e.name for e in pathlib.Path("/proc").iterdir() if e.name.isdigit() and int(e.name) not in (1, os.getpid(), os.getppid())]
left = [str(p) for place in ("/tmp", "/dev/shm", os.environ["HOME"], ".") for p in pathlib.Path(place).rglob("left-by-*")]
print("other processes:", others, "left behind:", left)
q1a = "B"
q1b = "C"
'''

KILLS_THE_ZYGOTE = '''# ANSWER Q1
import os
os.kill(os.getppid(), 9)
q1a = q1b = ""
'''


def test_what_a_submission_leaves_behind_is_gone_before_the_next_one_runs(tmp_path):
    course = new_course(tmp_path)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.AnswerCheck.enabled = False\n")  # let the answers run: the sandbox is under test
    submit(course, "aaron", notebook({"Q1": LEAVES_A_MESS}))
    submit(course, "berta", notebook({**ALL, "Q1": LOOKS_AROUND}))
    submit(course, "carla", notebook(ALL))
    url = f"sqlite:///{tmp_path / 'attempts.db'}"
    run = grade_class(course, url, "--workers", "1", "--require-sandbox")
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    rows = read_csv(course)
    # the daemon aaron left would have killed berta's and carla's kernels: both score full marks
    assert {s: r["best"] for s, r in rows.items()} == {"aaron": "0", "berta": "10", "carla": "10"}, report
    assert "problem" not in report, report  # nothing had to be graded twice
    seen = outputs(course, "berta")
    assert "other processes: [] left behind: []" in seen, seen
    mess = outputs(course, "aaron")
    assert "ESCAPED" not in mess and "blocked: read the zygote's memory" in mess, mess
    assert "CapEff:\\t0000000000000000" in mess, mess  # no capabilities, even when the grader runs as root


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_submission_that_kills_the_zygote_costs_only_its_own_grade(tmp_path, workers):
    course = new_course(tmp_path)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("\nc.AnswerCheck.enabled = False\n")
    submit(course, "aaron", notebook(ALL))
    submit(course, "berta", notebook({**ALL, "Q1": KILLS_THE_ZYGOTE}))
    submit(course, "carla", notebook(ALL))
    submit(course, "dora", notebook(ALL))
    url = f"sqlite:///{tmp_path / 'attempts.db'}"
    with tempfile.TemporaryDirectory(prefix="t-") as scratch:  # short: the kernels' socket paths lie under it
        run = grade_class(course, url, "--workers", workers, "--require-sandbox", env={"TMPDIR": scratch})
        # (the grading slots and the exchange keep folders there on purpose: shared by every grading)
        left = sorted(p.name for p in Path(scratch).iterdir() if p.name.startswith(("acz-", "acsb-")))
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    rows = read_csv(course)
    assert [rows[s]["best"] for s in ("aaron", "carla", "dora")] == ["10", "10", "10"], report
    assert rows["berta"]["attempts"] == "1" and float(rows["berta"]["best"]) < 10, report
    assert left == [], f"the workers' sandboxes left {left}"  # every zygote stopped, its folder removed


def test_the_zygote_refuses_to_run_outside_its_sandbox(tmp_path):
    # it kills every other process it can see before each kernel: outside a fresh PID namespace, that
    # would be the grader's own processes
    run = subprocess.run([sys.executable, "-m", "apicourse.grading.zygote", str(tmp_path)], input=b"",
                         capture_output=True, timeout=60, check=False)
    assert run.returncode == 2, run
    assert b"only as the first process of a bwrap sandbox" in run.stdout
