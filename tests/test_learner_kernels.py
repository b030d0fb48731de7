"""The kernels a learner's Jupyter starts are lighter than an instructor's.

``benchmarks/bench_memory.py`` prints the memory of every lesson and the quiz open at once (Binder gives 1-2 GB).
Each test starts a real Jupyter server with the settings the README's commands use (``learner.py`` for a
learner, ``instructor.py`` for an instructor), starts a kernel through it as opening a notebook does, and
asks that kernel what it loaded and what it offers.
"""

from __future__ import annotations

import http.cookiejar
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import BlockingKernelClient
from local_jupyter import RunningJupyter, running_jupyter

from apicourse import paths
from notebooks import keyless_env

CONFIG = paths.ROOT / "jupyter-config"

pytestmark = pytest.mark.slow


def _start_kernel(jupyter: RunningJupyter) -> str:
    """Start a ``python3`` kernel through the server's REST API (as JupyterLab does); return its id."""
    cookies = http.cookiejar.CookieJar()  # like a browser: the _xsrf cookie of a page, sent back as a header
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    opener.open(jupyter.url + "/lab", timeout=30).close()  # a page sets the cookie
    xsrf = next((c.value for c in cookies if c.name == "_xsrf"), "")
    request = urllib.request.Request(f"{jupyter.url}/api/kernels", data=b'{"name": "python3"}', method="POST",
                                     headers={"Content-Type": "application/json", "X-XSRFToken": xsrf})
    with opener.open(request, timeout=60) as answer:
        return json.loads(answer.read())["id"]


def kernel_report(tmp: Path, config: str, code: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], Any]:
    """Start Jupyter with ``--config=jupyter-config/<config>`` (and ``env`` added to the environment), a
    kernel through it; return the kernel's ``kernel_info`` reply and what ``code`` (a JSON-printing
    snippet) printed in it."""
    state = tmp / "state"
    with running_jupyter("lab", root_dir=None, cwd=paths.ROOT, state_dir=state, env=keyless_env(tmp, env),
                         extra_args=[f"--config={CONFIG / config}"], ready_path="/lab") as jupyter:
        kernel_id = _start_kernel(jupyter)
        client = BlockingKernelClient()
        client.load_connection_file(str(state / "runtime" / f"kernel-{kernel_id}.json"))
        client.start_channels(hb=False)
        try:
            client.wait_for_ready(timeout=60)
            info = client.kernel_info(reply=True, timeout=30)["content"]
            printed: list[str] = []
            reply = client.execute_interactive(
                code, timeout=60,
                output_hook=lambda m: printed.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
            )
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            jupyter.shut_down_kernels()
    return info, json.loads("".join(printed))


LOADED = ("import json, sys; print(json.dumps(sorted(name for name, module in sys.modules.items()"
          " if name.split('.')[0] == 'debugpy' and module is not None)))")
"""The debugpy modules the kernel has imported (a ``None`` entry is a blocked import, not a module)."""


def test_a_learners_kernel_has_no_debugger(tmp_path: Path) -> None:
    # ipykernel imports debugpy (about 8 MB) into every kernel it creates; the course never uses it
    info, debugpy_modules = kernel_report(tmp_path, "learner.py", LOADED)
    assert debugpy_modules == []
    # ipykernel says so itself: JupyterLab shows its debugger only for a kernel that lists the feature
    assert "debugger" not in info.get("supported_features", [])
    assert info["language_info"]["name"] == "python"  # and it is the usual IPython kernel otherwise


def test_an_instructors_kernel_keeps_the_debugger(tmp_path: Path) -> None:
    # even when started from a terminal of a learner's server, which passes the learner's JUPYTER_PATH on
    learners = {"JUPYTER_PATH": str(CONFIG / "learner-data")}
    info, debugpy_modules = kernel_report(tmp_path, "instructor.py", LOADED, learners)
    assert "debugpy" in debugpy_modules
    assert "debugger" in info.get("supported_features", [])
