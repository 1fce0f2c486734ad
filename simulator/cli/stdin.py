"""``-`` as DESIGN: the design is read from standard input, once, and named ``<stdin>``.

    cat designs/shop.yaml | netsim reach -
    netsim check - < compose.yaml

The CLI reads standard input when it parses the argument and keeps the bytes in an anonymous
in-memory file.  The argument then becomes a :class:`StdinPath`: a path whose text (what
every message shows, ``<stdin>:12:5: ...``) is ``<stdin>`` and whose file-system path (what
``open``, ``exists`` and ``stat`` use) is that in-memory file.  So every loader reads it like
any other file, as often as it needs to, and no loader knows about standard input.

Only one argument of a command can be ``-`` (``netsim diff - -`` is refused: standard input
holds one design).
"""

from __future__ import annotations

import os
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path, PosixPath

import typer

NAME = "<stdin>"
MAX_BYTES = 16 * 1024 * 1024  # larger than the loaders' limit, so their own message applies


class StdinPath(PosixPath):
    """A design read from standard input: shown as ``<stdin>``, opened through an in-memory file."""

    _fd_path: str | None = None  # set by read_stdin_design; paths derived from this one have none

    def __fspath__(self) -> str:
        return self._fd_path if self._fd_path is not None else super().__fspath__()


def _keep(data: bytes) -> tuple[str, Callable[[], None]]:
    """Store ``data`` in an anonymous file; return a path that opens it and a cleanup."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("netsim-stdin", 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return f"/proc/self/fd/{fd}", lambda: os.close(fd)
    with tempfile.NamedTemporaryFile(prefix="netsim-stdin-", suffix=".yaml", delete=False) as handle:
        handle.write(data)
    return handle.name, lambda: os.unlink(handle.name)


def read_stdin_design(stream=None) -> StdinPath:
    """Read standard input (at most :data:`MAX_BYTES` + 1 bytes) into a :class:`StdinPath`."""
    if stream is None:  # the binary side of standard input (the test runner replaces sys.stdin too)
        stream = getattr(sys.stdin, "buffer", sys.stdin)
    if stream is None:
        raise typer.BadParameter("'-' reads the design from standard input, which is closed")
    try:
        if stream.isatty():
            typer.echo("netsim: reading the design from standard input (end it with Ctrl-D)", err=True)
    except (AttributeError, ValueError, OSError):
        pass
    try:
        data = stream.read(MAX_BYTES + 1) or b""
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the design from standard input: {getattr(exc, 'strerror', None) or exc}") from exc
    if isinstance(data, str):  # a text stream without a binary side
        data = data.encode("utf-8")
    path = StdinPath(NAME)
    fd_path, cleanup = _keep(data)
    path._fd_path = fd_path
    weakref.finalize(path, cleanup)
    return path


def is_stdin(path: object) -> bool:
    return isinstance(path, StdinPath)


def design_argument(ctx: typer.Context, value: Path | None) -> Path | None:
    """Parameter callback for a DESIGN argument: ``-`` reads the design from standard input."""
    if value is None or str(value) != "-":
        return value
    if ctx.resilient_parsing:  # shell completion: read nothing
        return value
    if any(is_stdin(v) for v in ctx.params.values()):
        raise typer.BadParameter("only one design can come from standard input ('-'); give the other one as a file")
    return read_stdin_design()
