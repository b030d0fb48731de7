"""Browser tests: a learner in JupyterLab, driven through headless Chromium by Playwright.

One JupyterLab serves the whole session, over a temporary copy of the repository (as a fresh clone
has it), on a free loopback port, with no provider key, a temporary ``.env`` and ledger, and the
network guard in every kernel. Each test gets a fresh browser context and a :class:`Learner` that
does what a person does: open a notebook, use the menus, type into cells, press Ctrl+S.

Needs Debian's ``chromium`` at ``/usr/bin/chromium`` (``.ci/run`` installs it). Without it the tests
skip, unless ``APICOURSE_REQUIRE_BROWSER=1`` (CI), where they fail. On failure a screenshot, the page's
HTML and the server log land in ``browser-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from local_jupyter import RunningJupyter, running_jupyter
from repo_copy import copy_repository

from apicourse import paths
from notebooks import keyless_env

CHROMIUM = Path(os.environ.get("APICOURSE_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER_VAR = "APICOURSE_REQUIRE_BROWSER"
ARTIFACTS = paths.ROOT / "browser-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 60_000
"""Longest wait for any one thing the learner waits for (a kernel, a cell, an answer)."""

# JupyterLab settings for a quiet, predictable page: no news or update pop-up, every cell in the DOM
# (windowing off, so cells far down the page can be found), no autoclosing of brackets and quotes.
USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/codemirror-extension/plugin": {"defaultConfig": {"autoClosingBrackets": False}},
}


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get(REQUIRE_BROWSER_VAR) == "1":
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_VAR}=1, so browser tests may not skip)")
    pytest.skip(reason)


# --- the server --------------------------------------------------------------------------------------


@dataclass
class Lab:
    """The JupyterLab under test and the temporary course it serves."""

    jupyter: RunningJupyter
    course: Path
    state: Path

    @property
    def url(self) -> str:
        return self.jupyter.url

    def blocked_connections(self) -> list[str]:
        """Connections the network guard refused in any kernel (must stay empty)."""
        log = self.state / "guard.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def write_user_settings(folder: Path) -> None:
    for plugin, values in USER_SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        target = folder / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("lab")
    course = copy_repository(tmp / "course")
    state = tmp / "state"
    write_user_settings(state / "user-settings")
    env = keyless_env(state)  # no provider keys, a temporary .env and ledger, the guard in every kernel
    env.pop("MPLBACKEND", None)  # plots render inline, as for a learner
    # kernels import the copy's apicourse, so grading and cassettes use the copy, never the working tree
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(course), env.get("PYTHONPATH")]))
    with running_jupyter("lab", root_dir=course, state_dir=state, env=env, ready_path="/lab") as jupyter:
        yield Lab(jupyter=jupyter, course=course, state=state)


# --- the browser -------------------------------------------------------------------------------------


@pytest.fixture  # not shared: playwright's sync API keeps an event loop running in this thread while it
def chromium() -> Iterator[Any]:  # lives, which would break any later test in the same worker that uses asyncio
    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is missing: pip install -r requirements-test.txt")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def learner(request: pytest.FixtureRequest, chromium: Any, lab: Lab) -> Iterator[Learner]:
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    messages: list[str] = []
    page.on(
        "console",
        lambda m: messages.append(f"[{m.type}] {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: messages.append(f"[pageerror] {e}"))
    try:
        yield Learner(page, lab)
    finally:
        failed = any(
            getattr(getattr(request.node, f"report_{when}", None), "failed", False)
            for when in ("setup", "call")
        )
        if failed:
            _keep_artifacts(request.node.name, page, lab, messages)
        context.close()
        lab.jupyter.shut_down_kernels()


def _keep_artifacts(name: str, page: Any, lab: Lab, messages: list[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
    except Exception as error:  # noqa: BLE001 - the page may be gone; keep what we can
        messages.append(f"[artifacts] no screenshot: {error}")
    (ARTIFACTS / f"{stem}.console.txt").write_text("\n".join(messages), encoding="utf-8")
    shutil.copy(lab.jupyter.log_path, ARTIFACTS / f"{stem}.jupyter.log")


# --- the learner -------------------------------------------------------------------------------------


class Learner:
    """What a person does in JupyterLab, one method per gesture."""

    def __init__(self, page: Any, lab: Lab) -> None:
        self.page = page
        self.lab = lab

    # where things are
    @property
    def notebook(self) -> Any:
        """The notebook in the current tab."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first

    def code_cells(self) -> Any:
        return self.notebook.locator(".jp-CodeCell")

    def cell_containing(self, text: str) -> Any:
        """The code cell whose source contains ``text`` (e.g. an answer cell's marker comment)."""
        cells = self.code_cells().filter(has=self.page.locator(".cm-content", has_text=text))
        assert cells.count() == 1, f"expected one code cell containing {text!r}, found {cells.count()}"
        return cells.first

    def prompts(self) -> list[str]:
        return [p.strip() for p in self.notebook.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()]

    def errors(self) -> list[str]:
        """Tracebacks shown in the notebook's outputs."""
        return (
            self.notebook.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            .filter(has_text=re.compile(r"Traceback|Error"))
            .all_inner_texts()
        )

    # gestures
    def open(self, path: str) -> None:
        """Open a notebook from its URL (``?reset``: a clean workspace) and wait for its kernel."""
        self.page.goto(f"{self.lab.url}/lab/tree/{path}?reset")
        self.notebook.wait_for()
        self.wait_for_kernel_idle()

    def wait_for_kernel_idle(self) -> None:
        """Wait until the notebook's kernel is connected and idle.

        The toolbar's indicator says "idle" before any kernel exists; the status bar names the kernel
        ("Python 3 (ipykernel) | Idle") only once it is connected, so both must agree.
        """
        self.page.wait_for_function(
            r"""() => {
                const el = document.querySelector(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
                const status = [...document.querySelectorAll('.jp-StatusBar-Item')].map(i => i.innerText.trim());
                return el && el.dataset.status === 'idle'
                    && status.some(t => / \| Idle$/.test(t) && !t.startsWith('No Kernel'));
            }""",
            timeout=TIMEOUT_MS,
        )

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu`` in the menu bar, then ``item`` in it (exact labels)."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
        self.page.locator(
            ".lm-Menu-item:visible",
            has=self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")),
        ).click()

    def _last_execution_count(self) -> int:
        counts = [int(m.group(1)) for p in self.prompts() if (m := re.search(r"\[(\d+)\]", p))]
        return max(counts, default=0)

    def _wait_until_run(self, before: int) -> None:
        """Wait until a cell has run after ``before`` and nothing is queued or running."""
        deadline = time.monotonic() + 5 * TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            prompts = self.prompts()
            if self._last_execution_count() > before and not any("*" in p for p in prompts):
                self.wait_for_kernel_idle()
                if not any("*" in p for p in self.prompts()):
                    return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"cells still running after {5 * TIMEOUT_MS / 1000:.0f} s: {self.prompts()}")

    def run_all(self) -> None:
        """Run → Run All Cells, and wait until the kernel has finished."""
        before = self._last_execution_count()
        self.menu("Run", "Run All Cells")
        self._wait_until_run(before)

    def run_cell(self, cell: Any) -> None:
        """Select ``cell`` and press Shift+Enter, and wait until it has run."""
        before = self._last_execution_count()
        cell.locator(".jp-InputPrompt").click()  # selects the cell, in command mode
        self.page.keyboard.press("Shift+Enter")
        self._wait_until_run(before)

    def replace_source(self, cell: Any, source: str) -> None:
        """Click into the cell's editor, select everything, and type ``source`` in its place."""
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(source)  # like a paste: no auto-indent, no auto-closing
        self.page.keyboard.press("Escape")  # back to command mode

    def save(self) -> None:
        """Ctrl+S, and wait until the tab no longer shows unsaved changes."""
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").wait_for(state="detached")
        self.page.locator(".lm-TabBar-tab.jp-mod-current").wait_for()
