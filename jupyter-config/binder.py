"""Binder's Jupyter: the learner's settings (``learner.py``), and idle kernels shut down.

``postBuild`` links this file as the image's ``jupyter_server_config.py``, so every Binder server reads it.
mybinder.org gives a session 1-2 GB of memory, and a lesson's kernel keeps its memory (64-150 MB) while its
tab stays open: a kernel that has run nothing for 10 minutes is shut down, even with its tab still open
(its notebook stays as saved; run it from the top to continue). Each lesson's last cell says so.
"""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

load_subconfig(str(Path(__file__).resolve().parent / "learner.py"))  # noqa: F821 (provided by Jupyter)

c.MappingKernelManager.cull_idle_timeout = 600  # seconds without running anything
c.MappingKernelManager.cull_interval = 60
c.MappingKernelManager.cull_connected = True  # an open tab keeps the kernel otherwise
c.MappingKernelManager.cull_busy = False  # never a kernel that is running a cell
