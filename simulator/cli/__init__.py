"""The ``netsim`` command: the only place that reads files, prints and picks exit codes."""

from __future__ import annotations

import sys

import typer

from ..errors import NetsimError

app = typer.Typer(
    name="netsim",
    help="Simulate, explain and verify Docker container networks from a design or a compose file.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

# Command modules register themselves on `app` when imported.
from . import app_options, design_cmds, engine_cmds, intent_cmds, live_cmds, render_cmds  # noqa: E402,F401


def main() -> None:
    """Entry point: run the app, turning any NetsimError into a message and exit code 2."""
    try:
        app()
    except NetsimError as exc:
        print(f"netsim: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("netsim: interrupted", file=sys.stderr)
        sys.exit(130)
