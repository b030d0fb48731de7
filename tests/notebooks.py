"""Run a notebook the way a learner without keys would: a fresh kernel, no provider keys, the guard on.

    nb, blocked = execute_notebook(NOTEBOOKS / "05_openai.ipynb", tmp_path)

``blocked`` lists every attempt the network guard refused (it should be empty).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from apicourse import guard
from apicourse.replay import PROVIDERS

PROVIDER_KEY_VARS = tuple(p.key_var for p in PROVIDERS) + ("HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")


def keyless_env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a learner with no key, whose .env, ledger, grader cache and IPython profile live
    in ``tmp`` (nothing is written to the real home directory). Replay is strict (a call the cassette
    lacks fails instead of reaching the offline stand-in) unless ``extra`` sets
    ``APICOURSE_STRICT_REPLAY=0``."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEY_VARS and not k.startswith("APICOURSE_")}
    ipython_dir = tmp / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-apicourse-guard.py").write_text(guard.startup_code(), encoding="utf-8")
    env.update(
        IPYTHONDIR=str(ipython_dir),
        APICOURSE_GUARD_LOG=str(tmp / "guard.log"),
        APICOURSE_ENV_FILE=str(tmp / ".env"),
        APICOURSE_LEDGER_URL=f"sqlite:///{tmp / 'ledger.db'}",
        APICOURSE_CACHE_DIR=str(tmp / "grader-cache"),
        APICOURSE_STREAM_DELAY="0",
        APICOURSE_STRICT_REPLAY="1",
        MPLBACKEND="Agg",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HOME=str(tmp / "hf-home"),
    )
    env.update(extra or {})
    return env


def execute_notebook(
    path: Path, tmp: Path, *, extra_env: dict[str, str] | None = None, timeout: int = 180
) -> tuple[Any, list[str]]:
    """Execute ``path`` top to bottom in a fresh kernel; raise on the first cell error."""
    nb = nbformat.read(path, as_version=4)
    env = keyless_env(tmp, extra_env)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)  # a fresh kernel with exactly this environment
    log = tmp / "guard.log"
    blocked = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return nb, blocked
