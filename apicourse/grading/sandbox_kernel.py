"""The grading kernel inside the sandbox: a Jupyter kernel manager that starts its kernel through
:func:`apicourse.grading.sandbox.bwrap_command` and talks to it over Unix sockets (the sandbox has no network)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import List, Unicode

from apicourse.grading.sandbox import bwrap_command


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in :func:`bwrap_command`'s sandbox, reached over Unix sockets.

    nbgrader's Execute uses it when the grader configures ``GuardedExecute.sandboxed``
    (:func:`apicourse.grading.preprocessors.harden`); ``hidden`` lists what the kernel must not see.
    """

    hidden = List(Unicode(), help="paths the sandboxed kernel must never see").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._run_dir = self._new_run_dir()
        self.transport = "ipc"
        self.connection_file = str(self._run_dir / "kernel.json")
        self.ip = str(self._run_dir / "k")

    def _new_run_dir(self) -> Path:
        """The kernel's own folder: its connection file, its sockets, its working folder."""
        return Path(tempfile.mkdtemp(prefix="acsb-"))  # short: Unix socket paths are limited

    def _work_folder(self, kw: dict[str, Any]) -> Path:
        """The kernel's working folder: a copy of the submission's folder (its notebook left out)."""
        work = self._run_dir / "work"
        if not work.exists():
            source = Path(kw.get("cwd") or os.getcwd())
            shutil.copytree(source, work, symlinks=True, ignore=shutil.ignore_patterns("*.ipynb"))
        return work

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        work = self._work_folder(kw)
        kernel_cmd = bwrap_command(kernel_cmd, run_dir=self._run_dir, workdir=work,
                                   hidden=[Path(h) for h in self.hidden], env=kw.get("env"))
        kw["cwd"] = str(self._run_dir)
        if self.kernel_spec is not None:  # a signal would stop bwrap itself: ask the kernel to interrupt itself
            self.kernel_spec.interrupt_mode = "message"
        await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._run_dir, ignore_errors=True)
