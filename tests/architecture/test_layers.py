"""The apps depend one way (DESIGN.md): the import contracts hold, and they can fail.

Contracts are import-linter's, in pyproject.toml: layers config > rooms > media_library >
recordings > meetings > core, the product never imports loadtest, the media core is pure, core
knows no app. Import-linter reads imports anywhere in a module, inside functions too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.architecture.conftest import APPS, PRODUCT, ROOT, product_modules


def run_lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_the_import_contracts_are_kept() -> None:
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path: Path) -> None:
    """A copy of the tree with one upward import added (meetings -> media_library) fails."""
    for package in PRODUCT:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    probe = tmp_path / "meetings" / "upward_probe.py"
    probe.write_text("def peek() -> None:\n    from media_library import models  # noqa: F401\n")
    result = run_lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and "meetings.upward_probe -> media_library.models" in result.stdout


def function_level_sibling_imports(module: str, tree: ast.Module) -> list[str]:
    """Imports of another app placed inside a function (how an import cycle used to be hidden)."""
    own = module.split(".")[0]
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in PRODUCT and top != own:
                    found.append(f"{module}:{node.lineno} imports {name} inside {func.name}()")
    return found


def test_no_product_module_imports_a_sibling_app_inside_a_function() -> None:
    offenders = [hit for module, _, tree in product_modules() for hit in function_level_sibling_imports(module, tree)]
    assert offenders == []


def test_the_function_level_check_can_fail() -> None:
    tree = ast.parse("def f():\n    from recordings.models import Recording\n")
    assert function_level_sibling_imports("meetings.services", tree) == [
        "meetings.services:2 imports recordings.models inside f()"
    ]
    assert function_level_sibling_imports("recordings.services", tree) == []  # its own app


def test_every_app_is_in_the_contract() -> None:
    """A new top-level product package must be placed in the layers, not slip past them."""
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in {"tests", "bench"}}
    assert packages <= {*APPS, "loadtest", "scripts"}, packages - {*APPS, "loadtest", "scripts"}
