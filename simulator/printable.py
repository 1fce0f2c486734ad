"""Text from a design made safe to show: no control character reaches a terminal, a page or a diagram.

Names come from other people's designs. :func:`printable` shows every character that could
act instead of being read (C0/C1 controls such as ESC and NUL, DEL, line and paragraph
separators, bidirectional overrides, lone surrogates, non-characters) as a visible escape
(``\\x1b``, ``\\n``, ``\\u202e``); everything else, including non-ASCII letters, is kept.
Every human output calls it on text that holds names: the terminal tables (through
:func:`simulator.render.text.printable_renderable`), trace text and messages, the HTML report, DOT and Mermaid.
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "printable"]

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
    for text that is meant to span lines). Text without such characters comes back unchanged: every
    unsafe character is one ``str.isprintable`` refuses (controls, separators, the bidirectional
    marks and overrides are "Other" or "Separator" in Unicode; surrogates and non-characters too)."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) if ch not in keep and _unsafe(ch) else ch for ch in text)
