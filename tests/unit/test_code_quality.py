"""The code keeps its shape by machine: ruff, the import-layer contract and mypy run over
simulator/ (configured in pyproject.toml) and must pass, so `python3 -m pytest` and `.ci/run`
fail on a lint finding, an upward import or a type error."""

from __future__ import annotations

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
    _run([sys.executable, "-m", "ruff", "check", "--no-cache", "simulator"])


def test_imports_keep_to_the_layers():
    _run([_tool("lint-imports"), "--no-cache"])


def test_mypy_finds_no_type_error():
    _run([sys.executable, "-m", "mypy", "simulator"])
