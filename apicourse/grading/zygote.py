"""The zygote: one Python inside the sandbox that has imported the kernel once, and forks each grading kernel.

Starting a kernel costs about a CPU-second, almost all of it Python importing IPython and ipykernel. A
``grade-class`` worker grades its notebooks one after another, so it starts one sandbox with this program in
it (:mod:`apicourse.grading.zygote_kernel`); for each notebook the zygote forks a child that becomes the
kernel (ipykernel's own ``IPKernelApp``, nothing else), already imported: about a quarter of the CPU.

One kernel at a time, and each starts from a clean slate: before a child is forked, every other process in
the sandbox (anything an earlier submission left running) is killed and every writable place the earlier
child could reach (``/tmp``, ``/dev/shm``, the folders under the zygote's own) is emptied. The zygote itself
cannot be reached by its children: it is not dumpable (no ``ptrace``, no ``/proc/<pid>/mem``; the sandbox
drops every capability), its commands come on a pipe the children do not hold, and a child that kills it
dies with it (``PR_SET_PDEATHSIG``): the grader then sees a dead kernel, as when a submission kills its own.

The grader speaks to it in JSON lines on standard input and output::

    {"op": "start", "dir": RUN_DIR, "cwd": WORK_DIR, "argv": [...], "env": {...}}  →  {"pid": 7}
    {"op": "poll", "pid": 7}                                                      →  {"status": null}
    {"op": "signal", "pid": 7, "signal": 9}                                       →  {"ok": true}

It refuses to run anywhere but as the first process of a fresh PID namespace (bwrap's): killing "every
other process" must never mean the grader's own.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "requests.structures")
"""Imported once, before any fork: the kernel and what the quiz's helper cells import (``requests``)."""

_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _in_own_pid_namespace() -> bool:
    """bwrap's init is PID 1 and we are its only child: PID 2."""
    try:
        return os.getpid() == 2 and Path("/proc/1/comm").read_text().strip() == "bwrap"
    except OSError:
        return False


def _others() -> list[int]:
    """Every live process in the sandbox but bwrap's init and the zygote (zombies are dead already)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (1, os.getpid()):
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_all_others(rounds: int = 200) -> bool:
    """Kill every other process in the sandbox (again and again: one may be forking); True once none is left."""
    for _ in range(rounds):
        others = _others()
        if not others:
            return True
        for pid in others:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, signal.SIGKILL)
        _reap()
    return not _others()


def _empty(folder: Path, keep: tuple[Path, ...]) -> None:
    """Remove everything inside ``folder`` but ``keep`` and the folders holding them (symlinks are removed,
    never followed; what is read-only, such as the Python installation bound under ``/tmp`` on some machines,
    stays)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if any(entry == k or entry in k.parents for k in keep):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):  # read-only (bound from outside): it stays, harmless
                entry.unlink()


def clean_slate(root: Path, keep: Path | None = None) -> bool:
    """What an earlier child left behind is gone: its processes, and its files everywhere it could write."""
    alone = _kill_all_others()
    for folder in (Path("/tmp"), Path("/dev/shm")):
        _empty(folder, (root,))
    _empty(root, (keep,) if keep else ())
    return alone


def _become_kernel(request: dict[str, Any], root: Path) -> None:
    """In the forked child: cut every tie to the zygote, then run ipykernel; never returns."""
    try:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(_PR_SET_DUMPABLE, 1)
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the zygote's command pipe and its replies: never the child's
            os.dup2(null, fd)
        os.closerange(3, 1 << 16)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the child's whole life
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        # as ``python -m ipykernel_launcher`` would see them (the kernel puts its working folder on the path)
        sys.path[:] = [p for p in sys.path if p not in ("", str(root))]
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=list(request["argv"]))
    finally:
        os._exit(0)


class Zygote:
    """The zygote's state: its root folder (every kernel's run folder lies there) and the live child."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.child: int | None = None
        self.status: dict[int, int] = {}

    def start(self, request: dict[str, Any]) -> dict[str, Any]:
        run_dir = Path(request["dir"])
        if run_dir.parent != self.root or not run_dir.is_dir():
            return {"error": f"{run_dir} is not a folder of {self.root}"}
        if not clean_slate(self.root, keep=run_dir):
            return {"error": "processes an earlier kernel left could not all be killed"}
        self.child = None
        pid = os.fork()
        if pid == 0:
            _become_kernel(request, self.root)
        self.child = pid
        return {"pid": pid}

    def poll(self, pid: int) -> dict[str, Any]:
        if pid not in self.status:
            try:
                done, code = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, code = pid, 0
            if done:
                self.status[pid] = os.waitstatus_to_exitcode(code)
        return {"status": self.status.get(pid)}

    def signal(self, pid: int, signum: int) -> dict[str, Any]:
        if pid == self.child and pid not in self.status:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
            if signum == signal.SIGKILL:  # the kernel is killed: so is anything it started
                _kill_all_others()
                _reap()
        return {"ok": True}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "start":
            return self.start(request)
        if op == "poll":
            return self.poll(int(request["pid"]))
        if op == "signal":
            return self.signal(int(request["pid"]), int(request["signal"]))
        return {"error": f"unknown request {op!r}"}


def main(root: str) -> int:
    """Serve requests on standard input until it closes (the grader is done, or gone)."""
    if not _in_own_pid_namespace():
        print(json.dumps({"error": "the zygote runs only as the first process of a bwrap sandbox"}), flush=True)
        return 2
    _prctl(_PR_SET_DUMPABLE, 0)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's warning on every import
    for module in PRELOAD:
        __import__(module)
    zygote = Zygote(Path(root))
    commands = sys.stdin.buffer
    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in commands:
        try:
            reply = zygote.handle(json.loads(line))
        except Exception as error:  # noqa: BLE001 - one bad request never ends the zygote
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), file=out, flush=True)
    _kill_all_others()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
