"""Grading speed: the learner's grade-my-quiz, and a class of 50 graded side by side with plain nbgrader.

    python benchmarks/bench_grading.py [--students 50] [--repeat 3] [--stress 20]

Prints measured figures (not a test). Goals: grade-my-quiz after the warm-up, median ≤ 1.5 s (a learner's
retakes, which take the kernel the previous grading started: ``apicourse.grading.spare_kernel``; the first
grading of a kernel is printed on its own, goal ≤ 3 s); 50 submissions
through ``grade-class`` (sandboxed where bubblewrap works, each kernel forked from a zygote) ≤ 0.8 s each and ≤ 0.7 × plain ``nbgrader autograde``
on the same set. The stress run grades ``--stress`` notebooks whose Q3 loop swallows the interrupt (half through
self-grading, half through ``grade-class``): each must cost only Q3 (8/10).
Everything happens in a temporary folder (grader cache, ledgers, course copies).
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from apicourse import grading
from apicourse.grading.sandbox import sandbox_status


def learner_copies(folder: Path) -> list[Path]:
    """Five learner notebooks worth 10, 8, 7, 6 and 0 points."""
    source = nbformat.read(grading.SOURCE_NOTEBOOK, as_version=4)
    release = nbformat.read(grading.RELEASE_NOTEBOOK, as_version=4)
    solution = grading._answer_cells(source)
    sets = {
        "ten": dict.fromkeys(solution, "solution"),
        "eight": {"Q1": "solution", "Q2": "solution", "Q3": "solution", "Q4": "solution"},
        "seven": {"Q1": "solution", "Q2": "solution", "Q3": "solution", "Q5": '# ANSWER Q5\nq5a = "C"\nq5b = "B"'},
        "six": {"Q1": "solution", "Q2": "solution", "Q3": "solution"},
        "zero": {},
    }
    paths = []
    for name, answers in sets.items():
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            match = grading._ANSWER_MARK.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
            if match and match.group(1) in answers:
                given = answers[match.group(1)]
                cell.source = solution[match.group(1)] if given == "solution" else given
        path = folder / name / "module_assessment.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        paths.append(path)
    return paths


STUCK_Q3 = ("# ANSWER Q3\ndef call_with_retry(send, sleep, max_retries=4):\n    while True:\n        try:\n"
            "            send()\n        except:  # noqa: E722 - swallows the interrupt too\n            pass\n")


def stress(tmp: Path, count: int, env: dict[str, str]) -> None:
    """``count`` gradings of a notebook whose Q3 loop swallows interrupts: half self-graded, half by grade-class."""
    release = nbformat.read(grading.RELEASE_NOTEBOOK, as_version=4)
    solution = grading._answer_cells(nbformat.read(grading.SOURCE_NOTEBOOK, as_version=4))
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        match = grading._ANSWER_MARK.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
        if match:
            cell.source = STUCK_Q3 if match.group(1) == "Q3" else solution[match.group(1)]
    path = tmp / "stuck" / "module_assessment.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    alone, in_class = count - count // 2, count // 2
    good, started = 0, time.perf_counter()
    for _ in range(alone):
        result = grading.grade_notebook(path, timeout=2, spare=True)  # as grade_my_quiz() does
        if result.points() == {"Q1": 2, "Q2": 2, "Q3": 0, "Q4": 2, "Q5": 2}:
            good += 1
        else:  # say what went wrong, to tell a busy machine's timeouts from the grader's fault
            print(f"  stress self-grading off target: {result.error or result.points()} "
                  f"(load average {os.getloadavg()[0]:.1f})")
    self_s = time.perf_counter() - started
    course = course_copy(tmp / "stuck-class", [path], in_class, env)
    (course / "nbgrader_config.py").write_text((course / "nbgrader_config.py").read_text()
                                               + "\nc.Execute.timeout = 2\n")
    class_s = timed([sys.executable, "-m", "apicourse.grading", "grade-class", "--course", str(course),
                     "--ledger", f"sqlite:///{tmp / 'stuck.db'}", "--no-feedback"], course, env)
    rows = (course / "grades.csv").read_text().strip().splitlines()[1:]
    good_class = sum(row.split(",")[2] == "8" for row in rows)
    print(f"stress, a loop that swallows the interrupt: {good}/{alone} self-gradings and {good_class}/{in_class} "
          f"grade-class submissions cost only Q3 (8/10); {self_s / max(alone, 1):.1f} s per self-grading, "
          f"{class_s:.1f} s for the class")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    return timed_cpu(command, cwd, env)[0]


def _machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent working (Linux: /proc/stat, in USER_HZ of 1/100 s)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / 100  # all but idle and iowait


def timed_cpu(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and the CPU seconds the machine spent meanwhile: every process of the command counts
    (sandboxed kernels too, which a parent's rusage misses), and so would anything else running, so the
    figure is only meaningful on a quiet machine (the load average is printed before the class runs)."""
    started, cpu = time.perf_counter(), _machine_cpu_seconds()
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - started, _machine_cpu_seconds() - cpu
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stdout}\n{run.stderr}")
    return seconds, cpu


def course_copy(where: Path, submissions: list[Path], students: int, env: dict[str, str]) -> Path:
    course = where
    (course / "source").mkdir(parents=True)
    shutil.copy2(grading.CONFIG_FILE, course / "nbgrader_config.py")
    shutil.copytree(grading.SOURCE_NOTEBOOK.parent, course / "source" / grading.ASSIGNMENT)
    timed([sys.executable, "-m", "nbgrader", "generate_assignment", grading.ASSIGNMENT, "--force"], course, env)
    for i in range(students):
        target = course / "submitted" / f"student{i:03d}" / grading.ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy2(submissions[i % len(submissions)], target / f"{grading.ASSIGNMENT}.ipynb")
    return course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stress", type=int, default=20, help="gradings of an interrupt-swallowing loop (0: none)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="apicourse-bench-grading-"))
    env = {**os.environ, grading.CACHE_DIR_VAR: str(tmp / "cache"), "APICOURSE_LEARNER": "bench",
           "APICOURSE_LEDGER_URL": f"sqlite:///{tmp / 'learner.db'}"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    os.environ.update(env)
    try:
        submissions = learner_copies(tmp / "notebooks")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        status = sandbox_status()
        print(f"sandbox: {'on' if status.available else 'OFF'} — {status.reason}")

        started = time.perf_counter()
        grading.prepared_course()
        print(f"one-time preparation (gradebook generated from the source, then cached): "
              f"{time.perf_counter() - started:.2f} s")

        # 1. the learner: a fresh Python (like a new kernel) imports the grader and grades once
        code = ("import time; t = time.perf_counter(); from apicourse.grading import grade_my_quiz; "
                f"r = grade_my_quiz({str(submissions[1])!r}); "
                "print(round(time.perf_counter() - t, 3), r.score, r.standing.attempt)")
        fresh = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        first, score, attempt = fresh.stdout.split()
        print(f"grade-my-quiz, first call in a fresh process, no warm-up (imports included): {float(first):.2f} s "
              f"(score {score}, attempt {attempt})")
        # 1b. as the quiz runs it: the first cell's warm_up() works in the background while the learner
        # answers (here: until it is done), on a machine that has never graded (as on Binder)
        code = ("import time; t = time.perf_counter(); from apicourse.grading import warm_up, grade_my_quiz; "
                "warm_up().join(); w = time.perf_counter() - t; t = time.perf_counter(); "
                f"r = grade_my_quiz({str(submissions[1])!r}); "
                "print(round(w, 3), round(time.perf_counter() - t, 3), r.score)")
        cold = {**env, grading.CACHE_DIR_VAR: str(tmp / "cold-cache")}
        fresh = subprocess.run([sys.executable, "-c", code], env=cold, capture_output=True, text=True, check=True)
        warm_s, first_s, score = fresh.stdout.split()
        print(f"grade-my-quiz, first call in a fresh kernel after the quiz's warm_up() cell: {float(first_s):.2f} s "
              f"(goal ≤ 3 s: {'met' if float(first_s) <= 3 else 'NOT met'}; the warm-up itself took "
              f"{float(warm_s):.2f} s in the background, gradebook preparation included)")
        grading.grade_my_quiz(submissions[0])  # this process's first grading: measured in a fresh process above
        runs = []
        for _ in range(args.repeat):
            time.sleep(3)  # the learner reads the feedback before a retake (not timed)
            started = time.perf_counter()
            result = grading.grade_my_quiz(submissions[0])
            runs.append(time.perf_counter() - started)
            assert result is not None and result.score == 10, result
        print(f"grade-my-quiz, retakes (end to end: checks, autograde with the spare kernel, ledger): median "
              f"{statistics.median(runs):.2f} s, min {min(runs):.2f} s over {len(runs)} "
              f"(goal ≤ 1.5 s: {'met' if statistics.median(runs) <= 1.5 else 'NOT met'})")

        # 2. a class: the same submissions graded by our command and by plain nbgrader
        ours = course_copy(tmp / "ours", submissions, args.students, env)
        plain = course_copy(tmp / "plain", submissions, args.students, env)
        print(f"load average before the class runs: {os.getloadavg()[0]:.2f}")
        plain_s, plain_cpu = timed_cpu([sys.executable, "-m", "nbgrader", "autograde", grading.ASSIGNMENT], plain, env)
        ours_s, ours_cpu = timed_cpu([sys.executable, "-m", "apicourse.grading", "grade-class", "--course", str(ours),
                                      "--ledger", f"sqlite:///{tmp / 'class.db'}", "--no-feedback"], ours, env)
        rows = (ours / "grades.csv").read_text().strip().splitlines()
        assert len(rows) == args.students + 1, rows[:3]
        feedback_s = timed([sys.executable, "-m", "nbgrader", "generate_feedback", grading.ASSIGNMENT], ours, env)
        print(f"{args.students} submissions, plain `nbgrader autograde`:          {plain_s:6.1f} s "
              f"({plain_s / args.students:.2f} s each)")
        print(f"{args.students} submissions, `grade-class` (autograde+ledger+CSV): {ours_s:6.1f} s "
              f"({ours_s / args.students:.2f} s each)")
        print(f"machine CPU per submission (every process, kernels included): plain {plain_cpu / args.students:.2f} s, "
              f"grade-class {ours_cpu / args.students:.2f} s (ratio {ours_cpu / plain_cpu:.2f}; on "
              f"{os.cpu_count()} cores a quiet machine needs at least {ours_cpu / args.students / (os.cpu_count() or 1):.2f} s "
              "of wall time per submission)")
        print(f"ratio grade-class / plain nbgrader: {ours_s / plain_s:.2f} "
              f"(goals ≤ 0.8 s each: {'met' if ours_s / args.students <= 0.8 else 'NOT met'}; "
              f"ratio ≤ 0.7: {'met' if ours_s <= plain_s * 0.7 else 'NOT met'})")
        print(f"feedback for {args.students} (`nbgrader generate_feedback`, also run by grade-class "
              f"unless --no-feedback): {feedback_s:.1f} s")
        if args.stress:
            stress(tmp, args.stress, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
