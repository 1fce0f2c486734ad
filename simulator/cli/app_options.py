"""Options of ``netsim`` itself (before the command): ``--version``.

Shell completion (``--install-completion``, ``--show-completion``) comes from typer.
"""

from __future__ import annotations

import typer

from . import app

DISTRIBUTION = "container-netsim"


def package_version() -> str:
    """The installed package's version (pyproject.toml's, through the package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed: pip install -e .)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"netsim {package_version()}")
        raise typer.Exit(0)


@app.callback()
def netsim_options(
    version: bool | None = typer.Option(None, "--version", "-V", callback=_print_version, is_eager=True,
                                           help="Print netsim's version and exit."),
) -> None:
    """Simulate, explain and verify Docker container networks from a design or a compose file."""
