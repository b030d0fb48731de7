"""A learner's Jupyter: the whole course, without nbgrader's instructor tools.

Read by the README's launch command (``jupyter lab --config=jupyter-config/learner.py ...``); on Binder
``binder.py`` loads it. An instructor starts Jupyter with ``--config=jupyter-config/instructor.py``
instead (see quiz/README.md); nothing here changes the Python environment.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

HERE = Path(__file__).resolve().parent

# nbgrader's server extensions: the formgrader, the exchange's assignment and course lists, validate.
# A learner grades the quiz in the notebook itself (apicourse.grading), so none of them is needed.
c.ServerApp.jpserver_extensions.update(
    {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.assignment_list": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.validate_assignment": False,
        # no language server comes with the course: the LSP bridge would only take the server's memory
        "jupyter_lsp": False,
    }
)
# nbgrader's JupyterLab plugins (Create Assignment, the Nbgrader menu, Formgrader, ...) are switched off in
# learner-lab/page_config.json, which JupyterLab reads from its application settings folder.
c.LabApp.app_settings_dir = str(HERE / "learner-lab")
# the whole course is served (the lessons link to the quiz), wherever the command is started from
c.ServerApp.root_dir = str(HERE.parent)
# Kernels without ipykernel's debugger (about 8 MB less in each open lesson's kernel; the course never uses
# it): the learner's kernel spec `python3` (learner-data/kernels/, started by `python -m apicourse.kernel`)
# comes before the installed one. Jupyter finds kernel specs through JUPYTER_PATH, read when the server's
# kernel spec manager starts (after this file), and kernels inherit it (the quiz's grading kernels too).
LEARNER_DATA = str(HERE / "learner-data")
if LEARNER_DATA not in os.environ.get("JUPYTER_PATH", "").split(os.pathsep):
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [LEARNER_DATA, os.environ.get("JUPYTER_PATH")]))
