"""The seed's best-practice checklists, made executable where a program can check them.

Each item is the seed's sentence and a status: **pass** or **fail** when it was checked (with what
was found), **manual** when only a person can check it (a dashboard setting, a habit)::

    >>> report = run_checklist(clients=[])
    >>> sorted({item.section for item in report.items})
    ['Cost Management', 'Performance', 'Reliability', 'Security']
"""

from __future__ import annotations

import ast
import html
import json
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from apicourse import paths

Status = Literal["pass", "fail", "manual"]
MARK = {"pass": "✓", "fail": "✗", "manual": "○"}
MAX_SENSIBLE_TIMEOUT_S = 120.0

KEY_PATTERNS = (
    re.compile(r"sk-(?!ant-)(?:proj-)?[A-Za-z0-9_\-]{32,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    re.compile(r"hf_[A-Za-z0-9]{30,}"),
)
"""What OpenAI, Anthropic and Hugging Face keys look like."""

GENERATION_CALLS = (".completions.create", ".messages.create", ".messages.stream", ".responses.create")
TOKEN_LIMITS = {"max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens"}


@dataclass(frozen=True)
class Item:
    section: str
    text: str
    status: Status
    detail: str = ""


@dataclass
class Checklist:
    """The four checklists; shows as a table in a notebook, as text elsewhere."""

    items: list[Item] = field(default_factory=list)

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if i.status == "fail"]

    def __str__(self) -> str:
        lines, section = [], ""
        for item in self.items:
            if item.section != section:
                section = item.section
                lines.append(section)
            lines.append(f"  {MARK[item.status]} {item.text}" + (f" — {item.detail}" if item.detail else ""))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"pass": "green", "fail": "#c00", "manual": "#888"}
        rows = "".join(
            f"<tr><td>{html.escape(i.section)}</td><td style='color:{colour[i.status]}'>{MARK[i.status]}</td>"
            f"<td>{html.escape(i.text)}</td><td>{html.escape(i.detail)}</td></tr>"
            for i in self.items
        )
        return f"<table><tr><th></th><th></th><th>practice</th><th>what was found</th></tr>{rows}</table>"


def find_keys(text: str) -> list[str]:
    """Key-shaped strings in ``text``, each shown only by its first 6 characters.

    >>> find_keys("api_key = '" + "sk-" + "a" * 40 + "'")
    ['sk-aaa…']
    >>> find_keys("os.environ['OPENAI_API_KEY']")
    []
    """
    return [m.group(0)[:6] + "…" for pattern in KEY_PATTERNS for m in pattern.finditer(text)]


def code_cells(notebook: Path) -> list[tuple[int, str]]:
    """``(cell number, source)`` of every code cell of a notebook (numbered from 1)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    return [
        (n, "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        for n, c in enumerate(cells, 1)
        if c.get("cell_type") == "code"
    ]


def calls_missing(source: str, *, suffixes: Iterable[str], keywords: set[str]) -> list[str]:
    """Calls whose name ends with one of ``suffixes`` and that pass none of ``keywords``.

    >>> calls_missing("client.messages.create(model=m, max_tokens=5)\\nclient.chat.completions.create(model=m)",
    ...               suffixes=GENERATION_CALLS, keywords=TOKEN_LIMITS)
    ['client.chat.completions.create']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cells with IPython magics
        return []
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name.endswith(tuple(suffixes)):
                given = {k.arg for k in node.keywords}
                if None not in given and not (given & keywords):  # None: a **kwargs spread
                    missing.append(name)
    return missing


def _scan_notebooks(notebooks: list[Path], **rule: Any) -> list[str]:
    found = []
    for nb in notebooks:
        for number, source in code_cells(nb):
            found += [f"{nb.stem} cell {number}: {name}" for name in calls_missing(source, **rule)]
    return found


def env_is_gitignored(root: Path) -> bool | None:
    """True if git ignores ``root/.env``; ``None`` when git (or the repository) is not there."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", ".env"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {0: True, 1: False}.get(result.returncode)


def run_checklist(
    *,
    root: Path = paths.ROOT,
    clients: Iterable[Any] = (),
    call_log: Any = None,
    cache: Any = None,
) -> Checklist:
    """Check what can be checked: the repository at ``root``, the SDK ``clients`` you pass, a
    :class:`~apicourse.call_log.CallLog` and a :class:`~apicourse.caching.ResponseCache` you used."""
    from apicourse.timeouts import timeout_seconds

    clients = list(clients)
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    items: list[Item] = []

    def add(section: str, text: str, status: Status, detail: str = "") -> None:
        items.append(Item(section, text, status, detail))

    sec = "Security"
    leaks = [f"{nb.stem}: {k}" for nb in notebooks for _, src in code_cells(nb) for k in find_keys(src)]
    add(
        sec,
        "Store API keys in environment variables, never in code",
        "fail" if leaks else "pass",
        "; ".join(leaks) or f"no key-shaped string in the code of {len(notebooks)} notebooks",
    )
    add(
        sec,
        "Use .env files locally and secrets managers in production",
        "manual",
        "locally: the course reads .env with python-dotenv; production: your platform's secret store",
    )
    ignored = env_is_gitignored(root)
    add(
        sec,
        "Add .env to your .gitignore file",
        "manual" if ignored is None else ("pass" if ignored else "fail"),
        {
            None: "not a git repository here",
            True: "git check-ignore .env: ignored",
            False: "git would commit .env: add it to .gitignore",
        }[ignored],
    )
    add(
        sec,
        "Rotate keys periodically and immediately if compromised",
        "manual",
        "in each provider's dashboard",
    )

    sec = "Reliability"
    no_retry = [type(c).__name__ for c in clients if getattr(c, "max_retries", 1) < 1]
    add(
        sec,
        "Always implement retry logic with exponential backoff",
        "manual" if not clients else ("fail" if no_retry else "pass"),
        f"max_retries=0 on {', '.join(no_retry)}"
        if no_retry
        else ("the SDK clients retry 429/5xx with backoff" if clients else "pass your clients to check them"),
    )
    slow = [
        f"{type(c).__name__} waits {timeout_seconds(c)} s"
        for c in clients
        if (timeout_seconds(c) or float("inf")) > MAX_SENSIBLE_TIMEOUT_S
    ]
    unset = _scan_notebooks(
        notebooks, suffixes=("OpenAI", "Anthropic", "InferenceClient"), keywords={"timeout"}
    )
    add(
        sec,
        "Set reasonable timeouts on all API requests",
        "fail" if slow or unset else "pass",
        "; ".join(slow + [f"no timeout: {u}" for u in unset])
        or f"every client constructed in the notebooks has a timeout (≤ {MAX_SENSIBLE_TIMEOUT_S:.0f} s here)",
    )
    logged = getattr(call_log, "records", None)
    add(
        sec,
        "Log API errors and response times for monitoring",
        "pass" if logged else "manual",
        f"{len(logged)} calls logged with latency and tokens" if logged else "pass the CallLog you used",
    )
    add(
        sec,
        "Validate API responses before using them in your application",
        "manual",
        "08_research_assistant validates the model's JSON with pydantic",
    )

    sec = "Cost Management"
    add(sec, "Set spending limits in your API provider's dashboard", "manual", "in each provider's dashboard")
    add(
        sec,
        "Use cheaper models for simple tasks, reserve powerful models for complex ones",
        "manual",
        "see apicourse.models and the price table in apicourse.costs",
    )
    hits = getattr(cache, "hits", None)
    add(
        sec,
        "Cache responses when the same input might recur",
        "pass" if hits else "manual",
        f"{hits} repeated calls answered from the cache" if hits else "pass the ResponseCache you used",
    )
    unbounded = _scan_notebooks(notebooks, suffixes=GENERATION_CALLS, keywords=TOKEN_LIMITS)
    add(
        sec,
        "Monitor token usage and set max_tokens to avoid runaway costs",
        "fail" if unbounded else "pass",
        "; ".join(f"no max_tokens: {u}" for u in unbounded)
        or "every generation call in the notebooks sets a limit",
    )

    sec = "Performance"
    for text, where in (
        ("Use streaming for long responses to improve perceived latency", "time to first token, above"),
        ("Batch requests when processing multiple items", "gather_limited, above"),
        (
            "Use async/await (asyncio) for concurrent API calls in Python",
            "AsyncOpenAI / AsyncAnthropic, above",
        ),
        (
            "Keep prompts concise — fewer input tokens means faster and cheaper responses",
            "the token counts, above",
        ),
    ):
        add(sec, text, "manual", f"a design choice: measured in {where}")
    return Checklist(items)
