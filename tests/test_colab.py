"""A lesson opened alone on Google Colab installs the course and runs — tested here without Colab.

There is no Colab on this machine. What Colab gives a notebook is stood in for, and nothing more: a fresh
virtual environment with only a kernel (``ipykernel``, ``ipywidgets``: Colab's own), and a stand-in
``google.colab`` package whose ``userdata.get`` behaves as Colab's documented one (the value of a secret,
or ``SecretNotFoundError``). The release archive the first cell downloads is built here from the working
tree, as GitHub builds the archive of a tag, and reached through ``APICOURSE_ARCHIVE`` (a ``file://``
address). pip reaches the package index for the lessons' packages; everything else is offline, with the
network guard in the kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import venv
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from repo_copy import repository_files

from apicourse import colab, guard, navigation, paths
from notebooks import keyless_env

LESSON = "05_openai.ipynb"
COLAB_BASE = ["ipykernel==7.4.0", "ipywidgets==8.1.9"]  # what Colab has before any lesson runs
SECRET = "colab-secret-for-the-test"

FAKE_USERDATA = '''"""Stand-in for Colab's google.colab.userdata (tests only): secrets from $FAKE_COLAB_SECRETS."""
import json, os


class SecretNotFoundError(Exception):
    pass


def get(key):
    secrets = json.loads(os.environ.get("FAKE_COLAB_SECRETS", "{}"))
    if key not in secrets:
        raise SecretNotFoundError(f"Secret {key} does not exist.")
    return secrets[key]
'''


def build_release_archive(dest: Path, version: str) -> Path:
    """``course-<version>.tar.gz``: the repository's files under one top folder, as GitHub archives a tag."""
    archive = dest / f"course-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for relative in repository_files():
            tar.add(paths.ROOT / relative, arcname=f"course-{version}/{relative.as_posix()}")
    return archive


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh environment with only a kernel, a stand-in google.colab, and the release archive."""
    tmp = tmp_path_factory.mktemp("colab")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *COLAB_BASE], capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        pytest.skip(f"cannot install a kernel into a fresh environment (package index unreachable?):\n{result.stderr[-2000:]}")
    kernels = tmp / "kernels"
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(kernels), "--name", "colab-like"],
        check=True, capture_output=True, timeout=120,
    )
    fake = tmp / "fake-colab" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab (tests only)."""\n')
    (fake / "userdata.py").write_text(FAKE_USERDATA)
    return {
        "tmp": tmp,
        "kernels": kernels / "share" / "jupyter" / "kernels",
        "fake": tmp / "fake-colab",
        "archive": build_release_archive(tmp, colab.release_version()),
        "home": tmp / "home",
    }


def run_alone(notebook: Path, colab_like: dict[str, Path], work: Path, secrets: dict[str, str]) -> tuple[object, list[str]]:
    """Run ``notebook``, copied alone into an empty folder, in the Colab-like kernel."""
    work.mkdir(parents=True)
    alone = work / notebook.name
    alone.write_bytes(notebook.read_bytes())
    nb = nbformat.read(alone, as_version=4)
    env = keyless_env(work)
    # the guard, without apicourse (not installed yet when the kernel starts)
    startup = work / "ipython" / "profile_default" / "startup" / "00-apicourse-guard.py"
    startup.write_text(Path(guard.__file__).read_text() + "\ninstall(log=os.environ['APICOURSE_GUARD_LOG'])\n")
    env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(
        HOME=str(colab_like["home"]),
        PYTHONPATH=str(colab_like["fake"]),
        APICOURSE_ARCHIVE=colab_like["archive"].as_uri(),
        FAKE_COLAB_SECRETS=json.dumps(secrets),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    km = KernelManager(kernel_name="colab-like", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(colab_like["kernels"])]))
    NotebookClient(nb, km=km, timeout=900, resources={"metadata": {"path": str(work)}}).execute(env=env)
    log = work / "guard.log"
    return nb, log.read_text().splitlines() if log.exists() else []


def _text(cell: object) -> str:
    return json.dumps(cell.outputs)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_lesson_alone_installs_the_course_and_replays(colab_like: dict[str, Path], tmp_path: Path) -> None:
    nb, blocked = run_alone(paths.NOTEBOOKS / LESSON, colab_like, tmp_path / "replay", secrets={})
    assert blocked == [], f"the lesson tried to leave the machine: {blocked}"
    bootstrap, start = [c for c in nb.cells if c.cell_type == "code"][:2]
    said = _text(bootstrap)
    assert f"Course ready on Colab: release {colab.release_version()}" in said, said
    assert "No key in Colab's secrets" in said and "Restart the session" not in said
    course = colab_like["home"] / f"working-with-apis-{colab.release_version()}"
    assert (course / "cassettes" / "05_openai").is_dir() and (course / ".installed").exists()
    banner = _text(start)
    assert "replay" in banner and "live" not in banner.replace("to go live", ""), banner
    errors = [c for c in nb.cells if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)]
    assert errors == []


@pytest.mark.slow
def test_keys_come_from_colab_secrets(colab_like: dict[str, Path], tmp_path: Path) -> None:
    lesson = nbformat.read(paths.NOTEBOOKS / LESSON, as_version=4)
    lesson.cells = [c for c in lesson.cells if c.cell_type == "code"][:2]  # the bootstrap and the start line
    short = tmp_path / LESSON
    nbformat.write(lesson, short)
    nb, blocked = run_alone(short, colab_like, tmp_path / "live", secrets={"OPENAI_API_KEY": SECRET})
    bootstrap, start = nb.cells
    assert "Keys from Colab's secrets: OPENAI_API_KEY" in _text(bootstrap)
    banner = _text(start)
    assert "OPENAI_API_KEY is set: calls reach" in banner, banner
    assert "add ANTHROPIC_API_KEY to .env to go live" in banner, "only the provider whose key was found is live"
    assert SECRET not in json.dumps(nb), "a secret's value is shown"
    assert blocked == []


def test_the_readme_opens_every_lesson_in_colab_at_this_release() -> None:
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    version = colab.release_version()
    for lesson in navigation.lessons():
        assert colab.badge_url(lesson.name, version) in readme, f"no Colab badge for {lesson.name}"


def test_colab_installs_the_same_pins_as_requirements() -> None:
    def pins(name: str) -> dict[str, str]:
        lines = (paths.ROOT / name).read_text(encoding="utf-8").splitlines()
        return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))

    course, on_colab = pins("requirements.txt"), pins("requirements-colab.txt")
    assert on_colab and all(course.get(name) == version for name, version in on_colab.items())
