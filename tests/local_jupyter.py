"""Start JupyterLab or a bare Jupyter Server on a free loopback port, for the tests that need one.

    with running_jupyter("lab", root_dir=tmp / "course", state_dir=tmp / "state", env=env) as jupyter:
        status, body = jupyter.get("/api/status")

The server binds 127.0.0.1 only, has an empty token (nothing else can reach it), keeps its config,
runtime and data folders in ``state_dir`` (so the developer's own ``~/.jupyter`` never leaks in), and
stops itself after ten idle minutes even if the test run that started it dies. Leaving the ``with``
block stops it and its kernels.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningJupyter:
    """A Jupyter server process started by :func:`running_jupyter`."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def get(self, path: str, timeout: float = 10) -> tuple[int, str]:
        """``GET url + path``: (status, body). HTTP errors are returned, not raised."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def get_json(self, path: str) -> Any:
        """``GET`` a JSON API; fail with the body when the status is not 200."""
        status, body = self.get(path)
        if status != 200:
            raise AssertionError(f"GET {path} answered {status}: {body[:500]}")
        return json.loads(body)

    def shut_down_kernels(self) -> None:
        """Shut every running kernel down (the server keeps running)."""
        # like a browser: take the _xsrf cookie from a page, send it back as a header
        cookies = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
        opener.open(self.url + "/tree", timeout=30).close()  # a page sets the cookie
        xsrf = next((c.value for c in cookies if c.name == "_xsrf"), "")
        for kernel in self.get_json("/api/kernels"):
            request = urllib.request.Request(
                f"{self.url}/api/kernels/{kernel['id']}", method="DELETE", headers={"X-XSRFToken": xsrf}
            )
            try:
                opener.open(request, timeout=10).close()
            except urllib.error.HTTPError as error:
                if error.code != 404:  # already gone is fine
                    raise

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 20) -> None:
        """Stop the server like Ctrl+C would: it shuts its kernels down, then exits."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def jupyter_command(
    app: str, *, root_dir: Path | None, state_dir: Path, port: int, extra_args: Sequence[str] = ()
) -> list[str]:
    """The command line that starts ``jupyter lab`` or ``jupyter server`` on loopback."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--PasswordIdentityProvider.hashed_password=",
        *([f"--ServerApp.root_dir={root_dir}"] if root_dir is not None else []),
        # stop by itself if the test run that started it died: idle kernels are culled, then the server
        "--ServerApp.shutdown_no_activity_timeout=600",
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    if app == "lab":
        command += [
            f"--LabApp.workspaces_dir={state_dir / 'workspaces'}",
            f"--LabApp.user_settings_dir={state_dir / 'user-settings'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    return command + list(extra_args)


@contextmanager
def running_jupyter(
    app: str,
    *,
    root_dir: Path | None,
    state_dir: Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    extra_args: Sequence[str] = (),
    ready_path: str = "/api/status",
    timeout: float = 90,
) -> Iterator[RunningJupyter]:
    """Run ``jupyter <app>`` until the block ends; yield once ``ready_path`` answers 200."""
    state_dir.mkdir(parents=True, exist_ok=True)
    full_env = dict(env)
    full_env.update(
        JUPYTER_CONFIG_DIR=str(state_dir / "config"),
        JUPYTER_RUNTIME_DIR=str(state_dir / "runtime"),
        JUPYTER_DATA_DIR=str(state_dir / "data"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
        # as in an activated environment: nbgrader runs the `alembic` command when it creates a gradebook
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
    )
    port = free_port()
    log_path = state_dir / f"jupyter-{app}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            jupyter_command(app, root_dir=root_dir, state_dir=state_dir, port=port, extra_args=extra_args),
            cwd=str(cwd or root_dir or Path.cwd()),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    jupyter = RunningJupyter(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"jupyter {app} exited with {process.returncode}:\n{jupyter.log()[-3000:]}"
                )
            try:
                if jupyter.get(ready_path, timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {app} not ready after {timeout} s:\n{jupyter.log()[-3000:]}")
            time.sleep(0.25)
        yield jupyter
    finally:
        jupyter.stop()
