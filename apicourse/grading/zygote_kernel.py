"""Grading kernels forked from a zygote: one sandbox per ``grade-class`` worker instead of one per notebook.

:class:`ForkedKernelManager` is the :class:`~apicourse.grading.sandbox_kernel.SandboxedKernelManager` a
``grade-class`` worker uses: instead of starting ``bwrap`` and a fresh Python for each notebook (about a
CPU-second, mostly imports), it asks this process's :class:`Zygote` — a Python that imported the kernel once,
inside a sandbox like every grading kernel's — to fork one (:mod:`apicourse.grading.zygote` says how each
kernel starts from a clean slate). The kernel is ipykernel's own; the notebook, the hidden tests and
nbclient's protocol are unchanged, and so is every grade. Where the zygote cannot start or the kernel is not
ipykernel, the manager starts its kernel as its parent class does.

The zygote dies with the thread that started it (``bwrap --die-with-parent``): a worker's main thread, for
the whole run; a short-lived thread's (grade-class with one worker grades in one) for that grading only, and
the next kernel then starts a new zygote. A forked worker stops its own with :func:`stop_shared`.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apicourse.grading.sandbox import bwrap_command, kernel_env, sandbox_fingerprint
from apicourse.grading.sandbox_kernel import SandboxedKernelManager


KERNEL_MODULES = ("ipykernel_launcher", "apicourse.kernel")
"""Modules a kernel spec may start that the zygote's fork stands in for: ipykernel's launcher, and the
learner's (:mod:`apicourse.kernel`: the same kernel without its debugger, which grading never uses)."""


class ZygoteGone(RuntimeError):
    """The zygote stopped answering (it died, or a child stopped it): it has been shut down."""


class Zygote:
    """A zygote in its sandbox, ``hidden`` masked, reached over its standard input and output.

    >>> Zygote.kernel_arguments([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    ['-f', 'k.json']
    >>> Zygote.kernel_arguments([sys.executable, "-m", "apicourse.kernel", "-f", "k.json"])
    ['-f', 'k.json']
    >>> Zygote.kernel_arguments(["R", "--slave"]) is None  # not ipykernel: started as usual
    True
    """

    def __init__(self, hidden: Sequence[Path]) -> None:
        self.hidden = [Path(h) for h in hidden]
        self.fingerprint = sandbox_fingerprint(self.hidden)
        self.root = Path(tempfile.mkdtemp(prefix="acz-"))  # short: Unix socket paths are limited
        command = bwrap_command([sys.executable, "-m", "apicourse.grading.zygote", str(self.root)],
                                run_dir=self.root, workdir=self.root, hidden=self.hidden, env=dict(os.environ))
        self._lock = threading.Lock()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        reply = self._read(timeout=120)
        if not reply.get("ready"):
            self.stop()
            raise ZygoteGone(reply.get("error") or "the zygote did not start")

    @staticmethod
    def kernel_arguments(kernel_cmd: Sequence[str]) -> list[str] | None:
        """ipykernel's own arguments if ``kernel_cmd`` starts ipykernel with this Python (as ipykernel's own
        kernel spec does, or the learner's, :mod:`apicourse.kernel`); else None."""
        if len(kernel_cmd) < 3 or kernel_cmd[1] != "-m" or kernel_cmd[2] not in KERNEL_MODULES:
            return None
        python = shutil.which(kernel_cmd[0]) or kernel_cmd[0]
        if os.path.realpath(python) != os.path.realpath(sys.executable):
            return None
        return list(kernel_cmd[3:])

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise ZygoteGone("the zygote stopped answering")
        return dict(json.loads(line))

    def ask(self, request: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Send one request and return the zygote's reply (see :mod:`apicourse.grading.zygote`)."""
        with self._lock:
            if self.process.poll() is not None or self.process.stdin is None:
                raise ZygoteGone("the zygote has stopped")
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError) as error:
                self.stop()
                raise ZygoteGone("the zygote has stopped") from error
            return self._read(timeout)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """End the zygote and everything in its sandbox, and remove its folder."""
        if self.process.poll() is None:
            try:
                if self.process.stdin is not None:
                    self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()  # bwrap's init goes with it, and every process in the sandbox with that
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


_ZYGOTE: Zygote | None = None
_STARTING = threading.Lock()


def shared(hidden: Sequence[str | Path]) -> Zygote | None:
    """This process's zygote for a sandbox with ``hidden`` masked: started on first use, and again if it
    died or the sandbox wanted is another; ``None`` where it cannot start (the caller starts kernels itself)."""
    global _ZYGOTE
    paths = [Path(h) for h in hidden]
    with _STARTING:
        if _ZYGOTE is not None and _ZYGOTE.alive() and _ZYGOTE.fingerprint == sandbox_fingerprint(paths):
            return _ZYGOTE
        if _ZYGOTE is not None:
            _ZYGOTE.stop()
            _ZYGOTE = None
        try:
            _ZYGOTE = Zygote(paths)
        except (OSError, ZygoteGone, ValueError):
            return None
        return _ZYGOTE


@atexit.register
def stop_shared() -> None:
    """Stop this process's zygote, if it has one (done when Python exits; a forked worker, which ends without
    running ``atexit``, calls it itself)."""
    global _ZYGOTE
    if _ZYGOTE is not None:
        _ZYGOTE.stop()
        _ZYGOTE = None


def _forget_after_fork() -> None:
    """A forked process (a grade-class worker) starts its own zygote: its parent's is not its to use or stop."""
    global _ZYGOTE
    _ZYGOTE = None


os.register_at_fork(after_in_child=_forget_after_fork)


class ForkedKernel:
    """A kernel the zygote forked, as jupyter_client's provisioner sees a process (``poll``, ``wait``,
    ``send_signal``, ``kill``, ``terminate``). If the zygote is gone, so is the kernel (it died with it)."""

    stdin = stdout = stderr = None

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.zygote.ask({"op": "poll", "pid": self.pid})["status"]
            except (ZygoteGone, KeyError):
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                self.zygote.ask({"op": "signal", "pid": self.pid, "signal": int(signum)})
            except ZygoteGone:
                self.returncode = -signal.SIGKILL

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedKernelManager(SandboxedKernelManager):
    """A sandboxed kernel manager whose kernels the worker's :class:`Zygote` forks (see the module's text)."""

    def _new_run_dir(self) -> Path:
        zygote = shared(self.hidden)
        if zygote is None:
            return super()._new_run_dir()
        return Path(tempfile.mkdtemp(prefix="k-", dir=zygote.root))

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        arguments = Zygote.kernel_arguments(kernel_cmd)
        zygote = _ZYGOTE
        if arguments is None or zygote is None or not zygote.alive() or self._run_dir.parent != zygote.root:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        work = self._work_folder(kw)
        if self.kernel_spec is not None:  # as in the parent class: interrupts arrive as messages
            self.kernel_spec.interrupt_mode = "message"
        request = {"op": "start", "dir": str(self._run_dir), "cwd": str(work), "argv": arguments,
                   "env": kernel_env(kw.get("env"), work)}
        reply = zygote.ask(request, timeout=60)
        if "pid" not in reply:  # say, an earlier submission's fork bomb: end that sandbox, the next starts anew
            zygote.stop()
            raise RuntimeError(f"the grading kernel could not start: {reply.get('error')}")
        assert self.provisioner is not None
        provisioner: Any = self.provisioner  # a LocalProvisioner: it drives the kernel through these two
        provisioner.process = ForkedKernel(zygote, int(reply["pid"]))
        provisioner.pid = provisioner.process.pid
        self._reconcile_connection_info(provisioner.connection_info)
