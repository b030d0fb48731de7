"""Memory of a learner's JupyterLab with every lesson and the quiz open at once (Binder gives 1-2 GB).

    python benchmarks/bench_memory.py            # goal: server + kernels ≤ 1,200 MB (resident, RSS)
    python benchmarks/bench_memory.py --lessons 3 # only the first three lessons and the quiz

For Binder's figure, run it with Python from an environment that holds only ``requirements.txt`` (as the
Binder image does), e.g. a fresh virtual environment after ``pip install -r requirements.txt``.

Starts JupyterLab as the README's launch command does (the learner's settings), over a copy of the
repository, with no key. For each lesson a kernel is started through the server, as opening the notebook
does, and every code cell is run in it (Run All); for the quiz every cell but the last (grading starts a
kernel of its own). The kernels stay alive, as they do when a tab is left open. Once every notebook has
run (and the quiz's short-lived grader preparation has ended), it prints for the server and for each
kernel's whole process tree (the kernel and anything it started and left running) the resident memory
(RSS, from /proc: Linux only) and the proportional figure (PSS, which counts pages shared between
processes once), and their sums. Packages installed in this
environment beyond requirements.txt can add to a kernel (vcrpy patches aiohttp and botocore when they are
importable): the list of those it found is printed. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import importlib.util
import json
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from jupyter_client import BlockingKernelClient  # noqa: E402
from local_jupyter import RunningJupyter, running_jupyter  # noqa: E402
from notebooks import keyless_env  # noqa: E402
from repo_copy import copy_repository  # noqa: E402

from apicourse import navigation  # noqa: E402

GOAL_MB = 1200
QUIZ = "quiz/release/module_assessment/module_assessment.ipynb"
LAUNCH_ARGS = ["--config=jupyter-config/learner.py"]  # the README's launch command


def _kib(pid: int, field: str, source: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    return _kib(pid, "VmRSS", "status") / 1024


def pss_mb(pid: int) -> float:
    """Proportional memory of one process (shared pages divided among their users), in MB."""
    return _kib(pid, "Pss", "smaps_rollup") / 1024


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (kernels, and anything they started)."""
    children = _children()
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kernel_pid(server: int, kernel_id: str) -> int | None:
    """The server's child process that runs kernel ``kernel_id`` (its command line names the connection file)."""
    for pid in _children().get(server, []):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f"kernel-{kernel_id}.json" in command:
            return pid
    return None


@dataclass
class Tree:
    """One process and everything it started, with its memory summed (measured when made)."""

    pid: int
    processes: int
    rss: float
    pss: float

    @classmethod
    def of(cls, pid: int, below: bool = True) -> Tree:
        """Measure ``pid`` and (when ``below``) every process under it."""
        pids = [pid, *(descendants(pid) if below else [])]
        return cls(pid, len(pids), sum(rss_mb(p) for p in pids), sum(pss_mb(p) for p in pids))


def open_notebook(jupyter: RunningJupyter, opener: urllib.request.OpenerDirector, xsrf: str, path: str) -> str:
    """Open ``path`` as JupyterLab does (a session with a new kernel); return the kernel id."""
    body = json.dumps({"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}})
    request = urllib.request.Request(
        f"{jupyter.url}/api/sessions", data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", "X-XSRFToken": xsrf},
    )
    with opener.open(request, timeout=120) as answer:
        return json.loads(answer.read())["kernel"]["id"]


def run_cells(connection: Path, notebook: Path, skip_last: bool = False) -> tuple[int, str | None]:
    """Run the notebook's code cells in its kernel, in order; (cells run, the first error or None)."""
    client = BlockingKernelClient()
    client.load_connection_file(str(connection))
    client.start_channels(hb=False)  # the server watches the heartbeat; a second watcher only misreads a busy start
    try:
        # up once it answers kernel_info AND this client's IOPub subscription is through: a kernel that is
        # already up answers at once, and outputs published before the subscription joins are lost for good
        client.wait_for_ready(timeout=120)
        cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        if skip_last:
            cells = cells[:-1]
        for count, cell in enumerate(cells, start=1):
            reply = client.execute_interactive(cell.source, timeout=300, output_hook=lambda message: None)
            if reply["content"]["status"] != "ok":
                return count, f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
        return len(cells), None
    finally:
        client.stop_channels()


def run_all(lessons: int) -> tuple[Tree, dict[str, Tree]]:
    """Open every lesson (the first ``lessons``) and the quiz, run their cells; measure the server and each
    kernel's process tree once everything has run."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        course = copy_repository(tmp / "course")
        state = tmp / "state"
        env = keyless_env(state)
        env.pop("MPLBACKEND", None)  # plots inline, as for a learner
        env["PYTHONPATH"] = str(course)
        notebooks = [p.relative_to(navigation.paths.ROOT).as_posix() for p in navigation.lessons()[:lessons]]
        with running_jupyter("lab", root_dir=None, cwd=course, state_dir=state, env=env,
                             extra_args=LAUNCH_ARGS, ready_path="/lab", timeout=300) as jupyter:
            server = jupyter.process.pid
            cookies = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
            opener.open(jupyter.url + "/lab", timeout=60).close()
            xsrf = next((c.value for c in cookies if c.name == "_xsrf"), "")
            print(f"{'notebook':<34}{'cells':>6}{'seconds':>9}")
            kernels: dict[str, int] = {}
            for path in [*notebooks, QUIZ]:
                began = time.perf_counter()
                kernel_id = open_notebook(jupyter, opener, xsrf, path)
                pid = kernel_pid(server, kernel_id)
                if pid is None:
                    raise RuntimeError(f"no process found for the kernel of {path}")
                kernels[path] = pid
                connection = state / "runtime" / f"kernel-{kernel_id}.json"
                ran, error = run_cells(connection, course / path, skip_last=path == QUIZ)
                took = time.perf_counter() - began
                print(f"{Path(path).stem:<34}{ran:>6}{took:>9.1f}" + (f"   stopped: {error}" if error else ""),
                      flush=True)
            # the quiz's first cell prepares the grader in a short-lived process of its own: let it finish
            # (whatever a kernel started that is still there after that is counted in its tree)
            deadline = time.monotonic() + 120
            while set(descendants(server)) - set(kernels.values()) and time.monotonic() < deadline:
                time.sleep(1)
            trees = {path: Tree.of(pid) for path, pid in kernels.items()}
            return Tree.of(server, below=False), trees


def report(server: Tree, kernels: dict[str, Tree]) -> None:
    """Print the table: the server, each kernel's process tree (RSS and PSS), and the sums."""
    print(f"\n{'process tree':<34}{'processes':>10}{'RSS MB':>9}{'PSS MB':>9}")
    print(f"{'jupyter server':<34}{server.processes:>10}{server.rss:>9.0f}{server.pss:>9.0f}")
    for path, tree in kernels.items():
        print(f"{'kernel ' + Path(path).stem:<34}{tree.processes:>10}{tree.rss:>9.0f}{tree.pss:>9.0f}")
    every = [server, *kernels.values()]
    rss, pss = sum(t.rss for t in every), sum(t.pss for t in every)
    print(f"{'server + kernels':<34}{sum(t.processes for t in every):>10}{rss:>9.0f}{pss:>9.0f}")
    print(f"\nserver + kernels, resident (RSS): {rss:,.0f} MB   (goal ≤ {GOAL_MB:,} MB)")
    print(f"server + kernels, proportional (PSS, shared pages counted once): {pss:,.0f} MB")
    extra = [name for name in ("aiohttp", "botocore", "boto3") if importlib.util.find_spec(name)]
    if extra:
        print(f"(installed here but not in requirements.txt, imported by vcrpy in every kernel: {', '.join(extra)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=len(navigation.lessons()))
    report(*run_all(parser.parse_args().lessons))


if __name__ == "__main__":
    main()
