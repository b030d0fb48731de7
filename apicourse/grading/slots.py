"""Machine-wide grading slots: at most N gradings run their kernels at once on a machine, the others wait.

Thirty learners pressing "grade" at the same moment on a 2-core hub would otherwise start thirty grading kernels
together; each then runs so slowly that kernels miss their start-up timeout and a correct answer misses the
per-cell timeout (an unfair 0). A slot is an ``fcntl.flock`` lock on one of N files in a folder every user
shares, so every grading process on the machine (learners are different Unix users on a hub; ``grade-class``
workers are processes of the instructor's) takes turns. The kernel frees a lock when its holder exits or dies.
A ``grade-class`` worker's kernel, forked from its zygote, takes its slot once it is up and frees it before
shutting down: both cost little CPU and mostly wait (see ``GuardedExecute.setup_kernel``).

- folder: ``$APICOURSE_GRADING_SLOTS_DIR``, else ``<tempdir>/apicourse-grading-slots`` (made world-writable
  with the sticky bit, like ``/tmp``; the hub configuration creates it as root and hands it to every server);
- N: ``$APICOURSE_GRADING_SLOTS``, else the CPUs this process may use (``os.sched_getaffinity``);
- the longest wait: ``$APICOURSE_GRADING_SLOT_WAIT`` seconds (default 900), then :class:`GraderBusy` says so.

Taking a slot is re-entrant within a process: a grading that already holds one does not wait for a second::

    >>> with grading_slot(notify=None):
    ...     with grading_slot(notify=None):
    ...         held_slot() is not None
    True
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SLOTS_DIR_VAR = "APICOURSE_GRADING_SLOTS_DIR"
SLOTS_VAR = "APICOURSE_GRADING_SLOTS"
WAIT_VAR = "APICOURSE_GRADING_SLOT_WAIT"
DEFAULT_WAIT = 900.0
"""Seconds a grading waits for a slot at most: thirty learners at once on two cores are all served well within."""

_POLL = 0.25


class GraderBusy(TimeoutError):
    """No grading slot came free within the longest wait; nothing was graded."""


def slot_count(environ: dict[str, str] | None = None) -> int:
    """How many gradings may run at once: ``$APICOURSE_GRADING_SLOTS``, else the CPUs available.

    >>> slot_count({"APICOURSE_GRADING_SLOTS": "3"})
    3
    >>> slot_count({}) == len(os.sched_getaffinity(0))
    True
    """
    env = os.environ if environ is None else environ
    try:
        wanted = int(env.get(SLOTS_VAR, "0"))
    except ValueError:
        wanted = 0
    if wanted > 0:
        return wanted
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def slots_dir(environ: dict[str, str] | None = None) -> Path:
    """The folder whose files are the slots (created, world-writable with the sticky bit, if missing).

    >>> slots_dir({"APICOURSE_GRADING_SLOTS_DIR": tempfile.mkdtemp()}).stat().st_mode & 0o1777 == 0o1777
    True
    """
    env = os.environ if environ is None else environ
    folder = Path(env.get(SLOTS_DIR_VAR) or Path(tempfile.gettempdir()) / "apicourse-grading-slots")
    with contextlib.suppress(FileExistsError):
        folder.mkdir(parents=True)
    info = folder.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o1777 != 0o1777:
        folder.chmod(0o1777)  # mkdir applies the umask: open it to every user, as /tmp is
    return folder


def _open_slot(path: Path) -> int | None:
    """A read-only descriptor on one slot file (flock works on it), or None if that slot cannot be used (a file
    another user made unreadable, or replaced by something that is not a plain file)."""
    old = os.umask(0)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o444)
    except OSError:
        return None
    finally:
        os.umask(old)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


class _Held:
    """This process's slot: its number, the descriptors it opened, how many ``grading_slot`` blocks use it."""

    def __init__(self) -> None:
        self.state = threading.Lock()  # guards the fields below
        self.taking = threading.Lock()  # one thread of the process takes a slot at a time; the others share it
        self.fds: dict[int, int] = {}
        self.index: int | None = None
        self.depth = 0


_HELD = _Held()


def held_slot() -> int | None:
    """The number of the slot this process holds, or None (also while running without a usable slot folder)."""
    return _HELD.index


def _try_take(fds: dict[int, int]) -> int | None:
    for index, fd in fds.items():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return index
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
    return None


def _take(limit: float, notify: Callable[[str], None] | None) -> tuple[dict[int, int], int | None]:
    """Open the slot files and lock one (waiting up to ``limit`` s); returns the descriptors and its number
    (None: no slot folder or file could be used, the grading runs without one)."""
    slots = slot_count()
    try:
        folder: Path | None = slots_dir()
    except OSError:
        folder = None
    fds = {i: fd for i in range(slots if folder else 0) if (fd := _open_slot(folder / f"slot-{i}")) is not None}
    try:
        taken = _try_take(fds) if fds else None
        if taken is not None or not fds:
            return fds, taken
        started = time.monotonic()
        if notify:
            notify(f"The grader is busy: {slots} grading(s) run at once on this machine and all are taken. "
                   "Yours waits for its turn and then starts by itself...")
        while taken is None:
            if time.monotonic() - started >= limit:
                raise GraderBusy(
                    f"The grader stayed busy for {limit:.0f} s ({slots} grading(s) at once on this machine, all "
                    "taken): nothing was graded and nothing recorded. Please grade again in a few minutes.")
            time.sleep(_POLL)
            taken = _try_take(fds)
        if notify:
            notify(f"Your grading starts now (it waited {time.monotonic() - started:.0f} s).")
        return fds, taken
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        raise


@contextlib.contextmanager
def grading_slot(*, wait: float | None = None, notify: Callable[[str], None] | None = print) -> Iterator[int | None]:
    """Hold one of the machine's grading slots for the block (yields its number); wait for one if all are taken.

    ``notify`` is told once, in a short sentence, that the grading waits (and once more when it starts);
    ``wait`` is the longest wait in seconds (default ``$APICOURSE_GRADING_SLOT_WAIT`` or 900), after which
    :class:`GraderBusy` is raised with a sentence for the learner. If no slot file can be used at all, the
    grading runs without a slot (yields None) rather than not at all.

    >>> with grading_slot(notify=None) as number:  # notify=print (the default) would say if it waits
    ...     number is not None and number >= 0
    True
    """
    limit = float(os.environ.get(WAIT_VAR) or DEFAULT_WAIT) if wait is None else wait
    with _HELD.taking:
        with _HELD.state:
            shared = _HELD.depth > 0
            if shared:
                _HELD.depth += 1
        if not shared:
            fds, taken = _take(limit, notify)
            with _HELD.state:
                _HELD.fds, _HELD.index, _HELD.depth = fds, taken, 1
    try:
        yield _HELD.index
    finally:
        with _HELD.state:
            _HELD.depth -= 1
            if _HELD.depth == 0:
                for fd in _HELD.fds.values():
                    os.close(fd)  # closing the descriptor releases its lock
                _HELD.fds, _HELD.index = {}, None
