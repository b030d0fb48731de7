"""The previous / contents / next cells of every lesson, and the lesson map of the start notebook.

Generated, never written by hand::

    python -m apicourse.navigation          # rewrite the navigation cells
    python -m apicourse.navigation --check  # exit 1 if any is missing or stale (the tests run this)

A lesson's title is the first line of its first markdown cell (``# 05 · The OpenAI API``).
Navigation cells carry the cell tag ``apicourse-nav``; the lesson map in ``00_start_here`` is the
cell tagged ``apicourse-contents``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

from apicourse import paths

NAV_TAG = "apicourse-nav"
CONTENTS_TAG = "apicourse-contents"
QUIZ_LINK = "../quiz/release/module_assessment/module_assessment.ipynb"
"""The learner's copy of the assessment, relative to ``notebooks/``."""


def lessons(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The lesson notebooks in order (``00_…`` to ``09_…``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def title(notebook: Path | Any) -> str:
    """The lesson's title: the first line of its first markdown cell, without the ``#``."""
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else notebook
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            return cell.source.strip().splitlines()[0].lstrip("#").strip()
    return Path(getattr(notebook, "name", "lesson")).stem


def nav_markdown(position: int, titles: list[tuple[str, str]]) -> str:
    """The navigation line of the lesson at ``position`` among ``(file name, title)`` pairs.

    >>> nav_markdown(1, [("00_a.ipynb", "A"), ("01_b.ipynb", "B"), ("02_c.ipynb", "C")])
    '< [A](00_a.ipynb) | [Contents](00_start_here.ipynb#Lesson-map) | [C](02_c.ipynb) >'
    """
    prev = f"< [{titles[position - 1][1]}]({titles[position - 1][0]})" if position > 0 else "<"
    if position + 1 < len(titles):
        nxt = f"[{titles[position + 1][1]}]({titles[position + 1][0]}) >"
    else:
        nxt = f"[The module assessment]({QUIZ_LINK}) >"
    return f"{prev} | [Contents](00_start_here.ipynb#Lesson-map) | {nxt}"


def contents_markdown(titles: list[tuple[str, str]]) -> str:
    """The lesson map: one numbered line per lesson, then the assessment."""
    lines = ["## Lesson map", ""]
    for name, lesson_title in titles:
        lines.append(f"- [{lesson_title}]({name})")
    lines.append(f"- [The module assessment: five questions, pass at 70%]({QUIZ_LINK})")
    return "\n".join(lines)


def _nav_cell(source: str) -> Any:
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": [NAV_TAG]})


def with_navigation(nb: Any, position: int, titles: list[tuple[str, str]]) -> Any:
    """Return ``nb`` with fresh navigation cells after the title cell and at the end."""
    cells = [c for c in nb.cells if NAV_TAG not in c.get("metadata", {}).get("tags", [])]
    line = nav_markdown(position, titles)
    # cell ids must be stable so that regenerating changes nothing
    top, bottom = _nav_cell(line), _nav_cell(line)
    top["id"], bottom["id"] = "nav-top", "nav-bottom"
    nb.cells = cells[:1] + [top] + cells[1:] + [bottom]
    for cell in nb.cells:
        if CONTENTS_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = contents_markdown(titles)
    return nb


def _render(nb: Any) -> str:
    return nbformat.writes(nb) + "\n"


def update(folder: Path = paths.NOTEBOOKS, *, write: bool = True) -> list[Path]:
    """Regenerate every lesson's navigation; return the notebooks whose file changed (or would)."""
    files = lessons(folder)
    titles = [(p.name, title(p)) for p in files]
    changed = []
    for position, path in enumerate(files):
        before = path.read_text(encoding="utf-8")
        nb = with_navigation(nbformat.reads(before, as_version=4), position, titles)
        after = _render(nb)
        if after != before:
            changed.append(path)
            if write:
                path.write_text(after, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale navigation; exit 1 if any")
    args = parser.parse_args(argv)
    changed = update(write=not args.check)
    for path in changed:
        verb = "stale" if args.check else "updated"
        print(f"{verb}: {path.relative_to(paths.ROOT)}")
    if args.check and changed:
        print("run: python -m apicourse.navigation", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
