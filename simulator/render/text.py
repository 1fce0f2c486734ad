"""Text from a design made safe to show: no control character reaches a terminal, a page or a diagram.

Names come from other people's designs. :func:`printable` shows every character that could
act instead of being read (C0/C1 controls such as ESC and NUL, DEL, line and paragraph
separators, bidirectional overrides, lone surrogates, non-characters) as a visible escape
(``\\x1b``, ``\\n``, ``\\u202e``); everything else, including non-ASCII letters, is kept.
Every human output calls it on text that holds names: the terminal tables (through
:func:`printable_renderable`), trace text and messages, the HTML report, DOT and Mermaid.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["printable", "printable_renderable", "BIDI_CONTROLS"]

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _unsafe(ch: str) -> bool:
    if ch in BIDI_CONTROLS:
        return True
    code = ord(ch)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:  # non-characters (XML and Graphviz refuse them)
        return True
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, keep: str = "") -> str:
    """``text`` with every unsafe character escaped (``keep``: characters to leave, e.g. ``"\\n"``
    for text that is meant to span lines). Text without such characters comes back unchanged."""
    if text.isprintable() and not BIDI_CONTROLS.intersection(text) and not _has_noncharacter(text):
        return text
    return "".join(_escape(ch) if ch not in keep and _unsafe(ch) else ch for ch in text)


_NONCHAR = re.compile("[\ufdd0-\ufdef\ufffe\uffff]")


def _has_noncharacter(text: str) -> bool:
    return bool(_NONCHAR.search(text)) or (not text.isascii() and any(ord(ch) & 0xFFFE == 0xFFFE for ch in text))


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
