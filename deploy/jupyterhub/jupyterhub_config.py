"""JupyterHub 6 configuration for a class of the "Working with APIs" course (one source of truth).

The same file runs a class on one machine (``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py``, as root:
each learner is a Unix user, their server runs as them) and on Kubernetes (Zero to JupyterHub loads it, see
``deploy/kubernetes/values.yaml``). The course's end-to-end test (``tests/test_hub_class.py``) runs this file.

- Two groups: ``learners`` (the assignment list, no instructor tools) and ``instructors`` (formgrader and
  Create Assignment). Each group's servers get their own Jupyter config folder (``jupyter/<group>/``).
- nbgrader's exchange on a folder the whole class shares (``$APICOURSE_EXCHANGE``, writable by everyone, as
  nbgrader documents; ``release_assignment`` then makes the course's ``inbound/`` write-only for learners).
- formgrader as a hub-managed service (nbgrader's "one class, multiple graders" layout): a
  ``jupyterhub-singleuser`` run as the course's grader account in the course folder; only instructors may open
  it. Only this service gets the gradebook's and the instructor's ledger's PostgreSQL URLs (with their
  password): learners' servers get no credentials, so nothing a learner runs can reach what the instructor
  exports.
- Idle servers are stopped by ``jupyterhub-idle-culler``.

Sources (read 2026-12-02): nbgrader ``demos/demo_multiple_classes/jupyterhub_config.py`` and ``demos/utils.sh``
(github.com/jupyter/nbgrader, services run as a grader account, ``access:services!service=…`` roles,
per-user lab/server extension switches); JupyterHub docs "RBAC use cases" (the idle-culler's role and scopes);
JupyterHub 6.1.1 ``Spawner.env_keep`` (only ``JUPYTERHUB_SINGLEUSER_APP`` is inherited: everything a server
needs is set below).

Settings come from the environment so that nothing secret or site-specific is written here:

==================================  ===================================================================
``APICOURSE_LEARNERS``              comma-separated hub user names of the learners group
``APICOURSE_INSTRUCTORS``           comma-separated hub user names of the instructors group
``APICOURSE_GRADER_USER``           the Unix account formgrader runs as (default ``apicourse-grader``)
``APICOURSE_COURSE_DIR``            the course folder (a copy of ``quiz/``) in the grader's home
``APICOURSE_EXCHANGE``              nbgrader's exchange root (default ``/srv/nbgrader/exchange``)
``APICOURSE_GRADEBOOK_URL``         SQLAlchemy URL of nbgrader's gradebook (``postgresql+psycopg://…``)
``APICOURSE_INSTRUCTOR_LEDGER_URL`` SQLAlchemy URL of the instructor's attempts ledger
``APICOURSE_USER_PYTHON``           the Python of the learners' environment (default: the hub's own)
``APICOURSE_USER_PYTHONPATH``       extra import path for the servers (tests: a copy of the course)
``APICOURSE_JUPYTER_CONFIGS``       where the groups' Jupyter settings are (default: ``jupyter/`` here)
``APICOURSE_FORMGRADER_PORT``       loopback port of the formgrader service (default 9999)
``APICOURSE_CULL_TIMEOUT``          seconds idle before a server is stopped (default 3600)
``APICOURSE_GRADING_SLOTS_DIR``     the folder of the machine-wide grading slots (default
                                    ``<tempdir>/apicourse-grading-slots``; made by the hub, world-writable, sticky)
``APICOURSE_GRADING_SLOTS``         gradings that may run their kernels at once (default: one per CPU)
==================================  ===================================================================

The authenticator is the hub's default here (PAM: the machine's accounts). Real classes use one of:
LTI 1.3 from the LMS (``pip install jupyterhub-ltiauthenticator``;
``c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.authenticator.LTI13Authenticator"``) or OAuth
(``pip install oauthenticator``; e.g. ``"generic-oauth"``). The test uses the ``dummy`` authenticator.
"""

import contextlib
import os
import sys
import tempfile
from pathlib import Path

if "c" not in globals():  # JupyterHub provides c; Zero to JupyterHub exec()s this file in its own config
    c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
ON_KUBERNETES = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
COURSE_ID = os.environ.get("APICOURSE_COURSE_ID", "working-with-apis")
GRADER = os.environ.get("APICOURSE_GRADER_USER", "apicourse-grader")
SERVICE = f"formgrader-{COURSE_ID}"
EXCHANGE = os.environ.get("APICOURSE_EXCHANGE", "/srv/nbgrader/exchange")
JUPYTER_CONFIGS = Path(os.environ.get("APICOURSE_JUPYTER_CONFIGS", HERE / "jupyter"))
USER_PYTHON = os.environ.get("APICOURSE_USER_PYTHON", sys.executable)
# Machine-wide grading slots (apicourse/grading/slots.py): every server and formgrader take turns through the
# locks in this one folder. The hub makes it, as root, so no learner can own it; on Kubernetes each pod is its
# own machine and keeps the default in its own /tmp.
SLOTS_DIR = os.environ.get("APICOURSE_GRADING_SLOTS_DIR",
                           os.path.join(tempfile.gettempdir(), "apicourse-grading-slots"))
if not ON_KUBERNETES:
    with contextlib.suppress(OSError):  # not root (a trial hub): the graders make it themselves
        os.makedirs(SLOTS_DIR, exist_ok=True)
        os.chown(SLOTS_DIR, 0, 0)
        os.chmod(SLOTS_DIR, 0o1777)


SECRETS = {var: os.environ[var] for var in ("APICOURSE_GRADEBOOK_URL", "APICOURSE_INSTRUCTOR_LEDGER_URL")
           if os.environ.get(var)}


def _names(var: str) -> list[str]:
    return sorted({name.strip() for name in os.environ.get(var, "").split(",") if name.strip()})


LEARNERS = _names("APICOURSE_LEARNERS")
INSTRUCTORS = _names("APICOURSE_INSTRUCTORS")

# --- who may log in, and in which group --------------------------------------------------------------------------
c.Authenticator.allowed_users = set(LEARNERS) | set(INSTRUCTORS) | ({GRADER} if ON_KUBERNETES else set())
c.Authenticator.admin_users = set()  # instructors need no hub admin rights to teach
c.JupyterHub.load_groups = {
    "learners": {"users": LEARNERS},
    "instructors": {"users": INSTRUCTORS},
}

# --- the learners' and instructors' servers ----------------------------------------------------------------------
c.Spawner.default_url = "/lab"
if not ON_KUBERNETES:  # on Kubernetes the single-user image (repo2docker) brings its own jupyterhub-singleuser
    c.Spawner.cmd = [USER_PYTHON, "-m", "jupyterhub.singleuser"]


def _server_environment(group: str) -> dict[str, str]:
    """What a server of ``group`` sees: its group's Jupyter config, the exchange, no credentials."""
    env = {
        "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIGS / group),  # above the environment's own settings
        "APICOURSE_EXCHANGE": EXCHANGE,
        "APICOURSE_COURSE_ID": COURSE_ID,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    if not ON_KUBERNETES:
        env["PATH"] = os.pathsep.join([str(Path(USER_PYTHON).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        env["APICOURSE_GRADING_SLOTS_DIR"] = SLOTS_DIR
    if os.environ.get("APICOURSE_GRADING_SLOTS"):
        env["APICOURSE_GRADING_SLOTS"] = os.environ["APICOURSE_GRADING_SLOTS"]
    if os.environ.get("APICOURSE_USER_PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["APICOURSE_USER_PYTHONPATH"]
    return env


def _per_group(spawner) -> None:
    """Give each server its group's environment (instructors win if someone is in both). On Kubernetes the
    grader account's own server is formgrader: only it gets the database URLs."""
    groups = {group.name for group in spawner.user.groups}
    spawner.environment.update(_server_environment("instructors" if "instructors" in groups else "learners"))
    if ON_KUBERNETES and spawner.user.name == GRADER:
        spawner.environment.update(_server_environment("instructors"))
        spawner.environment.update(SECRETS)


c.Spawner.pre_spawn_hook = _per_group

# --- formgrader: a hub-managed service for instructors ------------------------------------------------------------
roles = [
    {
        "name": "instructors-formgrader",
        "description": "Instructors open the course's formgrader service",
        "groups": ["instructors"],
        "scopes": [f"access:services!service={SERVICE}", "list:services", f"read:services!service={SERVICE}"],
    },
    {
        "name": "idle-culler",
        "description": "Stops idle servers",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
]
services = [] if ON_KUBERNETES else [  # on Kubernetes the chart runs the same culler (cull.enabled)
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={int(os.environ.get('APICOURSE_CULL_TIMEOUT', '3600'))}"],
    },
]
if not ON_KUBERNETES:  # on Kubernetes formgrader is the grader account's own server (see deploy/README.md)
    port = int(os.environ.get("APICOURSE_FORMGRADER_PORT", "9999"))
    course_dir = os.environ.get("APICOURSE_COURSE_DIR", f"/home/{GRADER}/{COURSE_ID}")
    services.append({
        "name": SERVICE,
        "url": f"http://127.0.0.1:{port}",
        "command": [USER_PYTHON, "-m", "jupyterhub.singleuser", "--ServerApp.root_dir=" + course_dir],
        "user": GRADER,
        "cwd": course_dir,
        "oauth_no_confirm": True,
        "environment": {**_server_environment("instructors"), "JUPYTERHUB_DEFAULT_URL": "/lab", **SECRETS},
    })
else:
    roles[0]["scopes"] = [f"access:servers!user={GRADER}", f"read:servers!user={GRADER}"]
    roles.pop()  # the chart's own culler has its own role
# add to what is already configured (the chart's services and roles on Kubernetes), never replace it
c.JupyterHub.services = [*(c.JupyterHub.services if "services" in c.JupyterHub else []), *services]
c.JupyterHub.load_roles = [*(c.JupyterHub.load_roles if "load_roles" in c.JupyterHub else []), *roles]

# --- the proxy: configurable-http-proxy from this folder's npm install (package-lock.json pins it) --------------
_proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
if not ON_KUBERNETES and _proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(_proxy)]

# --- where the hub keeps its state -------------------------------------------------------------------------------
if os.environ.get("JUPYTERHUB_DB_URL"):
    c.JupyterHub.db_url = os.environ["JUPYTERHUB_DB_URL"]
