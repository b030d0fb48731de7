"""A real class on one machine, for tests: a throw-away PostgreSQL 15 cluster and a JupyterHub running the
course's own ``deploy/jupyterhub/jupyterhub_config.py``, both on loopback, both stopping themselves.

Needs root (the hub runs each learner's server as their Unix user), PostgreSQL 15's binaries, the Unix accounts
below, the proxy from ``deploy/jupyterhub`` (``npm ci``) and the learners' Python environment; ``.ci/run``
installs all of them (``deploy/jupyterhub/setup-host.sh``). :func:`missing` says what is absent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "deploy" / "jupyterhub"
PG_BIN = Path(os.environ.get("APICOURSE_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER_PYTHON = Path(os.environ.get("APICOURSE_USER_PYTHON", "/opt/apicourse-hub-env/bin/python"))
LEARNERS = ("apicourse-ada", "apicourse-bob", "apicourse-cyd")
INSTRUCTOR = "apicourse-ins"
GRADER = "apicourse-grader"
COURSE_ID = "working-with-apis"


def missing() -> list[str]:
    """What this machine lacks to run a real class (empty when everything is there)."""
    import pwd

    lacks = []
    if os.geteuid() != 0:
        lacks.append("root (the hub starts each learner's server as their Unix user)")
    if not (PG_BIN / "initdb").exists():
        lacks.append(f"PostgreSQL 15 ({PG_BIN}/initdb; apt-get install postgresql-15)")
    if not (HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        lacks.append("configurable-http-proxy (cd deploy/jupyterhub && npm ci)")
    if not USER_PYTHON.exists():
        lacks.append(f"the learners' Python environment {USER_PYTHON} (deploy/jupyterhub/setup-host.sh)")
    for name in (*LEARNERS, INSTRUCTOR, GRADER, "postgres"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            lacks.append(f"Unix user {name} (deploy/jupyterhub/setup-host.sh)")
    return lacks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, explain: Callable[[], str] = lambda: "") -> Any:
    """Call ``check`` until it returns something true; fail with ``what`` and ``explain()`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - retried until the deadline
            last = error
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s (last error: {last!r})\n{explain()}")


# --- PostgreSQL ---------------------------------------------------------------------------------------------------
class Postgres:
    """A PostgreSQL 15 cluster in a temporary folder, listening on 127.0.0.1 only, with one password role.

    ``initdb`` refuses root: it runs as the ``postgres`` account. Local (socket) connections are trusted but
    the socket sits in the cluster's own 0700 folder; TCP connections need the role's password.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="apicourse-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.role = "apicourse_grader"
        self.password = secrets.token_urlsafe(18)

    def _as_postgres(self, *command: str, timeout: float = 120) -> str:
        run = subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                             timeout=timeout, check=False)
        assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout}\n{run.stderr}"
        return run.stdout

    def start(self) -> Postgres:
        shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o700)
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                          "--auth-host=scram-sha-256", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                          str(self.dir / "server.log"), "-w", "-t", "120", "start")
        self.sql(f"CREATE ROLE {self.role} LOGIN PASSWORD '{self.password}'")
        for db in ("gradebook", "ledger"):
            self.sql(f"CREATE DATABASE {db} OWNER {self.role}")
        return self

    def sql(self, statement: str, db: str = "postgres") -> str:
        return self._as_postgres(str(PG_BIN / "psql"), "-h", str(self.dir), "-p", str(self.port), "-d", db,
                                 "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-At", "-c", statement)

    def url(self, db: str, *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql+psycopg://{self.role}{secret}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- JupyterHub ---------------------------------------------------------------------------------------------------
class Hub:
    """The course's JupyterHub configuration, run on loopback with the ``dummy`` authenticator."""

    def __init__(self, postgres: Postgres, learners: tuple[str, ...] = LEARNERS) -> None:
        self.pg = postgres
        self.learners = learners
        self.dir = Path(tempfile.mkdtemp(prefix="apicourse-hub-"))
        self.dir.chmod(0o755)
        self.exchange = self.dir / "exchange"
        self.code = self.dir / "code"  # the course's package, readable by every learner
        self.course = Path(f"/home/{GRADER}/{COURSE_ID}")
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "hub.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _prepare(self) -> None:
        self.exchange.mkdir()
        self.exchange.chmod(0o777)  # nbgrader: the exchange root is writable by everyone (ugo+rw)
        self.code.mkdir()
        # the groups' Jupyter settings, readable by every account wherever the repository is checked out
        shutil.copytree(HUB_DIR / "jupyter", self.dir / "jupyter")
        shutil.copytree(ROOT / "apicourse", self.code / "apicourse", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "quiz" / "source", self.code / "quiz" / "source")
        shutil.copytree(ROOT / "quiz" / "release", self.code / "quiz" / "release")
        shutil.copy2(ROOT / "quiz" / "nbgrader_config.py", self.code / "quiz" / "nbgrader_config.py")
        subprocess.run(["chmod", "-R", "a+rX", str(self.code)], check=True)
        for user in (*self.learners, INSTRUCTOR, GRADER):
            clean_home(user)
        # the instructor's course: a copy of quiz/ in the grader account's home, as deploy/README.md says
        shutil.copytree(ROOT / "quiz", self.course, ignore=shutil.ignore_patterns(
            "gradebook.db", "submitted", "autograded", "feedback", "attempts.db*", "grades.csv", ".nbgrader.log"))
        subprocess.run(["chown", "-R", f"{GRADER}:{GRADER}", str(self.course)], check=True)

    def start(self) -> Hub:
        self._prepare()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.dir),
            "APICOURSE_LEARNERS": ",".join(self.learners),
            "APICOURSE_INSTRUCTORS": INSTRUCTOR,
            "APICOURSE_GRADER_USER": GRADER,
            "APICOURSE_COURSE_DIR": str(self.course),
            "APICOURSE_EXCHANGE": str(self.exchange),
            "APICOURSE_GRADEBOOK_URL": self.pg.url("gradebook"),
            "APICOURSE_INSTRUCTOR_LEDGER_URL": self.pg.url("ledger"),
            "APICOURSE_USER_PYTHON": str(USER_PYTHON),
            "APICOURSE_USER_PYTHONPATH": str(self.code),
            "APICOURSE_JUPYTER_CONFIGS": str(self.dir / "jupyter"),
            "APICOURSE_FORMGRADER_PORT": str(free_port()),
            "APICOURSE_CULL_TIMEOUT": "600",
            # the machine-wide grading slots' settings, if this run chose any (benchmarks/bench_class.py)
            **{k: v for k, v in os.environ.items() if k.startswith("APICOURSE_GRADING_SLOT")},
        }
        command = [
            sys.executable, "-m", "jupyterhub", "-f", str(HUB_DIR / "jupyterhub_config.py"),
            "--JupyterHub.authenticator_class=dummy", f"--DummyAuthenticator.password={self.password}",
            f"--JupyterHub.bind_url={self.url}/", "--JupyterHub.hub_ip=127.0.0.1",
            f"--JupyterHub.hub_port={free_port()}", f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
            f"--JupyterHub.db_url=sqlite:///{self.dir / 'jupyterhub.sqlite'}",
            f"--JupyterHub.cookie_secret_file={self.dir / 'cookie_secret'}",
            "--Spawner.start_timeout=180", "--Spawner.http_timeout=180", "--JupyterHub.service_check_interval=5",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for("the hub answering on loopback", lambda: self._alive() and requests.get(
            f"{self.url}/hub/api/", timeout=5).ok, 180, self.tail)
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the hub exited with {self.process.returncode}:\n{self.tail()}")
        return True

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        started = descendants(self.process.pid) if self.process is not None else []
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the hub stops every server and service it started
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        for pid in started:  # anything the hub started that is still there (a server in its own session)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for user in (*self.learners, INSTRUCTOR, GRADER):
            clean_home(user)
        shutil.rmtree(self.dir, ignore_errors=True)


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def clean_home(user: str) -> None:
    """Remove what a previous class left in a test account's home (its course, ledger, caches)."""
    home = Path(f"/home/{user}")
    for name in (COURSE_ID, "module_assessment", ".local", ".cache", ".jupyter", ".ipython"):
        target = home / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)


# --- one person's browser session -------------------------------------------------------------------------------
class Browser:
    """What a person's browser does: log in to the hub over HTTP, start their server, call its REST API."""

    def __init__(self, hub: Hub, user: str) -> None:
        self.hub = hub
        self.user = user
        self.http = requests.Session()
        self.prefix = f"{hub.url}/user/{user}"

    def login(self) -> requests.Response:
        self.http.get(f"{self.hub.url}/hub/login", timeout=30)
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        return self.http.post(f"{self.hub.url}/hub/login", timeout=60, allow_redirects=False,
                              data={"username": self.user, "password": self.hub.password, "_xsrf": xsrf})

    def start_server(self) -> None:
        self.http.get(f"{self.hub.url}/hub/spawn/{self.user}", timeout=60)
        wait_for(f"{self.user}'s server to start", lambda: self.hub._alive() and self.http.get(
            f"{self.prefix}/lab", timeout=30).ok and self._xsrf(), 240, self.hub.tail)

    def open(self, prefix: str) -> None:
        """Open a page under ``prefix`` (e.g. a service) so its OAuth login and cookies are done."""
        wait_for(f"{prefix} to open for {self.user}", lambda: self.http.get(f"{prefix}/lab", timeout=30).ok, 180,
                 self.hub.tail)

    def _xsrf(self, prefix: str | None = None) -> str | None:
        path = (prefix or self.prefix).removeprefix(self.hub.url) + "/"
        return self.http.cookies.get("_xsrf", path=path)

    def call(self, method: str, path: str, prefix: str | None = None, **kwargs: Any) -> requests.Response:
        base = prefix or self.prefix
        headers = {"X-XSRFToken": self._xsrf(base) or "", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{base}{path}", headers=headers, timeout=kwargs.pop("timeout", 300),
                                 **kwargs)

    def run(self, code: str, prefix: str | None = None, timeout: float = 600) -> str:
        """Run ``code`` in a new kernel of this person's server (or of ``prefix``); return what it printed.

        Raises AssertionError with the traceback if the code raised."""
        base = prefix or self.prefix
        kernel = self.call("POST", "/api/kernels", base, json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = kernel.json()["id"]
        try:
            return asyncio.run(self._execute(base, kernel_id, code, timeout))
        finally:
            self.call("DELETE", f"/api/kernels/{kernel_id}", base)

    async def _execute(self, base: str, kernel_id: str, code: str, timeout: float) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies
                            if base.removeprefix(self.hub.url).startswith(c.path.rstrip("/")))
        request = HTTPRequest(f"ws{base.removeprefix('http')}/api/kernels/{kernel_id}/channels",
                              headers={"Cookie": cookies, "Origin": self.hub.url}, request_timeout=120)
        ws = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user, "session": msg_id,
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        printed: list[str] = []
        error = None
        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(ws.read_message(), timeout=max(1.0, deadline - time.monotonic()))
            assert raw is not None, "the kernel's websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                error = "\n".join(content.get("traceback", [])) or f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                ws.close()
                if error or content.get("status") != "ok":
                    raise AssertionError(f"code run as {self.user} failed:\n{error}\n{''.join(printed)}")
                return "".join(printed)
