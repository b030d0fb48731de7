"""The grader's speed-ups change no verdict.

``grade-class`` checks nbgrader's cell metadata against its JSON schema once per notebook instead of once
per cell, and lets nbgrader's many gradebook openings share one SQLAlchemy engine per database. Each must
give exactly what nbgrader alone gives. Its kernels report a failing test in IPython's "Plain" traceback mode:
the failing line alone, not the hidden test around it (and a millisecond instead of 0.1 s of kernel CPU).
"""

from __future__ import annotations

import copy
import re

import jsonschema
import nbformat
import pytest
from grading_helpers import RELEASE, SOURCE, grade_class, new_course, notebook, submit
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

from apicourse.grading import ASSIGNMENT
from apicourse.grading.nbgrader_run import one_engine_per_database
from apicourse.grading.preprocessors import CheckCellMetadataOnce, _SchemaCheckedOnce


def broken_copies():
    """The quiz with one cell's nbgrader metadata broken in each way the schema forbids."""
    for change in ({"points": "two"}, {"grade": "yes"}, {"grade_id": 7}, {"locked": None}, {"extra": 1}):
        nb = copy.deepcopy(SOURCE)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
        cell.metadata.nbgrader.update(change)
        yield change, nb


def test_the_schema_checked_once_gives_jsonschemas_own_verdict():
    schema = MetadataValidator().schema
    once = _SchemaCheckedOnce()
    for change, nb in broken_copies():
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(cell.metadata.nbgrader, schema)
        with pytest.raises(jsonschema.ValidationError) as ours:
            once.validate(cell.metadata.nbgrader, schema)
        assert str(ours.value) == str(theirs.value), change
    for cell in [*SOURCE.cells, *RELEASE.cells]:
        if "nbgrader" in cell.metadata:
            once.validate(cell.metadata.nbgrader, schema)  # the quiz's own cells pass, as with jsonschema


def test_the_preprocessor_refuses_what_nbgraders_refuses():
    for change, nb in broken_copies():
        outcomes = []
        for step in (CheckCellMetadata(), CheckCellMetadataOnce()):
            try:
                step.preprocess(copy.deepcopy(nb), {})
                outcomes.append("passed")
            except Exception as error:  # noqa: BLE001 - the verdict is what is compared
                outcomes.append(f"{type(error).__name__}: {error}")
        assert outcomes[0] == outcomes[1] != "passed", (change, outcomes)
    assert CheckCellMetadataOnce().preprocess(copy.deepcopy(SOURCE), {})[0] is not None


def test_gradebooks_share_an_engine_and_still_close_their_connections(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with one_engine_per_database():
        with Gradebook(url) as first:
            first.add_student("ada")
            engine = first.engine
        with Gradebook(url) as second:
            assert second.engine is engine  # the compiled-query cache is kept
            assert [s.id for s in second.students] == ["ada"]
        assert engine.pool.checkedout() == 0  # closing a gradebook still returned its connection
    with Gradebook(url) as after:
        assert after.engine is not engine  # outside the block, nbgrader's own behaviour


def test_a_failing_hidden_test_shows_its_failing_line_alone(tmp_path):
    course = new_course(tmp_path)
    submit(course, "blank", notebook())
    run = grade_class(course, f"sqlite:///{tmp_path / 'ledger.db'}")
    assert run.returncode == 0, run.stdout + run.stderr
    graded = nbformat.read(course / "autograded" / "blank" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    failed = [(cell, output) for cell in graded.cells if cell.metadata.get("nbgrader", {}).get("grade")
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert len(failed) >= 10  # every hidden test of a blank quiz fails
    for cell, output in failed:
        shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.traceback))
        assert output.ename in shown
        frames = shown.count("Cell In[")  # a frame per call in the cell: its one source line shown, no more
        lines = {line.strip() for line in cell.source.splitlines() if len(line.strip()) > 12}
        assert 1 <= sum(line in shown for line in lines) <= frames, (cell.metadata.nbgrader.grade_id, shown)
