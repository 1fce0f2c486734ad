"""Plain text tables in time linear in their rows, printed as they go.

The look is the one rich gives our tables (``rich.table.Table`` with its default heavy-headed box,
padding of one space, the header in bold and bottom-aligned, the title in italic): a table that
fits in :data:`SAMPLE` rows comes out byte for byte as rich lays it out, colour codes included
(tests/unit/test_plain_tables.py holds the two side by side on random tables and on every bundled
design). Rich measures and wraps each cell through several layers of objects, about 3 ms a row;
this module does the same arithmetic on strings, some microseconds a row.

The rules, as rich applies them (rich/table.py, rich/_wrap.py, rich/text.py):

* a column is as wide as its widest line plus its padding (at least ``min_width`` plus the padding);
* a table wider than the width narrows its widest wrapping columns first, down to the next widest,
  then, if that is not enough, every column evenly; lines wider than the width are cut at it;
* a cell wraps at spaces; a word longer than its column folds; a ``no_wrap`` column keeps one line
  and ends a cut cell with "…"; ``justify`` is left, right or center;
* the title wraps at the table's width.

A table of more than :data:`SAMPLE` rows is laid out from its first :data:`SAMPLE` rows and the
rest stream through those widths: memory does not grow with the rows. A later cell wider than its
column wraps (in a ``no_wrap`` column too: nothing is cut short).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from ..printable import BIDI_CONTROLS, printable

__all__ = ["SAMPLE", "UNLIMITED", "Column", "Styled", "Table", "render", "text_lines"]

SAMPLE = 2000  # rows laid out together (exactly as rich would); later rows stream through their widths
UNLIMITED = 10_000  # the width of "no limit" (--wide): wide enough that nothing wraps
_CHUNK = 400  # lines handed to the caller at a time

# rich's default box for tables (box.HEAVY_HEAD)
_TOP = ("┏", "━", "┳", "┓")
_HEAD_SEP = ("┡", "━", "╇", "┩")
_BOTTOM = ("└", "─", "┴", "┘")
_HEAD_BAR = "┃"
_BAR = "│"
_HEADER_STYLE = "bold"
_TITLE_STYLE = "italic"

_WORD = re.compile(r"\s*\S+\s*")
# what printable() escapes beyond what str.isprintable() refuses: bidirectional controls, non-characters
_ESCAPED_TOO = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "\ufdd0-\ufdef"
                          + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)) + "]")
_TRAILING_SPACE = re.compile(r"\s+$")


class Styled(NamedTuple):
    """A cell's text in a style rich names ("green", "bold red"); shown in it only with colour."""

    text: str
    style: str


Cell = str | Styled


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    justify: str = "left"  # left | right | center
    no_wrap: bool = False  # one line, cut with "…" (streamed rows past the sample wrap instead)
    min_width: int | None = None


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    title: str | None = None
    title_justify: str = "center"


# --- cells of text -------------------------------------------------------------------------

def _cells(text: str) -> int:
    """Terminal cells ``text`` takes (wide characters count two)."""
    if text.isascii() or _NARROW.issuperset(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _fit(text: str, total: int) -> str:
    """``text`` cut or padded with spaces to ``total`` cells."""
    if text.isascii():
        return text[:total] if len(text) >= total else text + " " * (total - len(text))
    from rich.cells import set_cell_size

    return set_cell_size(text, total)


# Characters a cell wide, as rich counts them: its own single-cell ranges (rich/cells.py), the box and
# the marks the tables use; text of these alone is measured by len().
_NARROW = frozenset(chr(c) for start, end in ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482),
                                              (0x2500, 0x25FC)) for c in range(start, end + 1)) | frozenset("✔✘→…")


# Characters that reach the terminal as they are and take a cell each: text of these alone is measured,
# cut and padded as ASCII is (by len() and slicing).
_PLAIN = frozenset(c for c in _NARROW if c.isprintable() and not _ESCAPED_TOO.match(c))


def _cut(line: str, width: int) -> str:
    """A line wider than ``width`` cut at it."""
    return line[:width] if _NARROW.issuperset(line) else _fit(line, width)


def _chop(word: str, width: int) -> list[str]:
    if word.isascii() or _NARROW.issuperset(word):
        return [word[i:i + width] for i in range(0, len(word), width)]
    from rich.cells import chop_cells

    return chop_cells(word, width)


def _breaks(line: str, width: int, fold: bool) -> list[int]:
    """Where ``line`` breaks to fit ``width`` cells: at the start of a word that does not fit
    (a word keeps the spaces after it), inside a word longer than a whole line when ``fold``."""
    cells = len if line.isascii() or _NARROW.issuperset(line) else _cells
    breaks: list[int] = []
    used = 0
    for match in _WORD.finditer(line):
        start, word = match.start(), match.group()
        length = cells(word.rstrip())
        if width - used >= length:
            used += cells(word)
        elif length > width:
            if fold:
                pieces = _chop(word, width)
                for piece in pieces[:-1]:
                    if start:
                        breaks.append(start)
                    start += len(piece)
                if start:
                    breaks.append(start)
                used = cells(pieces[-1])
            else:
                if start:
                    breaks.append(start)
                used = cells(word)
        elif used and start:
            breaks.append(start)
            used = cells(word)
    return breaks


def _truncate(text: str, width: int, ellipsis: bool, pad: bool) -> str:
    length = _cells(text)
    if length > width:
        return _fit(text, width - 1) + "…" if ellipsis else _fit(text, width)
    if pad and length < width:
        return text + " " * (width - length)
    return text


def _justify(piece: str, width: int, justify: str, ellipsis: bool) -> str:
    if justify == "left":
        return _truncate(piece, width, ellipsis, pad=True)
    if justify == "default":
        return _truncate(piece, width, ellipsis, pad=False)
    piece = _truncate(piece.rstrip(), width, ellipsis, pad=False)
    room = width - _cells(piece)
    if justify == "right":
        return " " * room + piece if room > 0 else piece
    left = room // 2 if room > 0 else 0
    return " " * left + piece + " " * max(0, room - left)


@lru_cache(maxsize=16384)  # tables repeat their cells (reasons, routes, ports): each is wrapped once
def _wrap(text: str, width: int, justify: str, no_wrap: bool, ellipsis: bool) -> tuple[str, ...]:
    """``text`` in lines of at most ``width`` cells (exactly ``width`` unless ``justify`` is "default")."""
    out: list[str] = []
    for line in text.split("\n"):
        if no_wrap:
            pieces = [line]
        else:
            at = _breaks(line, width, fold=not ellipsis)
            if not at:
                pieces = [line]
            else:
                pieces = [line[a:b] for a, b in zip([0, *at], [*at, len(line)], strict=True)]
                for i, piece in enumerate(pieces):
                    if len(piece) > width and (space := _TRAILING_SPACE.search(piece)):
                        cut = min(len(space.group()), len(piece) - width)
                        pieces[i] = piece[:len(piece) - cut]
        if justify == "left" and (line.isascii() or _NARROW.issuperset(line)):  # the usual case: a cell a character
            for piece in pieces:
                length = len(piece)
                if length < width:
                    out.append(piece + " " * (width - length))
                elif length > width:
                    out.append(piece[:width - 1] + "…" if ellipsis else piece[:width])
                else:
                    out.append(piece)
            continue
        for piece in pieces:
            out.append(_truncate(_justify(piece, width, justify, ellipsis), width, ellipsis, pad=False))
    return tuple(out)


class _Cell(NamedTuple):
    text: str  # escaped: no control character reaches the terminal
    style: str | None
    widest: int  # cells of its widest line


@lru_cache(maxsize=16384)  # tables repeat their cells (targets, ports, outcomes, reasons): each is measured once
def _cell(value: Cell) -> _Cell:
    text, style = (value.text, value.style) if isinstance(value, Styled) else (value, None)
    if type(text) is not str:  # a str enum (Via) shows its value, as rich shows it
        text = str.__str__(text)
    if (text.isascii() and text.isprintable()) or _PLAIN.issuperset(text):  # the usual case: nothing to escape,
        return _Cell(text, style, len(text))  # one line, a cell a character
    if not text.isprintable() or _ESCAPED_TOO.search(text):
        text = printable(text, keep="\n")
    if "\n" in text:
        return _Cell(text, style, max(map(_cells, text.split("\n"))))
    return _Cell(text, style, _cells(text))


# --- colour ----------------------------------------------------------------------------------

_ANSI: dict[str, tuple[str, str]] = {}


def _codes(style: str) -> tuple[str, str]:
    """The escape codes rich writes before and after text in ``style`` (its standard 8 colours)."""
    if style not in _ANSI:
        from rich.color import ColorSystem
        from rich.style import Style

        before, _, after = Style.parse(style).render("\0", color_system=ColorSystem.STANDARD).partition("\0")
        _ANSI[style] = (before, after)
    return _ANSI[style]


def _paint(text: str, style: str | None, color: bool) -> str:
    if not (color and style and text):
        return text
    before, after = _codes(style)
    return before + text + after


# --- column widths ---------------------------------------------------------------------------

def _reduce(total: int, ratios: list[int], most: list[int], values: list[int]) -> list[int]:
    """Take ``total`` from ``values`` in proportion to ``ratios``, at most ``most`` from each."""
    ratios = [r if m else 0 for r, m in zip(ratios, most, strict=True)]
    left_ratio = sum(ratios)
    if not left_ratio:
        return list(values)
    left = total
    out = []
    for ratio, limit, value in zip(ratios, most, values, strict=True):
        if ratio and left_ratio > 0:
            take = min(limit, round(ratio * left / left_ratio))
            out.append(value - take)
            left -= take
            left_ratio -= ratio
        else:
            out.append(value)
    return out


def _narrow(widths: list[int], wrapping: list[bool], room: int) -> list[int]:
    """Narrow the widest wrapping columns, one width step at a time, until the table fits ``room``."""
    total = sum(widths)
    excess = total - room
    if not any(wrapping):
        return widths
    while total and excess > 0:
        widest = max(w for w, ok in zip(widths, wrapping, strict=True) if ok)
        next_widest = max(w if ok and w != widest else 0 for w, ok in zip(widths, wrapping, strict=True))
        ratios = [1 if (w == widest and ok) else 0 for w, ok in zip(widths, wrapping, strict=True)]
        if not any(ratios) or widest == next_widest:
            break
        widths = _reduce(excess, ratios, [min(excess, widest - next_widest)] * len(widths), widths)
        total = sum(widths)
        excess = total - room
    return widths


def _column_width(widest: int, least: int | None, room: int) -> int:
    """A column's width (padding included) given its widest line, its minimum and ``room`` cells."""
    if room < 1:
        return 0
    width = room if room < 3 else min(widest + 2, room)
    return max(width, least + 2) if least is not None else width


def _widths(columns: Sequence[Column], widest: list[int], room: int) -> list[int]:
    widths = [_column_width(w, c.min_width, room) or 1 for c, w in zip(columns, widest, strict=True)]
    if sum(widths) > room:
        widths = _narrow(widths, [not c.no_wrap for c in columns], room)
        if sum(widths) > room:
            widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        widths = [_column_width(w, c.min_width, width) for c, w, width in zip(columns, widest, widths, strict=True)]
    return widths


# --- lines -----------------------------------------------------------------------------------

def _crop(parts: list[tuple[str, str | None]], width: int, color: bool) -> str:
    """One output line from its (text, style) parts: cut at ``width`` cells, spaces at its end dropped."""
    out = []
    used = 0
    for text, style in parts:
        length = _cells(text)
        if used + length < width:
            out.append(_paint(text, style, color))
            used += length
        else:
            out.append(_paint(_fit(text, width - used), style, color))
            break
    return "".join(out).rstrip()


def text_lines(text: str, style: str | None = None, *, width: int | None, color: bool,
               justify: str = "default", crop: int | None = None) -> list[str]:
    """Text (a heading) as rich prints it ``width`` columns wide: wrapped at spaces, words longer
    than a line folded, each line cut at ``crop`` cells (default: ``width``)."""
    width = width or UNLIMITED
    return [_crop([(line, style)], crop or width, color)
            for line in _wrap(printable(text, keep="\n"), width, justify, False, False)]


def _inner_lines(cell: _Cell, column: Column, inner: int, late: bool) -> Sequence[str]:
    """A cell's lines inside its padding, each ``inner`` cells wide."""
    justify = column.justify
    if cell.widest <= inner and "\n" not in cell.text:  # the usual case: one line, room to spare
        text = cell.text
        if justify == "left":
            return [text + " " * (inner - cell.widest)]
        stripped = text.rstrip()
        room = inner - (cell.widest if len(stripped) == len(text) else _cells(stripped))
        text = stripped
        if justify == "right":
            return [" " * room + text]
        return [" " * (room // 2) + text + " " * (room - room // 2)]
    if late and column.no_wrap and cell.widest > inner:  # past the sample: fold rather than cut
        return _wrap(cell.text, inner, justify, False, False)
    return _wrap(cell.text, inner, justify, column.no_wrap, ellipsis=column.no_wrap)


def _row_parts(cells: Sequence[_Cell], columns: Sequence[Column], widths: list[int], header: bool,
               late: bool) -> list[list[tuple[str, str | None]]]:
    """The lines of one row, each as (text, style) parts: bars, padding and the cells' lines."""
    style = _HEADER_STYLE if header else None
    bar = (_HEAD_BAR if header else _BAR, None)
    shaped = [_inner_lines(cell, column, width - 2, late) if width >= 3 else []
              for cell, column, width in zip(cells, columns, widths, strict=True)]
    height = max(1, *map(len, shaped))
    out = []
    for i in range(height):
        parts: list[tuple[str, str | None]] = [bar]
        for lines, cell, width in zip(shaped, cells, widths, strict=True):
            at = i - (height - len(lines)) if header else i  # a header is aligned to the bottom
            if width < 3:  # no room inside the padding: rich shows blanks
                parts.append((" " * width, style))
            elif 0 <= at < len(lines):
                parts += [(" ", style), (lines[at], style or cell.style), (" ", style)]
            else:
                parts.append((" " * width, style))
            parts.append(bar)
        out.append(parts)
    return out


def _row_lines(cells: Sequence[_Cell], columns: Sequence[Column], widths: list[int], header: bool,
               late: bool, color: bool) -> list[str]:
    """The lines of one row, as wide as the table (the caller cuts them to the width when it is less)."""
    if header or min(widths) < 3:
        return ["".join(_paint(text, style, color) for text, style in parts)
                for parts in _row_parts(cells, columns, widths, header, late)]
    # each cell's lines as _inner_lines shapes them (its usual case inline), painted when coloured
    shaped: list[Sequence[str]] = []
    for cell, column, width in zip(cells, columns, widths, strict=True):
        text, style, widest = cell
        inner = width - 2
        justify = column.justify
        if widest <= inner and "\n" not in text and (justify == "left" or (justify == "right" and not text[-1:].isspace())):
            # one line, room to spare (a right-justified one with no white space at its end to strip)
            lines: Sequence[str] = (text + " " * (inner - widest),) if justify == "left" else (" " * (inner - widest) + text,)
        else:
            lines = _inner_lines(cell, column, inner, late)
        if color and style:
            before, after = _codes(style)
            lines = [before + line + after if line else line for line in lines]
        shaped.append(lines)
    height = max(map(len, shaped))
    if height == 1:
        return ["│ " + " │ ".join([lines[0] for lines in shaped]) + " │"]
    blocks = [lines if len(lines) == height else [*lines, *[" " * (width - 2)] * (height - len(lines))]
              for lines, width in zip(shaped, widths, strict=True)]
    return ["│ " + " │ ".join(line) + " │" for line in zip(*blocks, strict=True)]


def _rule(ends: tuple[str, str, str, str], widths: list[int]) -> str:
    left, fill, cross, right = ends
    return left + cross.join(fill * w for w in widths) + right


def render(table: Table, rows: Iterable[Sequence[Cell]], *, width: int | None, color: bool,
           sample: int = SAMPLE) -> Iterator[str]:
    """The table as text, ``width`` columns wide (None: as wide as its content), a few hundred
    lines at a time; every line ends with a newline."""
    columns = table.columns
    limit = width or UNLIMITED
    rows = iter(rows)
    first = [tuple(map(_cell, row)) for row in islice(rows, sample)]
    more = next(rows, None)
    if more is not None:
        first.append(tuple(map(_cell, more)))
    headers = [_cell(c.header) for c in columns]
    widest = [h.widest for h in headers]
    if first:  # column by column (zip's ValueError: a row not of one cell a column)
        widest = [max(w, *(c.widest for c in column_cells))
                  for w, column_cells in zip(widest, zip(*first, strict=True), strict=True)]
    edges = 2 + len(columns) - 1
    widths = _widths(columns, widest, limit - edges)
    table_width = sum(widths) + edges

    if table_width <= limit:  # every line is as wide as the table: none is cut
        def lines(cells: Sequence[_Cell], header: bool = False, late: bool = False) -> list[str]:
            return _row_lines(cells, columns, widths, header, late, color)  # (each ends with a bar: nothing to strip)

        def rule(ends: tuple[str, str, str, str]) -> str:
            return _rule(ends, widths)
    elif not color:  # cut at the width (rich cuts the lines a table wider than the terminal)
        def lines(cells: Sequence[_Cell], header: bool = False, late: bool = False) -> list[str]:
            return [_cut(line, limit).rstrip() for line in _row_lines(cells, columns, widths, header, late, False)]

        def rule(ends: tuple[str, str, str, str]) -> str:
            return _cut(_rule(ends, widths), limit).rstrip()
    else:  # cut at the width, the colour codes of the part cut kept
        def lines(cells: Sequence[_Cell], header: bool = False, late: bool = False) -> list[str]:
            return [_crop(parts, limit, color) for parts in _row_parts(cells, columns, widths, header, late)]

        def rule(ends: tuple[str, str, str, str]) -> str:
            return _crop([(_rule(ends, widths), None)], limit, color)

    out: list[str] = []
    if table.title:
        out += text_lines(table.title, _TITLE_STYLE, width=table_width, color=color, justify=table.title_justify,
                          crop=limit)
    out.append(rule(_TOP))
    out += lines(headers, header=True)
    out.append(rule(_HEAD_SEP))
    for cells in first:
        out += lines(cells)
        if len(out) >= _CHUNK:
            yield "\n".join(out) + "\n"
            out = []
    del first
    for later in rows:
        out += lines(tuple(map(_cell, later)), late=True)
        if len(out) >= _CHUNK:
            yield "\n".join(out) + "\n"
            out = []
    out.append(rule(_BOTTOM))
    yield "\n".join(out) + "\n"
