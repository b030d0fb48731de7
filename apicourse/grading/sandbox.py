"""Student code runs where it can harm nothing: each grading kernel in a bubblewrap sandbox.

nbgrader runs a submission's cells in a Jupyter kernel. Started through
:class:`~apicourse.grading.sandbox_kernel.SandboxedKernelManager`
that kernel runs inside ``bwrap`` (Debian's ``bubblewrap``) with:

- only the system (``/usr`` and the few files of ``/etc`` Python reads), the Python installation and the
  ``apicourse`` package, read-only;
- a throw-away working folder (a copy of the submission's own files) as its only writable place, besides an
  empty ``/tmp`` — never the course folder, the gradebook, the ledger, ``source/``, other submissions, the
  grader's cache or the course's ``.env``, which are not even visible (:func:`protected_paths`);
- no network (its own, empty network namespace; the grader talks to it over Unix sockets in a folder it
  shares), its own process, IPC and host-name namespaces, no capabilities (even when the grader runs as
  root), no environment variables but a few harmless ones (no API key, no database URL), and it dies with
  the grader.

Where the machine forbids user namespaces (some containers, Binder) the sandbox is unavailable;
:func:`sandbox_status` says so in a sentence and the grader reports it (``grade-class --require-sandbox``
then refuses to grade)::

    >>> status = sandbox_status()
    >>> isinstance(status.available, bool) and status.reason.endswith(".")
    True
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import apicourse
from apicourse import paths

SANDBOX_VAR = "APICOURSE_SANDBOX"
"""Environment variable: ``off`` grades without the sandbox (say, to compare); anything else: sandbox if possible."""

_ETC = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
        "nsswitch.conf", "mime.types", "ssl", "hosts", "host.conf", "gai.conf")
_PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED")


@dataclass(frozen=True)
class SandboxStatus:
    """Whether grading kernels can run sandboxed here, and why not (one sentence)."""

    available: bool
    reason: str


def _bwrap() -> str | None:
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap",) if os.access(p, os.X_OK)), None)


@functools.cache
def _probe() -> SandboxStatus:
    bwrap = _bwrap()
    if bwrap is None:
        return SandboxStatus(False, "bubblewrap (bwrap) is not installed: install the Debian package bubblewrap.")
    run_dir = Path(tempfile.mkdtemp(prefix="acsb-"))
    try:
        command = bwrap_command([sys.executable, "-c", "print('sandboxed')"], run_dir=run_dir, workdir=run_dir,
                                hidden=())
        probe = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"bubblewrap could not start ({error}).")
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    if probe.returncode != 0 or "sandboxed" not in probe.stdout:
        detail = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        why = ("this machine does not allow user namespaces (common in containers and on Binder)"
               if "namespace" in detail.lower() or "permission" in detail.lower() else "it failed")
        return SandboxStatus(False, f"bubblewrap cannot sandbox here: {why} (bwrap: {detail}).")
    return SandboxStatus(True, "bubblewrap sandboxes grading kernels here.")


def sandbox_status() -> SandboxStatus:
    """Whether grading kernels run sandboxed here (checked once per process by starting a sandbox)."""
    if os.environ.get(SANDBOX_VAR, "").strip().lower() in {"off", "0", "no", "false"}:
        return SandboxStatus(False, f"the sandbox is turned off (${SANDBOX_VAR}=off).")
    return _probe()


def protected_paths(course: Path | None = None, ledger_url: str | None = None) -> list[Path]:
    """What a submission must never see: the course folder, the ledger's file, the grader's cache, the
    repository's quiz and ``.env``, the learner's data folder (their own ledger).

    >>> [p.name for p in protected_paths(Path("/c"), "sqlite:////data/attempts.db")][:2]
    ['c', 'attempts.db']
    """
    from apicourse.grading.nbgrader_run import _cache_dir

    found = [Path(course)] if course else []
    if ledger_url and ledger_url.startswith("sqlite:///"):
        found.append(Path(ledger_url.removeprefix("sqlite:///").split("?", 1)[0]))
    from apicourse.ledger import data_dir, default_url

    found += [_cache_dir(), paths.QUIZ, paths.env_file(), data_dir()]
    default = default_url()
    if default.startswith("sqlite:///"):
        found.append(Path(default.removeprefix("sqlite:///").split("?", 1)[0]))
    return [p.resolve() for p in found]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_only_binds(hidden: Sequence[Path]) -> tuple[list[str], list[Path]]:
    """bwrap options binding the system, Python and apicourse read-only; and the folders bound."""
    options: list[str] = []
    bound: list[Path] = []
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            options += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            options += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    for name in _ETC:  # what Python and its libraries read in /etc, and nothing else (no /etc/shadow)
        path = Path("/etc") / name
        if path.exists():
            options += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    package = Path(apicourse.__file__).resolve().parent
    extra = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}]
    # installed packages only: a sys.path entry such as the working folder could hold anything
    extra += [Path(p).resolve() for p in sys.path
              if p and Path(p).name in {"site-packages", "dist-packages"} and Path(p).is_dir()]
    for folder in sorted(set(extra), key=lambda p: len(p.parts)):
        if any(_inside(folder, b) for b in bound) or any(_inside(h, folder) for h in hidden):
            continue  # already there, or it would show something protected (the repository, say)
        options += ["--ro-bind", str(folder), str(folder)]
        bound.append(folder)
    if not any(_inside(package, b) for b in bound):
        options += ["--ro-bind", str(package), str(package)]
        bound.append(package)
    return options, bound


def _masks(hidden: Sequence[Path], bound: Sequence[Path]) -> list[str]:
    """bwrap options masking whatever protected path lies under a bound folder (belt and braces)."""
    options: list[str] = []
    for path in hidden:
        if any(_inside(path, b) for b in bound) and path.exists():
            options += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    return options


def sandbox_fingerprint(hidden: Iterable[Path]) -> tuple[str, ...]:
    """What a sandbox started now with ``hidden`` masked would look like (its binds and masks): two kernels
    with the same fingerprint run in the same sandbox, whatever their throw-away folders.

    >>> sandbox_fingerprint([]) == sandbox_fingerprint([Path("/nowhere/at/all")])
    True
    """
    hidden = [Path(h) for h in hidden]
    binds, bound = _read_only_binds(hidden)
    return (*binds, *_masks(hidden, bound))


def kernel_env(env: dict[str, str] | None, workdir: Path) -> dict[str, str]:
    """The whole environment of a sandboxed kernel: from ``env`` only what is harmless, nothing secret.

    >>> sorted(kernel_env({"OPENAI_API_KEY": "sk-x", "TZ": "UTC"}, Path("/w")))[:3]
    ['HOME', 'JPY_PARENT_PID', 'LANG']
    """
    package_parent = Path(apicourse.__file__).resolve().parent.parent
    passed = {k: v for k, v in (env or {}).items() if k in _PASSED_ENV or k.startswith("JPY_")}
    # JPY_PARENT_PID=1: the kernel does not watch a parent it cannot see (bwrap --die-with-parent does that)
    return {**passed, "JPY_PARENT_PID": "1", "HOME": str(workdir), "TMPDIR": "/tmp",
            "PYTHONPATH": str(package_parent),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "PYTHONDONTWRITEBYTECODE": "1", "LANG": passed.get("LANG", "C.UTF-8")}


def bwrap_command(command: Sequence[str], *, run_dir: Path, workdir: Path, hidden: Iterable[Path],
                  env: dict[str, str] | None = None) -> list[str]:
    """``command`` wrapped in ``bwrap``: read-only system and Python, ``run_dir`` writable (the kernel's
    sockets and ``workdir``, its working folder), an empty ``/tmp``, no network, no capabilities, ``hidden``
    masked."""
    hidden = [Path(h) for h in hidden]
    binds, bound = _read_only_binds(hidden)
    # --cap-drop ALL: run by root (a container, a hub's grader), bwrap would leave the sandbox every capability
    # the empty /tmp first: Python or the course may live under /tmp (a CI checkout), and bind on top of it
    options = [_bwrap() or "bwrap", "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--proc", "/proc",
               "--dev", "/dev", "--tmpfs", "/tmp", *binds, "--bind", str(run_dir), str(run_dir)]
    options += _masks(hidden, bound)
    options.append("--clearenv")
    for key, value in kernel_env(env, workdir).items():
        options += ["--setenv", key, value]
    return [*options, "--chdir", str(workdir), "--", *command]
