"""judgekit.labeling's lazily loaded names (PEP 562) are the same, module for module, as the ``TYPE_CHECKING``
imports that type checkers read (``mypy labeling_app`` relies on them), and each one resolves."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import judgekit.labeling as labeling


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(Path(labeling.__file__).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module is not None
                for alias in imp.names:
                    out[alias.name] = imp.module.rsplit(".", 1)[-1]
    return out


def test_lazy_names_match_the_type_checking_imports_and_resolve() -> None:
    lazy = labeling._LAZY
    assert _type_checking_imports() == lazy
    for name, module in lazy.items():
        assert name in labeling.__all__
        assert getattr(labeling, name) is getattr(importlib.import_module(f"judgekit.labeling.{module}"), name)


def test_importing_the_package_loads_no_statistics() -> None:
    """The annotator's page must start without numpy/scipy (seconds to import): the admin names stay lazy."""
    import subprocess
    import sys

    code = "import sys, judgekit.labeling; print('judgekit.stats' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
