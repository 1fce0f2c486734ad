"""What the terminal allows: colour and width, decided in one place for every command.

Colour (https://no-color.org and the usual Unix habits):

* ``--color`` / ``--no-color`` decide when given (an explicit flag beats the environment);
* otherwise ``NO_COLOR`` set to any non-empty value, or ``TERM=dumb``, means no colour;
* otherwise colour only when the stream is a terminal (never into a pipe or a file).

Width: a table fits the terminal (``COLUMNS`` first, as :func:`shutil.get_terminal_size`
reads it); when the output is not a terminal, ``COLUMNS`` or :data:`DEFAULT_WIDTH`.
``--wide`` means no limit: every cell on one line.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import IO

DEFAULT_WIDTH = 100
MIN_WIDTH = 40


def _isatty(stream: IO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def use_color(flag: bool | None = None, stream: IO | None = None) -> bool:
    """Whether to colour what goes to ``stream`` (default: standard output)."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("TERM", "").strip().lower() == "dumb":
        return False
    return _isatty(sys.stdout if stream is None else stream)


def _columns_env() -> int | None:
    try:
        value = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def output_width(wide: bool = False, stream: IO | None = None) -> int | None:
    """The width tables may use on ``stream`` (default: standard output); None with ``wide``."""
    if wide:
        return None
    columns = _columns_env()
    if columns is None:
        if _isatty(sys.stdout if stream is None else stream):
            columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
        else:
            columns = DEFAULT_WIDTH
    return max(columns, MIN_WIDTH)
