"""Progress of deploy/verify on standard error, one phase at a time.

On a terminal: one rich progress bar per phase.  Anywhere else (a CI log, a pipe, a file,
``TERM=dumb``): one plain line per finished phase with its count and duration, e.g.
``verify: containers 8/8 in 3.1s``, printed as it finishes, so a slow run shows where
it is instead of printing nothing until the end.  :meth:`note` says something at once
(``verify: building the probe image netsim-probe:1 ...``).  Thread-safe: phases advance
from worker threads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import TaskID


def _is_terminal(stream: IO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "").strip().lower() != "dumb"
    except (AttributeError, ValueError, OSError):
        return False


class PlainProgress:
    """One line per finished phase: ``COMMAND: PHASE DONE/TOTAL in 1.2s``."""

    def __init__(self, command: str, stream: IO | None = None, clock=time.monotonic):
        self.command, self.stream, self.clock = command, stream, clock
        self.lock = threading.Lock()
        self.phase: str | None = None
        self.total = self.done = 0
        self.started = 0.0

    def _out(self) -> IO:
        return self.stream if self.stream is not None else sys.stderr

    def _line(self, text: str) -> None:
        try:
            self._out().write(f"{self.command}: {text}\n")
            self._out().flush()
        except (OSError, ValueError):  # a closed stderr must not break the run
            pass

    def _finish(self) -> None:
        if self.phase is not None:
            self._line(f"{self.phase} {self.done}/{self.total} in {self.clock() - self.started:.1f}s")
            self.phase = None

    def start(self, phase: str, total: int) -> None:
        with self.lock:
            self._finish()
            self.phase, self.total, self.done, self.started = phase, max(total, 0), 0, self.clock()

    def advance(self, n: int = 1) -> None:
        with self.lock:
            self.done += n

    def note(self, text: str) -> None:
        with self.lock:
            self._line(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        with self.lock:
            self._finish()
        return False


class BarProgress:
    """One rich progress bar per phase (a terminal)."""

    def __init__(self, command: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.command = command
        from .terminal import use_color

        self.console = Console(stderr=True, no_color=not use_color(None, sys.stderr))
        self.progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.task: TaskID | None = None

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def start(self, phase: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.task = self.progress.add_task(phase, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def note(self, text: str) -> None:
        self.progress.console.print(f"{self.command}: {text}", markup=False, highlight=False)


def phase_progress(command: str, stream: IO | None = None):
    """Bars on a terminal, plain lines elsewhere (see the module's docstring)."""
    target = stream if stream is not None else sys.stderr
    return BarProgress(command) if _is_terminal(target) else PlainProgress(command, stream)
