"""Re-record the cassettes: ``python -m apicourse.record [--standin] [notebooks ...]``.

Each notebook runs top to bottom in a fresh kernel with ``APICOURSE_MODE=record``: its provider calls go
out (to the real APIs, or with ``--standin`` to the local stand-in) and are written, scrubbed, to a
temporary cassette. Only when the whole notebook succeeds and the cassette passes the secret check is it
moved to ``cassettes/<notebook>/<notebook>.yaml``; on any failure nothing is written.

* no arguments: every lesson in ``notebooks/``;
* without ``--standin``: needs the keys of the providers the notebook uses (found by scanning its code
  cells) and refuses, naming the missing variables, before running anything;
* with ``--standin``: starts :class:`apicourse.standin.StandIn` on 127.0.0.1 and gives the kernels
  placeholder keys, so no real key is ever used or needed.

>>> providers_used(["from openai import OpenAI", "client = InferenceClient()"])
['openai', 'huggingface']
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from apicourse import paths
from apicourse.replay import (
    CASSETTE_DIR_VAR,
    MODE_VAR,
    PROVIDER_BY_NAME,
    PROVIDERS,
    SCRUBBED_REQUEST_HEADERS,
    SCRUBBED_RESPONSE_HEADERS,
    STANDIN_VAR,
)

USES: dict[str, re.Pattern[str]] = {
    "openai": re.compile(r"\bopenai\b|\bOpenAI\b|AsyncOpenAI"),
    "anthropic": re.compile(r"\banthropic\b|\bAnthropic\b|AsyncAnthropic"),
    "huggingface": re.compile(r"huggingface_hub|InferenceClient|\bhf_\w+\("),
}
"""How a notebook's code cells show that it calls a provider."""

KEY_LIKE: tuple[re.Pattern[str], ...] = (
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{24,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{24,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-\.]{12,}"),
)
"""Strings that look like API keys; none may appear in a cassette."""

FINAL_CELL = (
    "import apicourse.replay\napicourse.replay.current().stop()  # apicourse.record: write the cassette"
)


@dataclass
class Outcome:
    notebook: str
    ok: bool
    message: str


def lesson_notebooks(directory: Path | None = None) -> list[Path]:
    """Every lesson notebook (``NN_name.ipynb``), in order."""
    return sorted((directory or paths.NOTEBOOKS).glob("[0-9][0-9]_*.ipynb"))


def code_sources(notebook: Path) -> list[str]:
    """The source of each code cell of a notebook (format 4, as every course notebook is), in order.

    Read as plain JSON: :func:`apicourse.start` calls this for its banner in every lesson's kernel, and
    ``nbformat`` (with the JSON-schema validation it loads) would add about 30 MB to each of them.

    >>> code_sources(paths.NOTEBOOKS / "00_start_here.ipynb")[1]
    'import apicourse; course = apicourse.start("00_start_here")'
    """
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    return [
        "".join(cell["source"]) if isinstance(cell.get("source"), list) else cell.get("source", "")
        for cell in cells
        if cell.get("cell_type") == "code"
    ]


def providers_used(sources: Iterable[str]) -> list[str]:
    """The providers (``openai``, ``anthropic``, ``huggingface``) that code cells call, in course order."""
    text = "\n".join(sources)
    return [name for name in ("openai", "anthropic", "huggingface") if USES[name].search(text)]


def missing_keys(notebooks: Sequence[Path], environ: dict[str, str] | None = None) -> dict[str, list[str]]:
    """For each notebook, the key variables it needs that are not set (placeholders don't count).

    >>> missing_keys([], {})
    {}
    """
    env = os.environ if environ is None else environ
    missing: dict[str, list[str]] = {}
    for notebook in notebooks:
        for name in providers_used(code_sources(notebook)):
            provider = PROVIDER_BY_NAME[name]
            value = env.get(provider.key_var, "").strip()
            if not value or value == provider.placeholder:
                missing.setdefault(notebook.stem, []).append(provider.key_var)
    return missing


def secret_problems(cassette_text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What in a cassette looks secret: a scrubbed header, a key-like string, or one of ``secrets``.

    >>> secret_problems("headers:\\n  authorization:\\n  - Bearer abc\\n")
    ['a scrubbed header is present: authorization']
    >>> secret_problems("body: hello")
    []
    """
    import yaml

    problems: list[str] = []
    data = yaml.safe_load(cassette_text) or {}
    for interaction in data.get("interactions", []) if isinstance(data, dict) else []:
        for part, banned in (("request", SCRUBBED_REQUEST_HEADERS), ("response", SCRUBBED_RESPONSE_HEADERS)):
            for header in (interaction.get(part) or {}).get("headers") or {}:
                if header.lower() in banned:
                    problems.append(f"a scrubbed header is present: {header.lower()}")
    for header in sorted(set(SCRUBBED_REQUEST_HEADERS) | set(SCRUBBED_RESPONSE_HEADERS)):
        if re.search(rf"(?im)^\s*['\"]?{re.escape(header)}['\"]?\s*:", cassette_text):
            problems.append(f"a scrubbed header is present: {header}")
    for pattern in KEY_LIKE:
        for found in pattern.findall(cassette_text):
            problems.append(f"a key-like string is present: {found[:10]}…")
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in cassette_text:
            problems.append("one of your API keys is present in the cassette")
    return sorted(set(problems))


def _kernel_env(cassette_dir: Path, standin_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env[MODE_VAR] = "record"
    env[CASSETTE_DIR_VAR] = str(cassette_dir)
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env.pop("APICOURSE_FORCE_REPLAY", None)
    env.setdefault("APICOURSE_STREAM_DELAY", "0")
    if standin_url:
        env[STANDIN_VAR] = standin_url
        for provider in PROVIDERS:  # never hand a real key to a recording against the stand-in
            env[provider.key_var] = provider.placeholder
    else:
        env.pop(STANDIN_VAR, None)
    return env


def _describe_failure(error: BaseException) -> str:
    from nbclient.exceptions import CellExecutionError

    if isinstance(error, CellExecutionError):
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # tracebacks come coloured
        lines = [line for line in plain.splitlines() if line.strip()]
        return "a cell failed: " + (lines[-1] if lines else type(error).__name__)
    return f"{type(error).__name__}: {error}"


def record_notebook(
    notebook: Path, cassettes: Path, standin_url: str | None = None, timeout: int = 300
) -> Outcome:
    """Run one notebook in record mode; on success, move its cassette into ``cassettes/<nb>/<nb>.yaml``."""
    import nbformat
    import yaml
    from nbclient import NotebookClient

    name = notebook.stem
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(FINAL_CELL))
    with tempfile.TemporaryDirectory(prefix=f"apicourse-record-{name}-") as tmp:
        cassette_dir = Path(tmp)
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
        )
        try:
            client.execute(env=_kernel_env(cassette_dir, standin_url))
        except Exception as error:  # noqa: BLE001 - any failure means: write nothing
            return Outcome(name, False, _describe_failure(error) + "; nothing written")
        recorded = cassette_dir / f"{name}.yaml"
        text = recorded.read_text(encoding="utf-8") if recorded.is_file() else ""
        if not (yaml.safe_load(text) or {}).get("interactions"):
            return Outcome(name, True, "made no provider calls; no cassette needed")
        secrets = [] if standin_url else [os.environ.get(p.key_var, "") for p in PROVIDERS]
        problems = secret_problems(text, secrets)
        if problems:
            return Outcome(name, False, "secret check failed (" + "; ".join(problems) + "); nothing written")
        target = cassettes / name / f"{name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(recorded), target)
    count = len((yaml.safe_load(text) or {}).get("interactions", []))
    try:
        shown = target.relative_to(paths.ROOT).as_posix()
    except ValueError:
        shown = str(target)
    message = f"{count} request(s) → {shown}"
    from apicourse.standin.answers import FALLBACK_MARKER

    fallbacks = text.count(FALLBACK_MARKER)
    if fallbacks:
        message += f"  (warning: {fallbacks} answer(s) came from the stand-in's fallback; add entries to "
        message += f"apicourse/standin/answers/{name}.yaml)"
    return Outcome(name, True, message)


def _resolve(arguments: Sequence[str]) -> list[Path]:
    if not arguments:
        return lesson_notebooks()
    found = []
    for argument in arguments:
        path = Path(argument)
        if not path.suffix:
            path = paths.NOTEBOOKS / f"{argument}.ipynb"
        if not path.is_file():
            raise SystemExit(f"No such notebook: {argument}")
        found.append(path.resolve())
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apicourse.record", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook paths or names like 05_openai (default: all)")
    parser.add_argument("--standin", action="store_true", help="record against the local stand-in (no keys)")
    parser.add_argument("--cassettes", type=Path, default=paths.CASSETTES, help="where cassettes go")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = _resolve(args.notebooks)
    if not args.standin:
        from dotenv import load_dotenv

        load_dotenv(paths.env_file(), override=False)
        missing = missing_keys(notebooks)
        if missing:
            print(
                "Refusing to record: these notebooks call providers whose keys are not set.", file=sys.stderr
            )
            for name, variables in missing.items():
                print(f"  {name}: set {', '.join(variables)}", file=sys.stderr)
            print(
                "Put the keys in .env (see .env.example), or record against the local stand-in with --standin."
                " Nothing was written.",
                file=sys.stderr,
            )
            return 2
    standin = None
    if args.standin:
        from apicourse.standin import StandIn

        standin = StandIn().start()
        print(f"stand-in on {standin.url}")
    failures = 0
    try:
        for i, notebook in enumerate(notebooks, 1):
            if standin is not None:
                standin.notebook = notebook.stem
            print(f"[{i}/{len(notebooks)}] {notebook.stem} …", flush=True)
            started = time.perf_counter()
            outcome = record_notebook(
                notebook, args.cassettes, standin.url if standin else None, args.timeout
            )
            mark = "ok" if outcome.ok else "FAILED"
            print(f"    {mark}: {outcome.message} ({time.perf_counter() - started:.1f} s)", flush=True)
            failures += not outcome.ok
    finally:
        if standin is not None:
            standin.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
