"""The grader's own nbgrader steps: a kernel that ignores interrupts costs only its question, outputs are
capped in characters as well as lines, and (where possible) every kernel runs sandboxed.

:func:`harden` puts them into an nbgrader configuration; self-grading and ``grade-class`` both call it::

    >>> from traitlets.config import Config
    >>> config = harden(Config(), sandbox=False)
    >>> [p.__name__ for p in config.Autograde.autograde_preprocessors][:4]
    ['GuardedExecute', 'IgnorePattern', 'ClearMetadataPreprocessor', 'CappedOutput']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets import Bool, Integer, Unicode

from apicourse.grading import spare_kernel
from apicourse.grading.answer_check import AnswerCheck
from apicourse.grading.nbgrader_run import STUCK_KERNEL
from apicourse.grading.questions import _ANSWER_MARK
from apicourse.grading.sandbox import sandbox_fingerprint
from apicourse.grading.sandbox_kernel import SandboxedKernelManager
from apicourse.grading.slots import grading_slot
from apicourse.grading.zygote_kernel import ForkedKernelManager



class GuardedExecute(Execute):
    """nbgrader's Execute, except that a cell which keeps running after the timeout's interrupt (a loop whose
    ``except:`` swallows ``KeyboardInterrupt``) has its kernel killed and is reported as a dead kernel —
    the grader then grades the notebook again without that question's answer (it scores 0), instead of
    nbclient's "Timeout waiting for IOPub output" costing the whole notebook. With ``sandboxed`` its kernels
    run in :class:`~apicourse.grading.sandbox_kernel.SandboxedKernelManager`."""

    sandboxed = Bool(False, help="run each kernel in the bubblewrap sandbox").tag(config=True)
    forked = Bool(False, help="with sandboxed: fork each kernel from one zygote in a long-lived sandbox "
                              "(grade-class workers: see apicourse.grading.zygote_kernel)").tag(config=True)
    spare_kernel = Bool(False, help="take a kernel started beforehand, and start the next one afterwards "
                                    "(self-grading: see apicourse.grading.spare_kernel)").tag(config=True)
    # IPython's default "Context" mode runs stack_data and pygments over a failing cell: ~0.1 s of kernel CPU a
    # failing hidden test, 0.3 s for the first (imports), about a third of a class's grading CPU. "Plain" takes
    # a millisecond, and its traceback shows the failing line alone (in a feedback page, under the cell).
    xmode = Unicode("Plain", help="IPython's traceback mode (%xmode) in grading kernels").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.xmode and not any(a.startswith("--InteractiveShell.xmode") for a in self.extra_arguments):
            self.extra_arguments = [*self.extra_arguments, f"--InteractiveShell.xmode={self.xmode}"]
        if self.sandboxed:  # nbgrader's Execute passes its kernel manager as an argument: config cannot set it
            self.kernel_manager_class = ForkedKernelManager if self.forked else SandboxedKernelManager

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> tuple[Any, Any]:
        # at most one grading kernel per CPU on the machine: the others wait their turn (a forked kernel takes
        # its slot once it is up: see setup_kernel)
        with contextlib.nullcontext() if self.forked else grading_slot():
            if km is not None or not self.spare_kernel:
                return super().preprocess(nb, resources, km=km)
            return self._preprocess_in_spare(nb, resources)

    @contextlib.contextmanager
    def setup_kernel(self, **kwargs: Any) -> Iterator[None]:
        """nbclient's, except that a kernel forked from the zygote (``grade-class``: one per worker at a time,
        at most two workers per CPU) holds a grading slot only while its cells run. Its start-up costs a tenth
        of a CPU-second and its shut-down less; the rest of both is waiting (jupyter_client's 0.2 s IOPub
        flush, a reply), a slot's time in which another kernel could run."""
        with super().setup_kernel(**kwargs), grading_slot() if self.forked else contextlib.nullcontext():
            yield

    def _preprocess_in_spare(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        """Execute in the spare kernel if one is ready (see :mod:`~apicourse.grading.spare_kernel`), then start
        the next one."""
        name = self.kernel_name or nb.get("metadata", {}).get("kernelspec", {}).get("name") or ""
        key = self._spare_key(name)
        spare = spare_kernel.take(key)
        try:
            return super().preprocess(nb, resources, km=spare.km if spare else None)
        finally:
            if spare is not None:  # nbclient leaves a kernel it did not start running: this one is used up
                if self.kc is not None:
                    self.kc.stop_channels()
                    self.kc = None
                spare_kernel.finish(spare)
            arguments = list(self.extra_arguments)
            if self.ipython_hist_file and not any(a.startswith("--HistoryManager.hist_file") for a in arguments):
                arguments.append(f"--HistoryManager.hist_file={self.ipython_hist_file}")  # as nbclient adds it
            spare_kernel.keep_one_ready(key, lambda: self._new_manager(name), arguments)

    def _new_manager(self, name: str) -> Any:
        """A kernel manager made as nbclient makes its own (``NotebookClient.create_kernel_manager``)."""
        if name:
            return self.kernel_manager_class(kernel_name=name, config=self.config)
        return self.kernel_manager_class(config=self.config)

    def _spare_key(self, name: str) -> tuple[Any, ...]:
        """What a spare kernel must have been started with to stand in for the one nbclient would start."""
        hidden = self.config.SandboxedKernelManager.get("hidden", []) if self.sandboxed else []
        arguments = tuple(a for a in self.extra_arguments if not a.startswith("--HistoryManager.hist_file"))
        return (self.kernel_manager_class, name, arguments, sandbox_fingerprint(hidden))

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        except CellTimeoutError as error:
            if "IOPub" not in str(error) or self.km is None:
                raise
            await ensure_async(self.km.shutdown_kernel(now=True))
            raise DeadKernelError(f"{STUCK_KERNEL} (cell {cell_index})") from error

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its own: the override must be bound again


class _SchemaCheckedOnce:
    """``jsonschema`` as nbgrader's metadata validator calls it (``jsonschema.validate(metadata, schema)``, once
    per cell: nbgrader/nbgraderformat/common.py), except that each schema is checked and compiled once, not
    once per cell. The verdict is jsonschema's own (the same best-matching error)."""

    def __init__(self) -> None:
        self._validators: dict[int, tuple[Any, Any]] = {}

    def validate(self, instance: Any, schema: Any) -> None:
        import jsonschema

        known = self._validators.get(id(schema))
        if known is None or known[0] is not schema:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            known = self._validators[id(schema)] = (schema, cls(schema))
        error = jsonschema.exceptions.best_match(known[1].iter_errors(instance))
        if error is not None:
            raise error


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's CheckCellMetadata, with its JSON schema checked once instead of once per cell (checking it
    was 0.15 CPU-seconds of every notebook graded)."""

    _jsonschema = _SchemaCheckedOnce()

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        from nbgrader.nbgraderformat import common

        saved, common.jsonschema = common.jsonschema, self._jsonschema  # type: ignore[attr-defined]
        try:
            return super().preprocess(nb, resources)
        finally:
            common.jsonschema = saved  # type: ignore[attr-defined]


class CappedOutput(LimitOutput):
    """nbgrader's LimitOutput (lines), plus a cap in characters: one 10 MB line is cut too."""

    max_chars = Integer(20_000, help="maximum characters of output per cell (-1 means no limit)").tag(config=True)

    def _cap(self, text: str, budget: int) -> str:
        return text if len(text) <= budget else text[:budget] + "\n... Output truncated ..."

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        budget = self.max_chars
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = self._cap(output.text, max(budget, 0))
                budget -= len(output.text)
            elif output.output_type == "error":
                output.evalue = self._cap(str(output.get("evalue", "")), 2_000)
                output.traceback = [self._cap(line, 2_000) for line in output.get("traceback", [])]
            else:
                for mime, value in output.get("data", {}).items():
                    if isinstance(value, str):
                        output.data[mime] = self._cap(value, max(budget, 0))
                        budget -= len(output.data[mime])
        return cell, resources


class RepairCells(NbGraderPreprocessor):
    """Make any submission gradable before nbgrader's own checks (which raise on these):

    - nbgrader metadata that is broken, or names a cell the gradebook does not know (a cell the learner made
      up, another assignment's cell), is removed: the cell is an ordinary one, not graded;
    - an ordinary cell starting ``# ANSWER Qn`` becomes that question's answer cell if it has none (stripped
      metadata);
    - every cell of the assignment still missing (an answer and its tests deleted) is put back from the
      gradebook after its predecessor, so that question scores 0 and the rest is graded.
    """

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            cells = [(c.name, c.cell_type, c.source, bool(c.locked), c.checksum) for c in notebook.source_cells]
            points = {c.name: float(c.max_score) for c in notebook.grade_cells}
            solutions = {c.name for c in notebook.solution_cells}
        known = {name for name, *_ in cells}
        present: set[str] = set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if meta is not None and (grade_id not in known or grade_id in present):
                del cell.metadata["nbgrader"]
            elif grade_id is not None:
                present.add(grade_id)
        answers = {m.group(1).upper(): name for name, _, source, *_ in cells if name in solutions
                   for m in [_ANSWER_MARK.match(source.split("\n", 1)[0])] if m}
        for cell in nb.cells:
            mark = _ANSWER_MARK.match(cell.get("source", "").split("\n", 1)[0]) if cell.cell_type == "code" else None
            name = answers.get(mark.group(1).upper()) if mark else None
            if name and name not in present and "nbgrader" not in cell.metadata:
                cell.metadata["nbgrader"] = self._metadata(name, False, name in points, True, points.get(name))
                present.add(name)
        for index, (name, cell_type, source, locked, checksum) in enumerate(cells):
            if name in present:
                continue
            before = [n for n, *_ in cells[:index] if n in present]
            at = 1 + max((i for i, c in enumerate(nb.cells)
                          if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in before[-1:]), default=-1)
            restored = NotebookNode(cell_type=cell_type, source=source, metadata=NotebookNode(
                nbgrader=self._metadata(name, locked, name in points, name in solutions, points.get(name), checksum)))
            if cell_type == "code":
                restored.update(outputs=[], execution_count=None)
            nb.cells.insert(at, restored)
            present.add(name)
        return nb, resources

    @staticmethod
    def _metadata(name: str, locked: bool, grade: bool, solution: bool, points: float | None,
                  checksum: str | None = None) -> NotebookNode:
        meta = NotebookNode(grade=grade, grade_id=name, locked=locked, schema_version=3, solution=solution,
                            task=False)
        if grade:
            meta.points = points or 0.0
        if checksum:
            meta.checksum = checksum
        return meta


def harden(config: Any, *, sandbox: bool, hidden: Iterable[Path] = (), spare: bool = False,
           forked: bool = False) -> Any:
    """Put the grader's steps into an nbgrader ``config`` (returned): :class:`GuardedExecute`,
    :class:`CappedOutput`, and with ``sandbox`` every kernel in bubblewrap, ``hidden`` masked; with ``spare``
    a kernel started beforehand is used, and the next one started afterwards (self-grading); with ``forked``
    (and ``sandbox``) kernels are forked from one zygote per process (grade-class workers)."""
    config.GuardedExecute.spare_kernel = spare
    config.GuardedExecute.forked = forked
    sanitize = list(config.Autograde.get("sanitize_preprocessors") or
                    [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata])
    sanitize = [CheckCellMetadataOnce if step is CheckCellMetadata else step for step in sanitize]
    if RepairCells not in sanitize:  # first: nbgrader's own steps raise on broken metadata
        sanitize[0:0] = [RepairCells, AnswerCheck]  # AnswerCheck: answers that reach into the interpreter
    config.Autograde.sanitize_preprocessors = sanitize
    config.Autograde.autograde_preprocessors = [
        GuardedExecute, IgnorePattern, ClearMetadataPreprocessor, CappedOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadataOnce,
    ]
    if sandbox:
        config.GuardedExecute.sandboxed = True
        config.SandboxedKernelManager.hidden = [str(p) for p in hidden]
    return config
