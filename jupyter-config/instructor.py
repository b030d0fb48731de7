"""An instructor's Jupyter: nbgrader's tools on (Create Assignment, Formgrader, the course and assignment
lists, Validate), with the quiz as the formgrader's course, and kernels with ipykernel's debugger. Start it from the top of the repository::

    jupyter lab --config=jupyter-config/instructor.py

It replaces the learner's settings (``learner.py``) for that server, wherever those are set (the README's
launch command, or Binder's environment), and changes nothing on disk.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

COURSE = Path(__file__).resolve().parent.parent

c.ServerApp.jpserver_extensions.update(
    {
        "nbgrader.server_extensions.formgrader": True,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.course_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
    }
)
c.ServerApp.root_dir = str(COURSE)
# nbgrader reads the course's settings from the folder the server starts in; load them here so the
# formgrader grades quiz/ wherever the server is started from.
load_subconfig(str(COURSE / "quiz" / "nbgrader_config.py"))  # noqa: F821 (provided by Jupyter)
# the installed `python3` kernel spec (debugger included), even when started from a learner's server (its
# terminals inherit the JUPYTER_PATH that learner.py put the learner's kernel spec on)
LEARNER_DATA = str(COURSE / "jupyter-config" / "learner-data")
if "JUPYTER_PATH" in os.environ:
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        entry for entry in os.environ["JUPYTER_PATH"].split(os.pathsep) if entry != LEARNER_DATA
    )
