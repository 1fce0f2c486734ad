"""Text renderers' share of :mod:`simulator.printable`: the same escaping for rich renderables.

:func:`printable` itself lives in :mod:`simulator.printable`, below the loaders, whose messages
use it too; it is re-exported here for the renderers.
"""

from __future__ import annotations

from ..printable import BIDI_CONTROLS, printable

__all__ = ["BIDI_CONTROLS", "printable", "printable_renderable"]


def printable_renderable(renderable):
    """A rich renderable whose text segments pass through :func:`printable` (newlines kept):
    names in a table cannot move the cursor, change colours or clear the screen. Rich's own
    styling is not text, so it is untouched; a cell holding an escape may come out a little wider."""
    from rich.segment import Segment

    class _Printable:
        def __rich_console__(self, console, options):
            for segment in console.render(renderable, options):
                if segment.control or segment.text.isprintable() or segment.text == "\n":
                    yield segment
                else:
                    yield Segment(printable(segment.text, keep="\n"), segment.style, segment.control)

    return _Printable()
