"""Options of ``netsim`` itself (before the command): ``--version``.

Shell completion (``--install-completion``, ``--show-completion``) comes from typer.
"""

from __future__ import annotations

import typer

import simulator

from . import app


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"netsim {simulator.__version__}")
        raise typer.Exit(0)


@app.callback()
def netsim_options(
    version: bool | None = typer.Option(None, "--version", "-V", callback=_print_version, is_eager=True,
                                           help="Print netsim's version and exit."),
) -> None:
    """Simulate, explain and verify Docker container networks from a design or a compose file."""
