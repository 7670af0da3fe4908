"""Loaded by pytest before it collects anything in the repository: the tests and the doctests of ``judgekit/``.

Why: with ``--import-mode=importlib`` pytest imports each module it collects for doctests itself. When such a module
is the first of its package to be imported (``pytest judgekit/judging/workers.py tests/judging``), the package's
``__init__`` imports it a second time under the same name, and the two copies disagree: a judge worker process could
not be started, its entry point "not the same object" as the one pickled by name. Importing every judgekit module
here, by its real name, first leaves one copy of each, which pytest then reuses.
"""

import importlib
import pkgutil

import judgekit

for _module in pkgutil.walk_packages(judgekit.__path__, "judgekit."):
    importlib.import_module(_module.name)
