"""A class at scale, measured: learners self-grading at the same time through a real hub, and grade-class on a
large set of submissions side by side with plain ``nbgrader autograde``.

    python benchmarks/bench_class.py selfgrade [--learners 30]      # as root: a real JupyterHub + PostgreSQL
    python benchmarks/bench_class.py grade-class [--submissions 200]

Prints measured figures (not a test).

``selfgrade`` starts the class of tests/hub_class.py (PostgreSQL 15 and the course's JupyterHub on loopback),
creates ``apicourse-bench-NN`` Unix accounts if missing, logs every learner in over HTTP, starts their servers,
then has all of them run ``grade_my_quiz()`` at the same moment in their own kernels; it prints how many were
graded and recorded (none may be lost) and the p50/p95/max latency of one grading as each learner saw it.

``grade-class`` grades N submissions (in ``submitted/``, N students) with ``python -m apicourse.grading
grade-class`` and, on a fresh copy of the same set, with ``nbgrader autograde``; it prints the wall time and the
peak memory of each (resident memory of the whole process tree, sampled from /proc every 0.1 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


# --- peak memory of a process tree ---------------------------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def run_measured(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Run ``command``; return (wall seconds, peak resident memory of its process tree in bytes)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return seconds, peak


def grade_class_vs_nbgrader(submissions: int) -> None:
    from bench_grading import learner_copies

    from apicourse import grading

    work = Path(tempfile.mkdtemp(prefix="apicourse-bench-class-"))
    try:
        notebooks = learner_copies(work / "answers")
        base = work / "course"
        (base / "source").mkdir(parents=True)
        shutil.copy2(grading.CONFIG_FILE, base / "nbgrader_config.py")
        shutil.copytree(grading.SOURCE_NOTEBOOK.parent, base / "source" / grading.ASSIGNMENT)
        for i in range(submissions):
            folder = base / "submitted" / f"learner{i:03d}" / grading.ASSIGNMENT
            folder.mkdir(parents=True)
            shutil.copy2(notebooks[i % len(notebooks)], folder / f"{grading.ASSIGNMENT}.ipynb")
        env = {**os.environ, "PYTHONPATH": str(ROOT), grading.CACHE_DIR_VAR: str(work / "cache"),
               "APICOURSE_EXCHANGE": str(work / "exchange")}
        env.pop("APICOURSE_INSTRUCTOR_LEDGER_URL", None)
        ours, plain = work / "ours", work / "plain"
        shutil.copytree(base, ours)
        shutil.copytree(base, plain)
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", grading.ASSIGNMENT, "--force"],
                       cwd=plain, env=env, check=True, capture_output=True)
        nb_s, nb_mem = run_measured([sys.executable, "-m", "nbgrader", "autograde", grading.ASSIGNMENT], plain, env)
        gc_s, gc_mem = run_measured([sys.executable, "-m", "apicourse.grading", "grade-class", "--no-feedback"],
                                    ours, env)
        print(f"{submissions} submissions on {os.cpu_count()} core(s):")
        print(f"  grade-class (autograde + ledger + grades.csv): {gc_s:6.1f} s  peak memory {gc_mem / 2**20:6.0f} MiB"
              f"  ({gc_s / submissions:.2f} s per submission)")
        print(f"  nbgrader autograde (gradebook only):          {nb_s:6.1f} s  peak memory {nb_mem / 2**20:6.0f} MiB"
              f"  ({nb_s / submissions:.2f} s per submission)")
        print("  (plain nbgrader also needed generate_assignment first, not timed; grade-class does it itself)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- many learners self-grading at once through the hub -------------------------------------------------------------
def selfgrade_through_the_hub(learners: int) -> None:
    import pwd

    from hub_class import Browser, Hub, Postgres, missing
    from tornado.websocket import WebSocketClosedError

    names = tuple(f"apicourse-bench-{i:02d}" for i in range(learners))
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
            Path(f"/home/{name}").chmod(0o700)
    lacks = [line for line in missing() if "Unix user apicourse-" not in line]
    if lacks:
        raise SystemExit("cannot run a class here: " + "; ".join(lacks))
    postgres = Postgres().start()
    hub = Hub(postgres, learners=names)
    try:
        hub.start()
        browsers = [Browser(hub, name) for name in names]
        started = time.perf_counter()
        for browser in browsers:  # a class arriving: log in and start a server each
            assert browser.login().status_code == 302
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda b: b.start_server(), browsers))
        print(f"{learners} learners logged in and got their servers in {time.perf_counter() - started:.0f} s")
        from apicourse.grading import RELEASE_NOTEBOOK

        notebook = RELEASE_NOTEBOOK.read_text(encoding="utf-8")
        import json

        for browser in browsers:
            saved = browser.call("PUT", "/api/contents/quiz.ipynb",
                                 json={"type": "notebook", "format": "json", "content": json.loads(notebook)})
            assert saved.ok, saved.text
        code = ("import json, time\nfrom apicourse.grading import grade_my_quiz\nt = time.perf_counter()\n"
                "r = grade_my_quiz('quiz.ipynb', ignore_unsaved=True)\n"
                "print(json.dumps({'graded': r.graded, 'attempts': r.standing.attempts if r.standing else 0, "
                "'why': (r.error or r.ledger_error or '')[-4000:], 'seconds': time.perf_counter() - t}))")
        barrier = threading.Barrier(learners)

        def grade(browser: Browser) -> dict:
            barrier.wait()  # everyone presses Run at the same moment
            for _ in range(3):
                try:
                    printed = browser.run(code, timeout=1800)
                    break
                except WebSocketClosedError:  # closed before the code was sent (a busy server): nothing ran yet
                    time.sleep(1)
            else:
                return {"graded": False, "attempts": 0, "seconds": 0.0, "harness": "the websocket kept closing"}
            result = json.loads(printed.strip().splitlines()[-1])
            result["waited"] = "The grader is busy" in printed
            return result

        def grade_or_say_why(browser: Browser) -> dict:
            try:
                return grade(browser)
            except Exception as error:  # noqa: BLE001 - the benchmark's own failure, told apart from the grader's
                return {"graded": False, "attempts": 0, "seconds": 0.0, "harness": f"{type(error).__name__}: {error}"}

        with ThreadPoolExecutor(max_workers=learners) as pool:
            results = list(pool.map(grade_or_say_why, browsers))
        lost_by_harness = [r["harness"] for r in results if "harness" in r]
        results = [r for r in results if "harness" not in r]
        seconds = sorted(r["seconds"] for r in results) or [0.0]
        recorded = sum(r["graded"] and r["attempts"] == 1 for r in results)
        refused = [r["why"] for r in results if not r["graded"]]
        load = os.getloadavg()
        print(f"{learners} self-gradings at once on {os.cpu_count()} core(s): {recorded} graded and recorded, "
              f"{len(refused)} not graded (the learner is told why), "
              f"{len(results) - recorded - len(refused)} graded but not recorded; "
              f"{sum(r.get('waited', False) for r in results)} waited for a grading slot (told so); "
              f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        if lost_by_harness:
            print(f"  {len(lost_by_harness)} not measured (the benchmark's own connection failed): {lost_by_harness[0]}")
        for why in sorted(set(refused))[:3]:
            print(f"  not graded: {why.strip().splitlines()[-1] if why.strip() else '(no reason)'}")
        if refused:
            print("  what the first learner not graded was told, in full:\n    "
                  + "\n    ".join(refused[0].strip().splitlines()))
        print(f"  latency per grading: p50 {statistics.median(seconds):.1f} s, "
              f"p95 {seconds[max(0, round(0.95 * len(seconds)) - 1)]:.1f} s, max {seconds[-1]:.1f} s")
    finally:
        hub.stop()
        postgres.stop()


def main() -> None:
    """Parse the command line and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("selfgrade").add_argument("--learners", type=int, default=30)
    commands.add_parser("grade-class").add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()
    if args.command == "selfgrade":
        selfgrade_through_the_hub(args.learners)
    else:
        grade_class_vs_nbgrader(args.submissions)


if __name__ == "__main__":
    main()
