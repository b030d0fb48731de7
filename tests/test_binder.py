"""Ready for Binder: what repo2docker builds from this repository, and whether the course works in it.

* repo2docker (the tool behind mybinder.org) renders the Dockerfile it would build, offline
  (``--no-build``): Python must be at least 3.11 (nbgrader 0.9.6 needs it; repo2docker's default is
  older) and ``requirements.txt`` must be installed.
* A fresh virtual environment gets exactly the ``pip install`` steps of that Dockerfile (from PyPI);
  then, from ``notebooks/`` as a kernel would run, every package any notebook or the ``apicourse``
  package imports must import, and the course must find its own folders.
* The README's badge opens the start notebook in JupyterLab.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import unquote

import pytest
from repo_copy import copy_repository

from apicourse import paths

NETWORK_INSTALL_VAR = "APICOURSE_REQUIRE_NETWORK_INSTALL"
"""Set to 1 where PyPI must be reachable: the install test then fails instead of skipping."""

MIN_PYTHON = (3, 11)


# --- what repo2docker would build ------------------------------------------------------------------


def _unescape(name: str) -> str:
    """repo2docker escapes build-script file names: ``-2e`` is ``.``, ``-2d`` is ``-``, ``-2f`` is ``/``."""
    return re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


def render_dockerfile(repo: Path) -> tuple[str, str]:
    """(Dockerfile, log) from ``repo2docker --no-build --debug repo``: no Docker, no network."""
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", str(repo)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=repo.parent,
    )
    assert result.returncode == 0, f"repo2docker failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout, result.stderr


def dockerfile_python(dockerfile: str) -> tuple[int, int]:
    """The Python version of the image: repo2docker installs it from ``environment.py-X.Y-...lock``."""
    for line in dockerfile.splitlines():
        if line.startswith("COPY") and line.rstrip().endswith("/tmp/env/environment.lock"):
            match = re.search(r"environment\.py-(\d+)\.(\d+)-", _unescape(line))
            assert match, f"cannot read the Python version from {line!r}"
            return int(match.group(1)), int(match.group(2))
    raise AssertionError("the Dockerfile installs no conda environment lock file (not a Python image?)")


def dockerfile_pip_steps(dockerfile: str) -> list[list[str]]:
    """The arguments of every ``pip install`` the Dockerfile runs, in order (what follows ``pip``)."""
    steps = []
    for line in dockerfile.splitlines():
        match = re.match(r"RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip (install .*)$", line.strip())
        if match:
            steps.append([arg.strip('"') for arg in match.group(1).split()])
    return steps


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository as Binder clones it (tracked files only: no .env, no local state)."""
    return copy_repository(tmp_path_factory.mktemp("binder") / "course")


@pytest.fixture(scope="module")
def dockerfile(clone: Path) -> str:
    return render_dockerfile(clone)[0]


def test_runtime_txt_asks_for_a_recent_python() -> None:
    runtime = (paths.ROOT / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"runtime.txt should read like python-3.12, not {runtime!r}"
    assert (int(match.group(1)), int(match.group(2))) >= MIN_PYTHON


def test_no_binder_folder_hides_the_root_configuration() -> None:
    # repo2docker reads binder/ (or .binder/) instead of the root files when one exists
    assert not (paths.ROOT / "binder").exists() and not (paths.ROOT / ".binder").exists()


def test_binder_image_uses_python_3_11_or_newer(dockerfile: str) -> None:
    runtime = (paths.ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    version = dockerfile_python(dockerfile)
    assert version >= MIN_PYTHON, f"Binder would run Python {version}; nbgrader 0.9.6 needs 3.11+"
    assert ".".join(map(str, version)) == runtime, "the image's Python is not the one runtime.txt asks for"


def test_binder_image_installs_the_requirements(dockerfile: str) -> None:
    assert re.search(r"^COPY .*src/requirements\.txt ", dockerfile, re.MULTILINE) or re.search(
        r"^COPY .*src/ \$\{REPO_DIR\}/", dockerfile, re.MULTILINE
    ), "requirements.txt never reaches the image"
    assert ["install", "--no-cache-dir", "-r", "requirements.txt"] in dockerfile_pip_steps(dockerfile)


def test_readme_badge_opens_the_start_notebook_in_jupyterlab() -> None:
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"\]\((https://mybinder\.org/v2/gh/[^)\s]+)\)", readme)
    assert badges, "the README has no Binder badge link"
    for url in badges:
        assert "/HEAD?" in url or re.search(r"/v2/gh/[^/]+/[^/]+/[^/?]+\?", url), url
        urlpath = unquote(url.split("urlpath=", 1)[1]) if "urlpath=" in url else ""
        assert urlpath.startswith("lab/tree/"), f"the badge should open JupyterLab: {url}"
        target = urlpath.removeprefix("lab/tree/")
        assert target == "notebooks/00_start_here.ipynb" and (paths.ROOT / target).is_file(), url


# --- what the notebooks import, installed as Binder installs it ------------------------------------


def _code_of_notebook(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        # IPython magics and shell escapes are not Python
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        sources.append("\n".join(lines))
    return sources


def _optional_import_lines(tree: ast.AST) -> set[int]:
    """Lines of imports inside ``try: ... except ImportError`` (declared optional by the code)."""
    optional: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught |= {k.id for k in kinds if isinstance(k, ast.Name)}
        if caught & {"ImportError", "ModuleNotFoundError"}:
            for statement in node.body:
                optional |= {
                    n.lineno for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom))
                }
    return optional


def top_level_imports(source: str) -> set[str]:
    """Top-level names of the modules ``source`` imports unconditionally (relative imports excluded).

    >>> sorted(top_level_imports("import a.b, c\\nfrom d.e import f\\nfrom . import g\\ntry:\\n import h\\nexcept ImportError:\\n pass"))
    ['a', 'c', 'd']
    """
    tree = ast.parse(source)
    optional = _optional_import_lines(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def course_imports(root: Path) -> dict[str, set[str]]:
    """Third-party module → the files that import it, over every notebook and the apicourse package."""
    found: dict[str, set[str]] = {}
    sources: list[tuple[str, str]] = []
    for notebook in sorted(root.glob("notebooks/*.ipynb")) + sorted(root.glob("quiz/**/*.ipynb")):
        sources += [(notebook.relative_to(root).as_posix(), code) for code in _code_of_notebook(notebook)]
    for module in sorted((root / "apicourse").rglob("*.py")):
        sources.append((module.relative_to(root).as_posix(), module.read_text(encoding="utf-8")))
    for where, code in sources:
        for name in top_level_imports(code):
            if name in sys.stdlib_module_names or name == "__future__":
                continue
            found.setdefault(name, set()).add(where)
    return found


def test_the_notebooks_import_something() -> None:
    # guards the parser below: if it found nothing, the install test would prove nothing
    imports = course_imports(paths.ROOT)
    assert "apicourse" in imports, "no notebook imports apicourse?"


ELSEWHERE_ONLY = {"google"}
"""Modules that exist only on another platform: ``google.colab`` is Colab's own (apicourse/colab.py imports it
only after finding it there), never a requirement."""


_NETWORK_ERRORS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ProxyError",
)


@pytest.mark.slow
def test_requirements_install_and_every_import_works(clone: Path, dockerfile: str, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "APICOURSE_"))}
    env["PATH"] = os.pathsep.join([str(env_dir / "bin"), env.get("PATH", os.defpath)])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    steps = dockerfile_pip_steps(dockerfile)
    assert steps, "the Dockerfile installs nothing with pip"
    for step in steps:  # the image's pip steps, in order, in the repository folder (as on Binder)
        step = [arg for arg in step if arg != "--no-cache-dir"]  # a local pip cache only saves downloads
        result = subprocess.run(
            [str(python), "-m", "pip", *step],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if result.returncode != 0:
            output = result.stdout[-3000:] + result.stderr[-3000:]
            if any(marker in output for marker in _NETWORK_ERRORS):
                message = f"PyPI is not reachable, cannot test `pip {' '.join(step)}`"
                if os.environ.get(NETWORK_INSTALL_VAR) == "1":
                    pytest.fail(f"{message} ({NETWORK_INSTALL_VAR}=1):\n{output}")
                pytest.skip(message)
            pytest.fail(f"`pip {' '.join(step)}` failed:\n{output}")

    # Binder runs postBuild last, with the image's pip first on PATH
    if re.search(r"^RUN \./postBuild$", dockerfile, re.MULTILINE):
        result = subprocess.run(
            ["./postBuild"], cwd=clone, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        assert result.returncode == 0, f"postBuild failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        # the image's Jupyter reads the learner's settings at every start
        linked = env_dir / "etc" / "jupyter" / "jupyter_server_config.py"
        assert linked.resolve() == (clone / "jupyter-config" / "binder.py").resolve()

    imports = {name: where for name, where in course_imports(clone).items() if name not in ELSEWHERE_ONLY}
    check = (
        "import importlib, json, sys\n"
        "failed = {}\n"
        f"for name in {sorted(imports)!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = f'{type(error).__name__}: {error}'\n"
        "from apicourse import paths\n"
        "print(json.dumps({'failed': failed, 'root': str(paths.ROOT), 'quiz': str(paths.QUIZ)}))\n"
    )
    # from notebooks/, with the image's environment: exactly where a learner's kernel starts
    result = subprocess.run(
        [str(python), "-c", check],
        cwd=clone / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    failed = {
        name: f"{error} (imported by {', '.join(sorted(imports[name]))})"
        for name, error in report["failed"].items()
    }
    assert not failed, "not importable after installing requirements.txt:\n" + "\n".join(
        f"  {name}: {why}" for name, why in failed.items()
    )
    # the course must find its own cassettes and quiz, wherever pip put the package
    assert Path(report["root"]).resolve() == clone.resolve(), (
        f"on Binder apicourse would look for cassettes/ and quiz/ under {report['root']}, "
        f"not in the course folder {clone}"
    )


# --- the learner's Jupyter on Binder ------------------------------------------------------------------


def jupyter_config_as_read(config_file: Path, env: dict[str, str] | None = None) -> dict:
    """The configuration Jupyter Server itself reads from ``config_file`` (``--show-config-json``)."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", f"--config={config_file}", "--show-config-json"],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_binder_culls_idle_kernels_and_hides_the_instructor_tools(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")  # the developer's own ~/.jupyter stays out
    config = jupyter_config_as_read(paths.ROOT / "jupyter-config" / "binder.py", env)
    culling = config["MappingKernelManager"]
    # mybinder.org gives 1-2 GB: a kernel idle for 10 minutes is shut down, even with its tab open
    assert culling["cull_idle_timeout"] == 600 and culling["cull_connected"] is True
    assert culling["cull_busy"] is False and culling["cull_interval"] <= 120
    extensions = config["ServerApp"]["jpserver_extensions"]
    assert "'nbgrader.server_extensions.formgrader': False" in str(extensions)
    assert Path(config["LabApp"]["app_settings_dir"]) == paths.ROOT / "jupyter-config" / "learner-lab"

