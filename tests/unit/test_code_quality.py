"""The code keeps its shape by machine: ruff, the import-layer contract and mypy run over
simulator/ (configured in pyproject.toml) and must pass, so `python3 -m pytest` and `.ci/run`
fail on a lint finding, an upward import or a type error."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    """The console script installed beside this Python (the `test` extra), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; `pip install -e '.[test]'` installs it")
    return found


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def test_ruff_finds_nothing():
    _run([sys.executable, "-m", "ruff", "check", "--no-cache", "simulator", "scripts", "benchmarks"])


def test_imports_keep_to_the_layers():
    _run([_tool("lint-imports"), "--no-cache"])


def test_mypy_finds_no_type_error():
    _run([sys.executable, "-m", "mypy", "simulator"])


def _private_imports() -> list[str]:
    """``from .other import _name`` anywhere in simulator/: a module reaching into another's internals."""
    found = []
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom) or not (node.level or (node.module or "").startswith("simulator")):
                continue
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {module} import {alias.name}")
            if any(part.startswith("_") and not part.startswith("__") for part in (node.module or "").split(".")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {module} (a private module)")
    return found


def test_no_private_name_is_imported_across_modules():
    assert _private_imports() == []


def test_the_private_import_scan_sees_one(tmp_path, monkeypatch):
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "a.py").write_text("from .b import _hidden, shown\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _private_imports() == ["simulator/a.py:1: from .b import _hidden"]


BUILTIN_ERRORS = {"ValueError", "KeyError", "RuntimeError", "TypeError", "LookupError", "IndexError", "OSError",
                  "FileNotFoundError", "Exception"}
# the CLI's own helper: render_cmds.run_dot reports a missing or failing `dot` to its callers in the CLI
RAISES_ALLOWED = {"simulator/cli/render_cmds.py"}


def _caught_here(try_node: ast.Try, name: str) -> bool:
    """Does one of ``try_node``'s handlers catch the builtin ``name`` (a raise used as a jump)?"""
    for handler in try_node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(k, ast.Name) and k.id == name for k in kinds):
            return True
    return False


def _escaping_builtin_raises(tree: ast.AST, rel: str) -> list[str]:
    found = []

    def visit(node: ast.AST, catching: tuple[ast.Try, ...]) -> None:
        if isinstance(node, ast.Raise) and node.exc is not None:
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(call, ast.Name) and call.id in BUILTIN_ERRORS and not any(_caught_here(t, call.id) for t in catching):
                found.append(f"{rel}:{node.lineno}: raise {call.id}")
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            inner = (*catching, node) if isinstance(node, ast.Try) and field == "body" else catching
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                inner = ()  # a function body raises to its caller, not to the try around its definition
            for child in children:
                if isinstance(child, ast.AST):
                    visit(child, inner)

    visit(tree, ())
    return found


def test_the_library_raises_netsim_errors_not_bare_builtins():
    """Every error a caller can meet derives from NetsimError (simulator/errors.py); internal
    invariants are assertions. A builtin raised and caught in the same function is a jump, not an error."""
    found = []
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if rel not in RAISES_ALLOWED:
            found += _escaping_builtin_raises(ast.parse(path.read_text(encoding="utf-8"), rel), rel)
    assert found == []


def test_the_raise_scan_tells_a_jump_from_an_escape():
    code = """
def jump(v):
    try:
        if v:
            raise ValueError(v)
    except (KeyError, ValueError):
        return None

def escape(v):
    try:
        raise KeyError(v)
    except ValueError:
        pass
"""
    assert _escaping_builtin_raises(ast.parse(code), "m.py") == ["m.py:11: raise KeyError"]
