"""The previous / contents / next cells of every lesson, and the lesson map of the start notebook.

Generated, never written by hand::

    python -m apicourse.navigation          # rewrite the navigation cells
    python -m apicourse.navigation --check  # exit 1 if any is missing or stale (the tests run this)

A lesson's title is the first line of its first markdown cell (``# 05 · The OpenAI API``).
Navigation cells carry the cell tag ``apicourse-nav``; the lesson map in ``00_start_here`` is the
cell tagged ``apicourse-contents``.

Two more cells of every lesson are generated here: the first code cell (tag ``apicourse-colab``), which
on Google Colab fetches and installs this release of the course and does nothing elsewhere
(:func:`apicourse.colab.bootstrap_source`), and the last cell (tag ``apicourse-end``), which says how to
shut the lesson's kernel down.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

from apicourse import colab, paths

NAV_TAG = "apicourse-nav"
CONTENTS_TAG = "apicourse-contents"
QUIZ_LINK = "../quiz/release/module_assessment/module_assessment.ipynb"
"""The learner's copy of the assessment, relative to ``notebooks/``."""
END_TAG = "apicourse-end"
SHUT_DOWN = (
    "**Done with this lesson?** Shut its kernel down to give its memory back: **Kernel → Shut Down Kernel** "
    "in JupyterLab (on Colab: **Runtime → Disconnect and delete runtime**). The notebook stays as you saved "
    "it. On Binder a kernel that has run nothing for 10 minutes is shut down for you; to continue, run the "
    "lesson again from the top."
)
"""The last cell of every lesson."""


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


def _generated_cells(version: str) -> tuple[Any, Any]:
    """The Colab bootstrap (first code cell) and the shut-down note (last cell), with stable ids."""
    bootstrap = nbformat.v4.new_code_cell(colab.bootstrap_source(version), metadata={"tags": [colab.BOOTSTRAP_TAG]})
    end = nbformat.v4.new_markdown_cell(SHUT_DOWN, metadata={"tags": [END_TAG]})
    bootstrap["id"], end["id"] = "colab-setup", "shut-down"
    return bootstrap, end


def with_navigation(nb: Any, position: int, titles: list[tuple[str, str]], version: str | None = None) -> Any:
    """Return ``nb`` with fresh generated cells: navigation after the title cell and at the end, the Colab
    bootstrap before the first code cell, the shut-down note last."""
    generated = {NAV_TAG, colab.BOOTSTRAP_TAG, END_TAG}
    cells = [c for c in nb.cells if not generated & set(c.get("metadata", {}).get("tags", []))]
    line = nav_markdown(position, titles)
    # cell ids must be stable so that regenerating changes nothing
    top, bottom = _nav_cell(line), _nav_cell(line)
    top["id"], bottom["id"] = "nav-top", "nav-bottom"
    bootstrap, end = _generated_cells(version or colab.release_version())
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(max(first_code, 1), bootstrap)
    nb.cells = cells[:1] + [top] + cells[1:] + [bottom, end]
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
    version = colab.release_version()
    changed = []
    for position, path in enumerate(files):
        before = path.read_text(encoding="utf-8")
        nb = with_navigation(nbformat.reads(before, as_version=4), position, titles, version)
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
