"""Answers that reach into the interpreter are not run: the grader reads each answer's source before the kernel
runs it.

The hidden tests run in the same kernel as the answers, so an answer that hooks IPython (an input transformer
that blanks every later cell, a custom exception handler), replaces builtins or patches ``sys.modules`` could make
every test pass. No honest answer to this quiz needs any of that. :func:`refusal_of_answer` parses a cell's
source (after IPython's own transformation of magics, exactly what the kernel would run) with :mod:`ast` and
names, in one sentence, the first thing that reaches into the interpreter; :class:`AnswerCheck` (an nbgrader
sanitize step, run right after :class:`~apicourse.grading.preprocessors.RepairCells`) replaces such a cell by
one that raises that sentence, so its question scores 0 and everything else is graded as usual.

    >>> refusal_of_answer('# ANSWER Q1\\nq1a = "B"\\nq1b = "C"\\n') is None
    True
    >>> print(refusal_of_answer("# ANSWER Q1\\nget_ipython().input_transformers_post.append(lambda lines: [])"))
    This answer was not run: get_ipython (line 2) reaches into the Python interpreter that runs the tests, which no answer needs; it scores 0.

What is refused: dunder or ``_private`` attribute access; the names ``getattr setattr delattr vars globals locals
eval exec compile __import__ breakpoint open get_ipython exit quit`` and IPython's history names; imports outside
:data:`ALLOWED_MODULES`; attribute names that lead to the interpreter, another module, a frame, a program or a
written file (:data:`REFUSED_ATTRIBUTES`); anything of ``os`` and ``sys`` but :data:`RESTRICTED_MODULES`;
assigning to a module's attributes. A static check cannot foresee everything: the sandbox and the tamper check
(:mod:`apicourse.grading.sandbox`, :mod:`apicourse.grading.integrity`) stay what protects the class.
A cell that does not parse is left alone: the kernel cannot run it either.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from apicourse.grading.questions import _ANSWER_MARK

ALLOWED_MODULES = frozenset({
    "__future__", "abc", "collections", "collections.abc", "dataclasses", "datetime", "decimal", "email.utils",
    "enum", "fractions", "functools", "http", "itertools", "json", "logging", "math", "numbers", "os", "os.path",
    "random", "re", "requests", "statistics", "sys", "textwrap", "time", "typing", "urllib.parse", "warnings",
})
"""Modules an answer may import (and ``requests``'s submodules): what an honest answer to these questions uses
(lessons 01–09), logging and warnings included. Nothing that writes a file: a file written next to the
notebook could be imported in place of one of these."""

RESTRICTED_MODULES: dict[str, frozenset[str]] = {
    # os: reading the environment (Q2); _exit stops the kernel, which costs its question and reaches nothing
    "os": frozenset({"environ", "getenv", "path", "sep", "pathsep", "linesep", "name", "getcwd", "curdir", "_exit"}),
    # sys: printing to stderr, the version
    "sys": frozenset({"stdout", "stderr", "version", "version_info", "platform", "maxsize"}),
}
"""Modules an answer may use only as ``module.name`` with these names (never the module itself, nor an alias)."""

REFUSED_NAMES = frozenset({
    "getattr", "setattr", "delattr", "vars", "globals", "locals", "eval", "exec", "compile", "__import__",
    "breakpoint", "open", "get_ipython", "exit", "quit", "In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii",
})
"""Names that reach the interpreter (IPython's shell, its history, the builtins' dynamic access)."""

REFUSED_ATTRIBUTES = frozenset({
    # the interpreter and modules an answer must not reach through another module (``os.sys``, ``requests.compat.builtins``)
    "sys", "modules", "builtins", "os", "subprocess", "importlib", "ctypes", "gc", "inspect", "pickle", "marshal",
    "types", "runpy", "code", "codeop", "pdb", "bdb", "signal", "threading", "shutil", "pathlib", "io", "platform",
    "traceback", "IPython", "ipykernel", "apicourse",
    # sys's hooks, should one be reached anyway
    "settrace", "setprofile", "excepthook", "displayhook", "addaudithook", "meta_path", "path_hooks",
    "path_importer_cache", "breakpointhook", "unraisablehook", "currentframe",
    # running programs, should os be reached anyway
    "system", "popen", "fork", "forkpty", "kill", "killpg", "abort", "posix_spawn", "posix_spawnp", "execl", "execle",
    "execlp", "execlpe", "execv", "execve", "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
    "spawnve", "spawnvp", "spawnvpe",
    # writing a file (then imported in place of an allowed module), configuring logging from strings
    "urlretrieve", "urlopen", "build_opener", "install_opener", "URLopener", "FancyURLopener", "FileHandler",
    "WatchedFileHandler", "RotatingFileHandler", "TimedRotatingFileHandler", "handlers", "config", "dictConfig",
    "fileConfig", "listen", "setLoggerClass", "setLogRecordFactory",
    # frames, code and closures
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "f_trace", "gi_frame", "gi_code", "gi_yieldfrom",
    "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code", "ag_await", "tb_frame", "tb_next", "cell_contents",
    "func_globals", "func_code",
    # what evaluates a string as code (typing's forward references, singledispatch's annotations)
    "get_type_hints", "ForwardRef", "singledispatch", "singledispatchmethod",
})
"""Attribute (and imported) names that lead to the interpreter, a module an answer must not have, or a frame."""


def _allowed(module: str) -> bool:
    """Whether an answer may import ``module``.

    >>> _allowed("requests.structures"), _allowed("urllib.request")
    (True, False)
    """
    return module in ALLOWED_MODULES or module.startswith("requests.")


_HISTORY = re.compile(r"^_i?\d+$")
_NOT_RUN = "# NOT RUN by the grader: "
_OWN_CELL_IMPORTS = frozenset({"grade_my_quiz", "import_certificate", "export_certificate", "warm_up"})


def _transformed(source: str) -> str:
    """What the kernel would run: IPython's default transformation (``%magic`` → ``get_ipython()…``)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _Finder(ast.NodeVisitor):
    """Walks an answer's syntax tree; ``found`` is the first thing refused, with its line."""

    def __init__(self, own_cell: bool) -> None:
        self.own_cell = own_cell
        self.found: tuple[str, int] | None = None
        self.restricted: dict[str, frozenset[str]] = {}
        self.modules: set[str] = set()
        self.class_body = False

    def refuse(self, what: str, node: ast.AST) -> None:
        if self.found is None:
            self.found = (what, getattr(node, "lineno", 0))

    def _attribute(self, name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            self.refuse(f"the attribute {name}", node)
        elif name in REFUSED_ATTRIBUTES:
            self.refuse(f"the attribute {name}", node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.split(".")[0]
            if not _allowed(alias.name):
                self.refuse(f"import {alias.name}", node)
            bound = alias.asname or root
            if alias.name in RESTRICTED_MODULES or (root in RESTRICTED_MODULES and alias.asname is None):
                self.restricted[bound] = RESTRICTED_MODULES[root]
            else:
                self.modules.add(bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if self.own_cell and module == "apicourse.grading" and all(a.name in _OWN_CELL_IMPORTS for a in node.names):
            return  # the released notebook's own cells: grade_my_quiz(), import_certificate()
        if node.level or not _allowed(module):
            self.refuse(f"from {'.' * node.level}{module} import", node)
        for alias in node.names:
            if alias.name == "*" and module in RESTRICTED_MODULES:
                self.refuse(f"from {module} import *", node)
            elif module in RESTRICTED_MODULES and alias.name not in RESTRICTED_MODULES[module]:
                self.refuse(f"{module}.{alias.name}", node)
            elif alias.name != "*":
                if module not in RESTRICTED_MODULES:
                    self._attribute(alias.name, node)
                self.modules.add(alias.asname or alias.name)  # its attributes are not the answer's to change

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        dunder = name.startswith("__") and name != "__name__"
        if dunder and self.class_body and isinstance(node.ctx, ast.Store) and name not in REFUSED_NAMES:
            dunder = False  # a class's own special method, e.g. __hash__ = ...
        if name in REFUSED_NAMES or _HISTORY.match(name) or dunder:
            self.refuse(name, node)
        elif name in self.restricted:  # os or sys as a value: an alias would escape the names allowed
            self.refuse(f"{name} itself", node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        saved, self.class_body = self.class_body, True
        self.generic_visit(node)
        self.class_body = saved

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        saved, self.class_body = self.class_body, False
        self.generic_visit(node)
        self.class_body = saved

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(base, ast.Name) and \
                (base.id in self.restricted or base.id in self.modules):
            self.refuse(f"changing {base.id}.{node.attr}", node)
        if isinstance(base, ast.Name) and base.id in self.restricted:
            if node.attr not in self.restricted[base.id]:
                self.refuse(f"{base.id}.{node.attr}", node)
            return  # os.environ, sys.stderr: the module's allowed names
        self._attribute(node.attr, node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:  # logging.basicConfig(filename=...) writes a file
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if called == "basicConfig" and any(k.arg in {None, "filename", "handlers", "stream"} for k in node.keywords):
            self.refuse("basicConfig with a file", node)
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:  # case C(attr=...) reads attributes by name
        for name in node.kwd_attrs:
            self._attribute(name, node)
        self.generic_visit(node)


def refusal_of_answer(source: str, *, own_cell: bool = False) -> str | None:
    """One sentence if the cell ``source`` reaches into the interpreter, else None (also if it does not parse).

    ``own_cell``: a cell the learner added (not an answer); it may also run the released notebook's own cells
    (``from apicourse.grading import grade_my_quiz``).

    >>> refusal_of_answer("# ANSWER Q2\\nimport os\\ndef auth_headers():\\n    return os.environ['K']") is None
    True
    >>> refusal_of_answer("import builtins\\nbuiltins.str = None")
    'This answer was not run: import builtins (line 1) reaches into the Python interpreter that runs the tests, which no answer needs; it scores 0.'
    """
    try:
        tree = ast.parse(_transformed(source))
    except (SyntaxError, ValueError):
        return None
    finder = _Finder(own_cell)
    finder.visit(tree)
    if finder.found is None:
        return None
    what, line = finder.found
    subject = "This cell was not run" if own_cell else "This answer was not run"
    cost = "it was skipped" if own_cell else "it scores 0"
    return (f"{subject}: {what} (line {line}) reaches into the Python interpreter that runs the tests, which no "
            f"answer needs; {cost}.")


def not_run_reason(source: str) -> str | None:
    """The sentence of an answer :class:`AnswerCheck` replaced (None for any other source).

    >>> not_run_reason(neutralised("# ANSWER Q3", "This answer was not run: eval (line 2) …"))
    'This answer was not run: eval (line 2) …'
    """
    lines = source.split("\n")
    if len(lines) > 1 and _ANSWER_MARK.match(lines[0]) and lines[1].startswith(_NOT_RUN):
        return lines[1].removeprefix(_NOT_RUN)
    return None


def neutralised(first_line: str, reason: str) -> str:
    """The source that replaces a refused answer: its ``# ANSWER Qn`` line, the reason, and a raise of it."""
    return f"{first_line}\n{_NOT_RUN}{reason}\nraise RuntimeError({reason!r})\n"


class AnswerCheck(NbGraderPreprocessor):
    """nbgrader sanitize step: every answer cell (``# ANSWER Qn`` or the gradebook's solution cell) and every cell
    the learner added whose source reaches into the interpreter (:func:`refusal_of_answer`) is replaced before the
    kernel runs anything — an answer by :func:`neutralised` (its question scores 0, the feedback says why), an
    added cell by a comment. Only the cells the gradebook knows as locked (tests, helpers), whose source nbgrader's
    ``OverwriteCells`` puts back from the gradebook, are left alone: the notebook's own flags are the learner's."""

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            self._locked = {c.name for c in notebook.source_cells if c.locked}
            self._answers = {c.name for c in notebook.solution_cells}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if cell.cell_type != "code":
            return cell, resources
        meta = cell.get("metadata", {}).get("nbgrader")
        meta = meta if isinstance(meta, dict) else {}
        if meta.get("grade_id") in self._locked:
            return cell, resources
        first = cell.source.split("\n", 1)[0]
        answer = bool(_ANSWER_MARK.match(first)) or meta.get("grade_id") in self._answers
        reason = refusal_of_answer(cell.source, own_cell=not answer)
        if reason is None:
            return cell, resources
        if answer:
            mark = first if _ANSWER_MARK.match(first) else f"# ANSWER {_question_of(meta)}"
            cell.source = neutralised(mark, reason)
        else:
            cell.source = f"# {reason}"
        return cell, resources


def _question_of(meta: dict[str, Any]) -> str:
    """``q3_answer`` → ``Q3`` (an answer cell whose ``# ANSWER`` line was removed)."""
    found = re.match(r"q(\d+)", str(meta.get("grade_id", "")), re.IGNORECASE)
    return f"Q{found.group(1)}" if found else "Q?"
