"""A grading kernel started before it is needed, so that a learner's next grading skips the kernel's start-up.

Starting a kernel (inside the sandbox, where there is one) is the largest single cost of a grading: about
1.5 s of the ~2.8 s a retake took. After a self-grading, :func:`keep_one_ready` starts the next kernel in the
background while the learner reads their feedback; the next grading takes it (:func:`take`) instead of
starting one. A spare is a fresh, unused kernel, started exactly as nbgrader would start it (same command, same
sandbox, ``NBGRADER_EXECUTION=autograde``), so a grading with it is the same grading. It is used once, and
a spare nobody takes within :data:`IDLE_SECONDS` is shut down (its memory, ~40 MB, goes back). The class
command does not keep spares: its workers keep every core busy already.

Each spare lives in a thread of its own from start to shut-down: the sandbox dies with the thread that
started it (``bwrap --die-with-parent``), so that thread waits until the spare is used up.

    >>> take(("no", "spare", "started")) is None
    True
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_async, run_sync

IDLE_SECONDS = 15 * 60
"""A spare kernel nobody took within this time is shut down."""


class Spare(threading.Thread):
    """A started, unused grading kernel (its manager ``km``), kept by a thread of its own until :func:`finish`."""

    def __init__(self, key: Hashable, make_manager: Callable[[], Any], extra_arguments: list[str]) -> None:
        super().__init__(name="apicourse-spare-kernel", daemon=True)
        self.key = key
        self.km: Any = None
        self.ready = threading.Event()  # set once the kernel is up (or failed to start: km is then None)
        self.done = threading.Event()  # set when the spare is used up or expires: the thread shuts it down
        self._make_manager = make_manager
        self._arguments = extra_arguments

    def run(self) -> None:
        global _SPARE
        folder = Path(tempfile.mkdtemp(prefix="apicourse-spare-"))
        try:
            km = self._make_manager()
            env = {**os.environ, "NBGRADER_EXECUTION": "autograde"}  # as nbgrader's autograde sets it
            run_sync(_start_kernel)(km, self._arguments, env, str(folder))
            self.km = km
        except Exception:  # noqa: BLE001 - no spare: the next grading starts its own kernel, as it always could
            pass
        finally:
            self.ready.set()
        if self.km is not None and not self.done.wait(IDLE_SECONDS):
            with _LOCK:  # nobody took it: give its memory back
                expired = _SPARE is self
                if expired:
                    _SPARE = None
            if not expired:  # taken at this very moment: its grading says when it is used up
                self.done.wait(3600)
        if self.km is not None:
            with contextlib.suppress(Exception):
                run_sync(_shutdown)(self.km)
        shutil.rmtree(folder, ignore_errors=True)


_LOCK = threading.Lock()
_SPARE: Spare | None = None


def take(key: Hashable) -> Spare | None:
    """The spare kernel if one started with ``key`` is ready and alive (it is then yours: give it to
    :func:`finish` after use); else ``None`` (a spare started otherwise is shut down)."""
    global _SPARE
    with _LOCK:
        spare, _SPARE = _SPARE, None
    if spare is None:
        return None
    # still starting: waiting for it is never slower than starting another
    if spare.key == key and spare.ready.wait(timeout=120) and spare.km is not None:
        with contextlib.suppress(Exception):
            if run_sync(_alive)(spare.km):
                return spare
    finish(spare)
    return None


def keep_one_ready(key: Hashable, make_manager: Callable[[], Any], extra_arguments: list[str]) -> Spare | None:
    """Start a spare kernel in the background: ``make_manager()`` gives the kernel manager nbgrader would use,
    ``extra_arguments`` the kernel's arguments; ``key`` says what it was started for (see :func:`take`).
    Returns the spare (``spare.ready`` is set once it is up), or ``None`` if there is one already."""
    global _SPARE
    with _LOCK:
        if _SPARE is not None:
            return None
        _SPARE = Spare(key, make_manager, list(extra_arguments))
        _SPARE.start()
        return _SPARE


def finish(spare: Spare) -> None:
    """A spare is used up (or not wanted): its thread shuts the kernel down and removes its folder."""
    spare.done.set()


def shut_down() -> None:
    """Shut down the spare kernel, if there is one, and wait for it (also done when Python exits)."""
    global _SPARE
    with _LOCK:
        spare, _SPARE = _SPARE, None
    if spare is not None:
        finish(spare)
        spare.join(timeout=30)


async def _start_kernel(km: Any, extra_arguments: list[str], env: dict[str, str], cwd: str) -> None:
    await ensure_async(km.start_kernel(extra_arguments=extra_arguments, env=env, cwd=cwd))


async def _alive(km: Any) -> bool:
    return bool(await ensure_async(km.is_alive()))


async def _shutdown(km: Any) -> None:
    try:
        if await ensure_async(km.is_alive()):
            await ensure_async(km.shutdown_kernel(now=True))
    finally:
        await ensure_async(km.cleanup_resources())


atexit.register(shut_down)
