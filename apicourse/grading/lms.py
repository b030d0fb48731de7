"""Gradebook files an LMS imports: ``grade-class --lms canvas`` / ``--lms moodle`` write one next to grades.csv.

Each student's **best** instructor-graded score (see :mod:`apicourse.grading.class_export`) goes in one
column named after the assignment. The student is identified by their hub user name, which is the LMS login
when the hub signs people in through the LMS (LTI 1.3, ``jupyterhub-ltiauthenticator``).

Canvas (``canvas-grades.csv``), columns ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>``, then
a ``Points Possible`` row, as Canvas's own gradebook export has. Canvas needs one of Student / ID / SIS User ID
and the SIS Login ID and Section columns; a new assignment column creates the assignment. Source: "Import a CSV
file to Carmen Grades", The Ohio State University, teaching.resources.osu.edu (Canvas guide), read 2026-12-02.

Moodle (``moodle-grades.csv``), columns ``Username, <assignment>``: in *Grades → Import → CSV file*, map
*Identify user by* ``Username`` → ``username`` and the assignment column to a grade item (new or existing).
Source: Moodle's importer ``grade/import/csv/classes/load_data.php`` (``map_user_data_with_value`` accepts
userid, username, useridnumber, useremail) and its ``grade/tests/behat/grade_import.feature``,
github.com/moodle/moodle, read 2026-12-02.

>>> from datetime import datetime, UTC
>>> from apicourse.grading.class_export import ClassRow
>>> import tempfile; folder = Path(tempfile.mkdtemp())
>>> rows = [ClassRow("ada", 7, 10, 10, 3, True, datetime(2026, 12, 2, tzinfo=UTC))]
>>> print(write_lms_file("canvas", rows, "module_assessment", folder).read_text().strip())
Student,ID,SIS User ID,SIS Login ID,Section,module_assessment
Points Possible,,,,,10
ada,,,ada,,10
>>> print(write_lms_file("moodle", rows, "module_assessment", folder).read_text().strip())
Username,module_assessment
ada,10
"""

from __future__ import annotations

import csv
from pathlib import Path

from apicourse.grading.class_export import ClassRow, num

LMS_FILES = {"canvas": "canvas-grades.csv", "moodle": "moodle-grades.csv"}
"""The LMSs ``--lms`` knows, and the file each gets (in the folder of grades.csv)."""


def _canvas(rows: list[ClassRow], assignment: str) -> list[list[str]]:
    out = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]]
    points = num(max((r.max_score for r in rows), default=10.0))
    out.append(["Points Possible", "", "", "", "", points])
    out += [[r.student, "", "", r.student, "", num(r.best)] for r in rows]
    return out


def _moodle(rows: list[ClassRow], assignment: str) -> list[list[str]]:
    return [["Username", assignment]] + [[r.student, num(r.best)] for r in rows]


def write_lms_file(lms: str, rows: list[ClassRow], assignment: str, folder: str | Path) -> Path:
    """Write the gradebook file ``lms`` ("canvas" or "moodle") imports into ``folder``; return its path."""
    table = {"canvas": _canvas, "moodle": _moodle}[lms](rows, assignment)
    path = Path(folder) / LMS_FILES[lms]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(table)
    return path
