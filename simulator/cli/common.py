"""Helpers shared by the command modules: loading a design or exiting with its problems."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..errors import DesignError, Problem
from ..model import Design


def print_problems(problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)


def load_or_exit(path: Path, show_warnings: bool = True) -> Design:
    """Load and validate a design; on problems print every one and exit 1."""
    from ..loaders import load_design

    try:
        design, warnings = load_design(path)
    except DesignError as exc:
        print_problems(exc.problems)
        errors = len(exc.errors)
        typer.echo(f"{path}: {errors} error(s)", err=True)
        raise typer.Exit(1)
    if show_warnings:
        print_problems(warnings)
    return with_local_kernel(design)


def with_local_kernel(design: Design) -> Design:
    """A compose file runs on this machine: its one host gets the local kernel's features."""
    if design.kind != "compose":
        return design
    from dataclasses import replace

    from ..adapters.kernel import local_kernel

    kernel = local_kernel()
    if kernel is None:
        return design
    return replace(design, hosts=tuple(replace(h, kernel=kernel) for h in design.hosts))


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"netsim: {message}", err=True)
    raise typer.Exit(code)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
