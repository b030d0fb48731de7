"""Machine-wide grading slots (apicourse/grading/slots.py): at most N grading kernels at once on a machine.

Real processes contend for real ``flock`` locks; with root and the class's Unix accounts (as in CI), two
different users contend for one slot, as two learners on a hub do.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from apicourse import grading
from apicourse.grading import slots
from apicourse.grading.slots import GraderBusy, grading_slot, held_slot, slot_count, slots_dir

ROOT = Path(__file__).resolve().parents[1]
USERS = ("apicourse-ada", "apicourse-bob")  # made by deploy/jupyterhub/setup-host.sh (.ci/run, as root)
USER_PYTHON = Path(os.environ.get("APICOURSE_USER_PYTHON", "/opt/apicourse-hub-env/bin/python"))

# A grading process in miniature: take a slot, say when (wall clock), hold it, say when it let go.
HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("slots", sys.argv[1])
slots = importlib.util.module_from_spec(spec); spec.loader.exec_module(slots)
with slots.grading_slot(notify=lambda m: print("NOTE", m, flush=True)) as n:
    print("TOOK", n, time.time(), flush=True)
    time.sleep(float(sys.argv[2]))
print("FREED", time.time(), flush=True)
"""


@pytest.fixture
def one_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One slot on this "machine", in a folder of this test's own."""
    folder = tmp_path / "slots"
    monkeypatch.setenv(slots.SLOTS_DIR_VAR, str(folder))
    monkeypatch.setenv(slots.SLOTS_VAR, "1")
    monkeypatch.delenv(slots.WAIT_VAR, raising=False)
    return folder


def _holder(tmp_path: Path, hold: float, user: str | None = None) -> subprocess.Popen[str]:
    """Start a process (as ``user`` if given, with a Python every account can run) that takes a slot and holds
    it ``hold`` seconds; ``tmp_path`` must then be readable by that user."""
    script = tmp_path / "holder.py"
    if not script.exists():
        script.write_text(HOLDER)
        shutil.copy2(ROOT / "apicourse" / "grading" / "slots.py", tmp_path / "slots.py")
    prefix = ["runuser", "-u", user, "--"] if user else []
    env = {k: v for k, v in os.environ.items() if k.startswith("APICOURSE_") or k in ("PATH", "LANG")}
    python = next((p for p in (USER_PYTHON, Path("/usr/bin/python3")) if user and p.exists()), sys.executable)
    return subprocess.Popen([*prefix, str(python), str(script), str(tmp_path / "slots.py"), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)


def _wait_line(process: subprocess.Popen[str], start: str, timeout: float = 60) -> str:
    """The first line ``process`` prints starting with ``start`` (fails if it exits or times out first)."""
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if line.startswith(start):
            return line
    raise AssertionError(f"no {start!r} line; the process printed: {''.join(seen)!r}")


def _users_or_skip() -> None:
    lacks = [] if os.geteuid() == 0 else ["root"]
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            lacks.append(f"Unix user {user} (deploy/jupyterhub/setup-host.sh)")
    if lacks:
        if os.environ.get("APICOURSE_REQUIRE_HUB"):
            pytest.fail("two learners cannot contend for a slot here; missing: " + "; ".join(lacks))
        pytest.skip("needs " + "; ".join(lacks))


def test_two_learners_as_different_users_take_turns_on_one_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    _users_or_skip()
    shared = Path(tempfile.mkdtemp(prefix="apicourse-slots-test-"))  # pytest's own tmp_path is root's only
    shared.chmod(0o755)
    one_slot = shared / "slots"
    monkeypatch.setenv(slots.SLOTS_DIR_VAR, str(one_slot))
    monkeypatch.setenv(slots.SLOTS_VAR, "1")
    try:
        _take_turns(shared, one_slot)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _take_turns(tmp_path: Path, one_slot: Path) -> None:
    slots_dir()  # made by root (as the hub does), world-writable with the sticky bit
    first = _holder(tmp_path, 3, USERS[0])
    took_first = float(_wait_line(first, "TOOK").split()[2])
    second = _holder(tmp_path, 0, USERS[1])
    note = _wait_line(second, "NOTE")
    assert "The grader is busy" in note and "waits for its turn" in note
    freed_first = float(_wait_line(first, "FREED").split()[1])
    took_second = float(_wait_line(second, "TOOK").split()[2])
    assert took_first < freed_first <= took_second + 0.05, "the second learner ran while the first held the slot"
    assert second.wait(30) == 0 and first.wait(30) == 0
    owners = {pwd.getpwuid((one_slot / "slot-0").stat().st_uid).pw_name}
    assert owners <= set(USERS), owners  # the slot file was made by one learner and locked by the other


def test_a_slot_is_freed_when_its_holder_dies(one_slot: Path, tmp_path: Path) -> None:
    holder = _holder(tmp_path, 600)
    _wait_line(holder, "TOOK")
    waiting = _holder(tmp_path, 0)
    _wait_line(waiting, "NOTE")
    holder.send_signal(signal.SIGKILL)  # a grading process killed mid-grading (the learner's kernel restarted)
    holder.wait(30)
    started = time.monotonic()
    _wait_line(waiting, "TOOK", timeout=30)
    assert time.monotonic() - started < 30, "freed when its holder died, not after the 600 s it meant to hold it"
    assert waiting.wait(30) == 0


def test_the_wait_is_bounded_and_says_so(one_slot: Path, tmp_path: Path) -> None:
    holder = _holder(tmp_path, 600)
    try:
        _wait_line(holder, "TOOK")
        told: list[str] = []
        started = time.monotonic()
        with pytest.raises(GraderBusy) as busy, grading_slot(wait=1.0, notify=told.append):
            pytest.fail("ran without a slot while another process held the only one")
        assert 1.0 <= time.monotonic() - started < 30
        assert len(told) == 1 and "The grader is busy" in told[0]
        assert "nothing was graded" in str(busy.value) and "grade again" in str(busy.value)
        assert held_slot() is None
    finally:
        holder.kill()
        holder.wait(30)


def test_re_entrant_within_a_process_even_from_another_thread(one_slot: Path) -> None:
    # self-grading holds its slot in nbgrader's worker thread; a nested request must not wait for itself
    with grading_slot(wait=1.0, notify=None) as outer:
        assert outer == 0 and held_slot() == 0
        box: dict[str, object] = {}

        def nested() -> None:
            try:
                with grading_slot(wait=1.0, notify=None) as inner:
                    box["inner"] = inner
            except GraderBusy as error:
                box["inner"] = error

        worker = threading.Thread(target=nested)
        worker.start()
        worker.join(10)
        assert box["inner"] == 0
        assert held_slot() == 0  # still held by the outer block
    assert held_slot() is None
    with grading_slot(wait=1.0, notify=None) as again:  # and it was given back
        assert again == 0


def test_the_folder_is_shared_and_a_broken_slot_file_is_skipped(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "slots"
    monkeypatch.setenv(slots.SLOTS_DIR_VAR, str(folder))
    monkeypatch.setenv(slots.SLOTS_VAR, "2")
    old = os.umask(0o077)
    try:
        assert slots_dir() == folder
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o7777 == 0o1777  # every user may create slot files, none remove another's
    os.mkfifo(folder / "slot-0")  # something that is not a plain file (opening a FIFO would block)
    with grading_slot(wait=1.0, notify=None) as number:
        assert number == 1
        assert (folder / "slot-1").stat().st_mode & 0o444 == 0o444  # readable by every user: flock needs no more
    assert slot_count({}) >= 1


@pytest.mark.parametrize("forked", [False, True], ids=["kernel", "forked-kernel"])
def test_grading_kernels_wait_for_a_slot(one_slot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         forked: bool) -> None:
    """nbgrader's execution step (GuardedExecute, used by self-grading and grade-class) holds a slot; a kernel
    forked from grade-class's zygote takes it once it is up, and its cells wait as well."""
    from apicourse.grading.preprocessors import GuardedExecute
    from apicourse.grading.sandbox import sandbox_status
    from apicourse.grading.zygote_kernel import stop_shared

    if forked and not sandbox_status().available:
        pytest.skip(sandbox_status().reason)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(tmp_path)}}
    kind = {"sandboxed": True, "forked": True} if forked else {}
    holder = _holder(tmp_path, 600)
    try:
        _wait_line(holder, "TOOK")
        monkeypatch.setenv(slots.WAIT_VAR, "2")
        with pytest.raises(GraderBusy):
            GuardedExecute(timeout=60, **kind).preprocess(nbformat.from_dict(nb), resources)
        holder.kill()
        holder.wait(30)
        executed, _ = GuardedExecute(timeout=60, **kind).preprocess(nbformat.from_dict(nb), resources)
        assert executed.cells[0].outputs[0]["text"] == "42\n"
    finally:
        holder.kill()
        holder.wait(30)
        stop_shared()


def test_the_grading_kernel_skips_the_graders_own_cells_but_no_answer() -> None:
    """The quiz's first cell imports the grader (warm_up); 30 gradings at once on 2 cores made that import
    outlast the 5 s cell timeout, and the whole grading was lost. nbgrader's copy leaves it out."""
    from apicourse.grading import SOURCE_NOTEBOOK
    from apicourse.grading.nbgrader_run import course_config

    skip = next(p for p in course_config(ROOT / "quiz").Autograde.sanitize_preprocessors
                if p.__name__ == "SkipSelfGrading")()
    nb = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    graders = [(i, c) for i, c in code if "from apicourse.grading import" in c.source]
    assert any("warm_up()" in c.source for _, c in graders)
    for index, cell in code:
        before = cell.source
        skip.preprocess_cell(cell, {}, index)
        if (index, cell) in graders:
            assert "apicourse" not in cell.source, before
        else:
            assert cell.source == before, "an answer or test cell is run as the learner wrote it"


def test_a_learner_told_the_grader_is_busy_reads_one_sentence(one_slot: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """No slot within the longest wait: the learner's result is the sentence, not nbgrader's log."""
    from apicourse.grading import grade_notebook

    holder = _holder(tmp_path, 600)
    try:
        _wait_line(holder, "TOOK")
        monkeypatch.setenv(slots.WAIT_VAR, "2")
        result = grade_notebook(grading.SOURCE_NOTEBOOK)
    finally:
        holder.kill()
        holder.wait(30)
    assert not result.graded
    assert result.error.startswith("The grader stayed busy for 2 s"), result.error
    assert "nbgrader" not in result.error and "Traceback" not in result.error
