"""``python -m apicourse.models --check``: is every configured model still alive, and what to change if not.

Offline it compares each OpenAI and Anthropic model the course is configured to use (the defaults in
:mod:`apicourse.models`, or your overrides in ``.env``) with

* the course's dated retirement table (:data:`apicourse.models.RETIREMENTS`),
* the shutdown notes the pinned SDKs ship (openai ``types/shared/chat_model.py``'s docstring, anthropic
  ``_data/deprecated_models.py``), and
* the model ids the pinned SDKs know (openai ``ChatModel``, anthropic ``Model``).

With ``OPENAI_API_KEY`` or ``ANTHROPIC_API_KEY`` set (a real key, no ``APICOURSE_FORCE_REPLAY``, no
``--offline``) it also lists that provider's
live models — free calls — and reports configured models that are missing, deprecated or dated for
shutdown. Every problem is one sentence that ends with the fix; the exit status is 1 when there is one. ::

    >>> report = run({}, today=date(2026, 12, 2), offline=True)
    >>> report.ok
    True
    >>> bad = run({"APICOURSE_ANTHROPIC_MODEL": "claude-sonnet-4-20250514"}, today=date(2026, 12, 2), offline=True)
    >>> print(bad.problems[0])
    APICOURSE_ANTHROPIC_MODEL is claude-sonnet-4-20250514, which Anthropic retired on 2026-06-15: set APICOURSE_ANTHROPIC_MODEL=claude-sonnet-4-6 in .env and restart the kernel.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from apicourse import models
from apicourse.models import ModelSetting

PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic"}
KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


@dataclass(frozen=True)
class Shutdown:
    """When a model stops answering, what replaces it, and who said so."""

    on: date
    replacement: str | None
    source: str


@dataclass
class Report:
    """What the check found: ``problems`` (each a sentence with its fix) and ``notes`` (for information)."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        """The report as a learner reads it."""
        lines = [f"✓ {line}" for line in self.checked if not any(line.split()[0] in p for p in self.problems)]
        lines += [f"✗ {p}" for p in self.problems] + [f"· {n}" for n in self.notes]
        lines.append("All configured models are current." if self.ok else f"{len(self.problems)} to fix.")
        return "\n".join(lines)


# --- what the pinned SDKs know -------------------------------------------------------------------


def _sdk_file(package: str, relative: str) -> ast.Module:
    """A module of an installed SDK, parsed, not imported (importing both SDKs takes seconds)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {package} SDK is not installed: pip install -r requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return ast.parse(path.read_text(encoding="utf-8"))


def _assigned(tree: ast.Module, name: str) -> tuple[ast.expr, str]:
    """The value assigned to ``name`` at module level, and the docstring right after it ('' if none)."""
    body = tree.body
    for i, node in enumerate(body):
        if not isinstance(node, ast.AnnAssign | ast.Assign) or node.value is None:
            continue
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            after = body[i + 1] if i + 1 < len(body) else None
            doc = after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) else ""
            return node.value, str(doc)
    raise LookupError(f"{name} is not assigned in this SDK module")


@cache
def sdk_model_ids(provider: str) -> frozenset[str]:
    """The model ids the pinned SDK lists (openai ``types/shared/chat_model.py`` ``ChatModel``, anthropic
    ``types/model.py`` ``Model``).

    >>> "gpt-6.1-terra" in sdk_model_ids("openai"), "claude-sonnet-5-5" in sdk_model_ids("anthropic")
    (True, True)
    """
    if provider == "openai":
        value, _ = _assigned(_sdk_file("openai", "types/shared/chat_model.py"), "ChatModel")
    else:
        value, _ = _assigned(_sdk_file("anthropic", "types/model.py"), "Model")
    return frozenset(n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str))


_NOTE = re.compile(r'^- ((?:"[^"]+",?\s*)+):\s*(.*?)(?=^- |\Z)', re.M | re.S)
_DATE = re.compile(r"Announced shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})")


@cache
def sdk_shutdowns() -> dict[str, Shutdown]:
    """Shutdown dates the pinned SDKs ship: the "Deprecated values" notes of openai's ``ChatModel`` and
    anthropic's ``_data/deprecated_models.py``.

    >>> sdk_shutdowns()["gpt-5"].on.isoformat(), sdk_shutdowns()["claude-sonnet-4-5"].on.isoformat()
    ('2026-12-11', '2026-11-30')
    """
    found: dict[str, Shutdown] = {}
    _, notes = _assigned(_sdk_file("openai", "types/shared/chat_model.py"), "ChatModel")
    for ids, text in _NOTE.findall(notes):
        when = _DATE.search(text)
        if when:
            for model in re.findall(r'"([^"]+)"', ids):
                found[model] = Shutdown(date.fromisoformat(when.group(1)), None, "openai SDK ChatModel notes")
    value, _ = _assigned(_sdk_file("anthropic", "_data/deprecated_models.py"), "DEPRECATED_MODELS")
    for model, text in ast.literal_eval(value).items():
        day = datetime.strptime(re.sub(r"(\d)(st|nd|rd|th)", r"\1", text), "%B %d, %Y").date()
        found[model] = Shutdown(day, None, "anthropic SDK DEPRECATED_MODELS")
    return found


def shutdown_of(model: str) -> Shutdown | None:
    """The course table's shutdown for ``model``, else the pinned SDK's, else ``None``.

    >>> shutdown_of("gpt-4o").replacement, shutdown_of("gpt-6.1-terra") is None
    ('gpt-6-luna', True)
    """
    row = models.retirement(model)
    if row is not None:
        return Shutdown(row.shutdown, row.replacement, row.source)
    return sdk_shutdowns().get(model)


# --- the check -----------------------------------------------------------------------------------


def _suggestion(setting: ModelSetting, model: str, found: Shutdown | None) -> str | None:
    for candidate in ((found.replacement if found else None), setting.default):
        if candidate and candidate != model and shutdown_of(candidate) is None:
            return candidate
    return None


def _fix(setting: ModelSetting, model: str, environ: Mapping[str, str], found: Shutdown | None = None) -> str:
    better = _suggestion(setting, model, found)
    if better is None:
        fix = f"set {setting.env_var} in .env to a current {PROVIDER_NAMES[setting.provider]} model"
    else:
        fix = f"set {setting.env_var}={better} in .env"
    if not (environ.get(setting.env_var) or "").strip():
        return fix + " and restart the kernel (course maintainers: change the default in apicourse/models.py)"
    return fix + " and restart the kernel"


def check_setting(
    setting: ModelSetting, environ: Mapping[str, str], today: date, live: dict[str, Any] | None = None
) -> str | None:
    """The problem with one setting's model, as one sentence ending with the fix, or ``None``.

    ``live`` maps the ids the provider listed to their details (``None`` when not asked).
    """
    model = setting.get(environ)
    who = f"{setting.env_var} is {model}"
    name = PROVIDER_NAMES[setting.provider]
    found = shutdown_of(model)
    if found is not None and found.on <= today:
        return f"{who}, which {name} retired on {found.on.isoformat()}: {_fix(setting, model, environ, found)}."
    if found is not None:
        return (
            f"{who}, which {name} will shut down on {found.on.isoformat()}: "
            f"{_fix(setting, model, environ, found)} before then."
        )
    if live is not None:
        if model not in live:
            fix = _fix(setting, model, environ)
            return f"{who}, which is not among the {len(live)} models your {name} key can use: {fix}."
        retires = live[model]
        if retires:
            return f"{who}, which {name} lists for shutdown {retires}: {_fix(setting, model, environ)} before then."
        return None
    if model not in sdk_model_ids(setting.provider):
        sdk = f"{setting.provider} {importlib.metadata.version(setting.provider)}"
        return (
            f"{who}, which the course's pinned {sdk} SDK does not know: check its spelling in .env, or run this "
            f"check with {KEY_VARS[setting.provider]} set to confirm a model newer than the SDK."
        )
    return None


def live_models(provider: str, api_key: str, http_client: Any = None) -> dict[str, Any]:
    """The provider's models for this key: id → its announced shutdown ("on 2027-03-01") or ``None``, through
    the SDK.

    Anthropic's list carries ``lifecycle`` and ``retires_at``; OpenAI's carries ``shutdown_date``.
    """
    if provider == "openai":
        import openai

        client = openai.OpenAI(api_key=api_key, http_client=http_client, max_retries=0)
        return {m.id: (f"on {m.shutdown_date}" if m.shutdown_date else None) for m in client.models.list()}
    import anthropic

    client = anthropic.Anthropic(api_key=api_key, http_client=http_client, max_retries=0)
    out: dict[str, Any] = {}
    for m in client.models.list(limit=1000):
        if m.lifecycle == "retired":
            continue
        if m.retires_at:
            out[m.id] = f"on {m.retires_at.date().isoformat()}"
        else:
            out[m.id] = "(deprecated, no date yet)" if m.lifecycle == "deprecated" else None
    return out


def course_environ() -> dict[str, str]:
    """The environment a lesson sees: the course ``.env`` under the real environment (which wins)."""
    from dotenv import dotenv_values

    from apicourse.paths import env_file

    values = {k: v for k, v in dotenv_values(env_file()).items() if v is not None} if env_file().exists() else {}
    return {**values, **os.environ}


def run(
    environ: Mapping[str, str] | None = None,
    *,
    today: date | None = None,
    offline: bool = False,
    http_client: Any = None,
) -> Report:
    """Check every OpenAI and Anthropic setting; ask the provider too when its key is set and not ``offline``."""
    env = course_environ() if environ is None else environ
    day = today or date.today()
    live_providers: set[str] = set()
    if not offline and any((env.get(var) or "").strip() for var in KEY_VARS.values()):
        from apicourse.replay import provider_modes  # live only with a real key (not replay's placeholder)

        live_providers = {name for name, mode in provider_modes(env).items() if mode.value == "live"}
    report = Report()
    for provider in PROVIDER_NAMES:
        settings = [s for s in models.SETTINGS if s.provider == provider]
        live = None
        key = (env.get(KEY_VARS[provider]) or "").strip()
        if provider in live_providers:
            try:
                live = live_models(provider, key, http_client)
                report.notes.append(f"{PROVIDER_NAMES[provider]}: your key lists {len(live)} models.")
            except Exception as error:  # noqa: BLE001 - any failure here means "could not ask"
                name = PROVIDER_NAMES[provider]
                report.notes.append(f"{name}: could not list live models ({error}); checked offline.")
        for setting in settings:
            report.checked.append(f"{setting.env_var} = {setting.get(env)}")
            problem = check_setting(setting, env, day, live)
            if problem:
                report.problems.append(problem)
    report.notes.append(
        f"Retirement table checked {models.TABLE_CHECKED}; Hugging Face models are not in it."
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``--check`` (``--offline``, ``--today YYYY-MM-DD``); without it, the model table."""
    parser = argparse.ArgumentParser(prog="python -m apicourse.models", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="check the configured models and say what to change")
    parser.add_argument("--offline", action="store_true", help="never ask the providers, even with keys")
    parser.add_argument("--today", type=date.fromisoformat, help="check as of this date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    if not args.check:
        print(models.table())
        return 0
    report = run(today=args.today, offline=args.offline)
    print(report.text())
    return 0 if report.ok else 1
