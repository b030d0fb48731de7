"""The learner's Python kernel: ipykernel as usual, without its debugger.

ipykernel imports debugpy when it creates a kernel, about 8 MB in every kernel, and on Binder every open
lesson keeps a kernel alive in 1-2 GB (``benchmarks/bench_memory.py``). The course never uses JupyterLab's
debugger, so the learner's kernel spec (``jupyter-config/learner-data/kernels/python3``, which the
learner's settings ``jupyter-config/learner.py`` put first) starts kernels through this module, which
makes ``import debugpy`` fail first. ipykernel then simply stops advertising the debugger (its
``kernel_info`` reply lists no ``"debugger"`` feature) and JupyterLab hides its debugger button. An
instructor's Jupyter (``--config=jupyter-config/instructor.py``) starts the usual kernel, debugger included.

Jupyter runs it from the kernel spec, as it runs ipykernel's own launcher::

    python -m apicourse.kernel -f /path/to/kernel-1234.json
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Start an IPython kernel (the arguments are ipykernel's) with ``debugpy`` made unimportable."""
    # None in sys.modules makes `import debugpy` raise ImportError, which ipykernel's debugger module
    # catches (ipykernel/debugger.py: `_is_debugpy_available = False`).
    sys.modules["debugpy"] = None  # type: ignore[assignment]
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher: the shell adds its own entry
        del sys.path[0]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
