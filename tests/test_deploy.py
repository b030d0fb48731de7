"""The class deployment has one source of truth: the Zero to JupyterHub values load the very hub configuration
the local class test runs, and that file configures a Kubernetes hub as deploy/README.md says."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
HUB_CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
VALUES = ROOT / "deploy" / "kubernetes" / "values.yaml"
README = ROOT / "deploy" / "README.md"
CHART_CONFIG_D = "/usr/local/etc/jupyterhub/jupyterhub_config.d/"  # the chart exec()s every *.py in it


def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def test_the_kubernetes_hub_loads_the_same_configuration_file_as_the_local_class_test():
    import hub_class

    files = values()["hub"]["extraFiles"]
    (key, entry), = files.items()
    assert entry["mountPath"].startswith(CHART_CONFIG_D) and entry["mountPath"].endswith(".py")
    assert not {"stringData", "data", "binaryData"} & set(entry), "its content comes from the file, not a copy"
    set_file = f"--set-file hub.extraFiles.{key}.stringData=deploy/jupyterhub/jupyterhub_config.py"
    for document in (README, VALUES):
        assert set_file in document.read_text(encoding="utf-8"), f"{document.name} installs with {set_file}"
    assert hub_class.HUB_DIR / "jupyterhub_config.py" == HUB_CONFIG, "the local class test runs the same file"


def run_as_the_chart_does(monkeypatch, env: dict[str, str]) -> Config:
    """Execute the hub configuration the way the chart does: exec() in its own config's namespace, where
    ``c`` already holds the chart's settings and ``get_config`` is the chart's values reader."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    c = Config()
    c.JupyterHub.services = [{"name": "cull-idle", "command": ["python3", "-m", "jupyterhub_idle_culler"]}]
    c.JupyterHub.load_roles = [{"name": "jupyterhub-idle-culler", "services": ["cull-idle"], "scopes": ["servers"]}]

    def get_config(key, default=None):  # z2jh's reader: a values key is required
        return default

    namespace = {"c": c, "get_config": get_config, "__file__": "/usr/local/etc/jupyterhub/jupyterhub_config.py"}
    exec(compile(HUB_CONFIG.read_text(encoding="utf-8"), "apicourse.py", "exec"), namespace)  # noqa: S102
    return c


def chart_env() -> dict[str, str]:
    env = {k: v for k, v in values()["hub"]["extraEnv"].items() if isinstance(v, str)}
    return {**env, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "APICOURSE_GRADEBOOK_URL": "postgresql+psycopg://g:s@db/gb",
            "APICOURSE_INSTRUCTOR_LEDGER_URL": "postgresql+psycopg://g:s@db/ledger"}


def test_on_kubernetes_the_file_keeps_the_charts_settings_and_gives_formgrader_to_instructors(monkeypatch):
    c = run_as_the_chart_does(monkeypatch, chart_env())
    assert [s["name"] for s in c.JupyterHub.services] == ["cull-idle"], "the chart's culler is kept, no second one"
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "jupyterhub-idle-culler" in roles, "the chart's roles are kept"
    assert roles["instructors-formgrader"]["groups"] == ["instructors"]
    assert "access:servers!user=apicourse-grader" in roles["instructors-formgrader"]["scopes"]
    assert "cmd" not in c.Spawner, "the single-user image brings its own jupyterhub-singleuser"
    assert c.JupyterHub.load_groups["instructors"]["users"] == ["grace"]
    assert values()["cull"]["enabled"] is True


class FakeSpawner:
    def __init__(self, name: str, groups: list[str]) -> None:
        self.user = type("User", (), {"name": name, "groups": [type("G", (), {"name": g}) for g in groups]})()
        self.environment: dict[str, str] = {}


def test_on_kubernetes_only_the_graders_server_gets_the_database_urls_and_everyone_gets_the_exchange(monkeypatch):
    c = run_as_the_chart_does(monkeypatch, chart_env())
    mounts = {m["mountPath"] for m in values()["singleuser"]["storage"]["extraVolumeMounts"]}
    claims = {v["persistentVolumeClaim"]["claimName"] for v in values()["singleuser"]["storage"]["extraVolumes"]}
    pvc = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "exchange-pvc.yaml").read_text(encoding="utf-8"))
    assert pvc["metadata"]["name"] in claims and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    for name, groups in (("ada", ["learners"]), ("grace", ["instructors"]), ("apicourse-grader", [])):
        spawner = FakeSpawner(name, groups)
        c.Spawner.pre_spawn_hook(spawner)
        assert spawner.environment["APICOURSE_EXCHANGE"] in mounts, "every server sees the shared exchange"
        has_secrets = {"APICOURSE_GRADEBOOK_URL", "APICOURSE_INSTRUCTOR_LEDGER_URL"} <= set(spawner.environment)
        assert has_secrets == (name == "apicourse-grader"), f"{name}: {sorted(spawner.environment)}"
    secret_refs = [v for v in values()["hub"]["extraEnv"].values() if isinstance(v, dict)]
    assert len(secret_refs) == 2 and all("secretKeyRef" in v["valueFrom"] for v in secret_refs), \
        "the database URLs come from a secret"
    assert not re.search(r"postgresql\+psycopg://[^\s'\"]*:[^\s'\"]*@", VALUES.read_text()), "no password in values"


def test_on_one_machine_learners_get_no_credentials_and_formgrader_is_a_service(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for key, value in {"APICOURSE_LEARNERS": "ada,bob", "APICOURSE_INSTRUCTORS": "grace",
                       "APICOURSE_GRADEBOOK_URL": "postgresql+psycopg://g:s@127.0.0.1/gb"}.items():
        monkeypatch.setenv(key, value)
    c = PyFileConfigLoader(HUB_CONFIG.name, path=str(HUB_CONFIG.parent)).load_config()
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert set(services) == {"idle-culler", "formgrader-working-with-apis"}
    formgrader = services["formgrader-working-with-apis"]
    assert formgrader["user"] == "apicourse-grader" and formgrader["url"].startswith("http://127.0.0.1:")
    assert formgrader["environment"]["APICOURSE_GRADEBOOK_URL"].startswith("postgresql+psycopg://")
    learner = FakeSpawner("ada", ["learners"])
    c.Spawner.pre_spawn_hook(learner)
    assert "s@127.0.0.1" not in json.dumps(learner.environment), "a learner's server gets no database URL"
    assert learner.environment["JUPYTER_CONFIG_PATH"].endswith(os.path.join("jupyter", "learners"))
    learner_lab = json.loads((HUB_CONFIG.parent / "jupyter" / "learners" / "labconfig" / "page_config.json")
                             .read_text(encoding="utf-8"))
    assert learner_lab["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True


def test_on_one_machine_every_server_and_formgrader_share_the_hubs_grading_slots(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    folder = tmp_path / "slots"
    monkeypatch.setenv("APICOURSE_GRADING_SLOTS_DIR", str(folder))
    monkeypatch.setenv("APICOURSE_LEARNERS", "ada")
    if os.geteuid() == 0:  # a learner made it first, closed to the others
        folder.mkdir(mode=0o700)
        os.chown(folder, 54321, 54321)
    c = PyFileConfigLoader(HUB_CONFIG.name, path=str(HUB_CONFIG.parent)).load_config()
    assert folder.stat().st_mode & 0o7777 == 0o1777, "made by the hub: every learner may lock, none may remove"
    if os.geteuid() == 0:
        assert folder.stat().st_uid == 0, "owned by root, so no learner can close it to the others"
    formgrader = next(s for s in c.JupyterHub.services if s["name"].startswith("formgrader"))
    learner = FakeSpawner("ada", ["learners"])
    c.Spawner.pre_spawn_hook(learner)
    assert learner.environment["APICOURSE_GRADING_SLOTS_DIR"] == str(folder)
    assert formgrader["environment"]["APICOURSE_GRADING_SLOTS_DIR"] == str(folder), "grade-class queues too"


@pytest.mark.slow
def test_the_single_user_image_is_built_from_this_repository_with_the_pinned_postgresql_driver(tmp_path):
    import subprocess
    import sys

    appendix = (ROOT / "deploy" / "kubernetes" / "image-appendix.Dockerfile").read_text(encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--user-id", "1000",
                          "--user-name", "jovyan", "--appendix", appendix, str(ROOT)],
                         capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    dockerfile = run.stdout + run.stderr
    assert "requirements.txt" in dockerfile, dockerfile[-3000:]
    assert "deploy/jupyterhub/requirements.txt" in dockerfile.split("requirements.txt", 1)[1], dockerfile[-3000:]
    pinned = (ROOT / "deploy" / "jupyterhub" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^psycopg\[binary\]==3\.\d+\.\d+$", pinned, re.M)
