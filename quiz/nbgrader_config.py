"""nbgrader configuration of the course's assessment (run nbgrader from this folder).

Every path is relative to this file's folder, so the course works wherever the repository is cloned.
The learner's self-grading (``apicourse.grading``) loads this same file, so both flows grade alike.
"""

import os
import tempfile

from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
)

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "working-with-apis"
c.CourseDirectory.root = HERE
# The gradebook: SQLite next to this file, or $APICOURSE_GRADEBOOK_URL (a class on JupyterHub keeps it in
# PostgreSQL: postgresql+psycopg://..., set only for the instructors' formgrader service).
c.CourseDirectory.db_url = os.environ.get("APICOURSE_GRADEBOOK_URL") or "sqlite:///" + os.path.join(HERE, "gradebook.db")

# The exchange (release / fetch / submit / collect) needs a writable folder. The default is a system path
# (/srv/nbgrader/exchange); use $APICOURSE_EXCHANGE if set (e.g. a folder shared on a JupyterHub), else
# a folder in the user's temp dir. Solo learners never need it: they grade themselves in the notebook.
c.Exchange.root = os.environ.get("APICOURSE_EXCHANGE") or os.path.join(tempfile.gettempdir(), "apicourse-exchange")
try:
    os.makedirs(c.Exchange.root, exist_ok=True)
except OSError:
    pass  # nbgrader's exchange commands will say the folder is missing; self-grading never uses it

# The learner copy: solutions are replaced by nothing (answer cells keep their blank `q1a = ""` lines and
# function signatures; a blank copy runs top to bottom without an error and scores 0).
c.ClearSolutions.code_stub = {"python": ""}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograde: a learner's infinite loop costs that question's points, not the whole grading.
c.Execute.timeout = 5
c.Execute.interrupt_on_timeout = True
# Edited test cells are restored from the gradebook anyway; deleted ones are put back too.
c.OverwriteCells.add_missing_cells = True
# nbgrader scores 0 for a test cell with ANY stderr output, so a correct answer that logs a warning
# (logging writes to stderr) would lose its points. Points are decided by exceptions only: drop stderr.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"
# Huge outputs are cut short in the autograded copy.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50


class SkipSelfGrading(NbGraderPreprocessor):
    """Blank the learner's own grader cells (they call ``warm_up``, ``grade_my_quiz``, ...) in the copy nbgrader
    executes: grading must not start a grading of itself, nor spend a second per notebook importing the grader.
    (On a busy machine that import outlasted the 5 s cell timeout and cost the whole grading.)"""

    def preprocess_cell(self, cell, resources, index):
        warm_up = cell.metadata.get("nbgrader", {}).get("grade_id") == "warm_up"  # read-only, restored by nbgrader
        if cell.cell_type == "code" and (warm_up or "nbgrader" not in cell.metadata and (
            "grade_my_quiz" in cell.source or "export_certificate" in cell.source
            or "import_certificate" in cell.source
        )):
            cell.source = "# (the self-grading cell is skipped while nbgrader grades the notebook)"
        return cell, resources


# nbgrader's own sanitising steps, plus the one above (before the metadata check, as the others)
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    SkipSelfGrading,
    CheckCellMetadata,
]
