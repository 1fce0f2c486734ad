"""The plain renderer's fast paths lay tables out as its general steps (and rich) do.

Text of characters a cell wide is measured, wrapped and padded by len() and slicing, whether it is
ASCII or not ("×", "é", "✔"); a row's lines are put together (and coloured) without the per-part
steps; cells are measured once and remembered. Each of these must give the bytes the general way
gives: a narrow non-ASCII character lays out as an ASCII one, wide and escaped characters as rich
lays them out.
"""

from __future__ import annotations

import enum
import io
import random

import pytest
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from simulator.render import plain
from simulator.render.plain import Column, Styled, Table, render

WIDTHS = [None, 9, 24, 57, 100]  # (9: narrower than rich keeps to our layout; not compared with it)
RICH_WIDTHS = [None, 30, 57, 100]


def _table(rng: random.Random, letters: str) -> tuple[Table, list[tuple]]:
    """A random table whose cells are words of ``letters`` (headers and title of "h" alone)."""
    def words() -> str:
        text = " ".join("".join(rng.choice(letters) for _ in range(rng.choice([1, 2, 5, 12, 30])))
                        for _ in range(rng.choice([0, 1, 2, 4, 9])))
        return text + ("\n" + words() if rng.random() < 0.1 else "")

    n = rng.randint(1, 6)
    columns = tuple(Column("h" * rng.randint(1, 6), justify=rng.choice(["left", "left", "right", "center"]),
                           no_wrap=rng.random() < 0.3, min_width=rng.choice([None, None, 3, 9])) for _ in range(n))
    rows = [tuple(Styled(words(), rng.choice(["green", "bold red"])) if rng.random() < 0.3 else words()
                  for _ in range(n)) for _ in range(rng.randint(0, 6))]
    return Table(columns, rng.choice([None, "hh hhh " * rng.randint(1, 9)]), rng.choice(["left", "center"])), rows


def _drawn(table: Table, rows: list[tuple], width: int | None, color: bool, sample: int = plain.SAMPLE) -> str:
    return "".join(render(table, rows, width=width, color=color, sample=sample))


def _swap(value, old: str, new: str):
    if isinstance(value, Styled):
        return Styled(value.text.replace(old, new), value.style)
    return value.replace(old, new)


@pytest.mark.parametrize("narrow", ["×", "é", "✔", "…", "━"])
@pytest.mark.parametrize("color", [False, True])
def test_narrow_characters_lay_out_as_ascii_ones(narrow, color):
    """The same table with "x" for a narrow non-ASCII character: the same layout, that character for "x"."""
    for seed in range(120):
        table, rows = _table(random.Random(seed), "xy-")
        swapped = [tuple(_swap(cell, "x", narrow) for cell in row) for row in rows]
        for width in WIDTHS:
            for sample in (plain.SAMPLE, 2):  # laid out together, and streamed past two rows
                want = _drawn(table, rows, width, color, sample).replace("x", narrow)
                assert _drawn(table, swapped, width, color, sample) == want, f"seed {seed} width {width}"


def _rich(table: Table, rows: list[tuple], width: int | None, color: bool) -> str:
    """The table as rich lays it out (as tests/unit/test_plain_tables.py asks it)."""
    ref = RichTable(title=table.title, title_justify=table.title_justify, show_lines=False, expand=False)
    for c in table.columns:
        ref.add_column(c.header, justify=c.justify, min_width=c.min_width,
                       **({"no_wrap": True} if c.no_wrap else {"overflow": "fold"}))
    for row in rows:
        ref.add_row(*(Text(x.text, style=x.style) if isinstance(x, Styled) else x for x in row))
    buf = io.StringIO()
    Console(file=buf, force_terminal=color, color_system="standard" if color else None, width=width or plain.UNLIMITED,
            no_color=not color, highlight=False, soft_wrap=False, legacy_windows=False, emoji=False,
            markup=False).print(ref)
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


@pytest.mark.parametrize("letters", ["ab×é", "ab漢", "a✔→…", "aé漢✔"])
def test_mixed_characters_lay_out_as_rich_does(letters):
    """Narrow, wide and ASCII characters together, in every cell: rich's layout, byte for byte."""
    for seed in range(60):
        rng = random.Random(seed)
        table, rows = _table(rng, letters)
        for width in RICH_WIDTHS:
            color = rng.random() < 0.5
            assert _drawn(table, rows, width, color) == _rich(table, rows, width, color), f"seed {seed} width {width}"


class _Way(enum.StrEnum):
    IP = "ip"


def test_remembered_cells_give_what_fresh_ones_do():
    """A cell met again (the same text, a str enum and its value, escaped text) draws as it did the first time."""
    table = Table((Column("via"), Column("what", justify="right")), "t")
    rows = [(_Way.IP, "a\x1bb"), ("ip", Styled("a\x1bb", "green")), (Styled(_Way.IP, "red"), "a\u202eb"),
            ("ip ×", "✔ ok")]
    draws = [(width, color) for width in WIDTHS for color in (False, True)]
    fresh = []
    for width, color in draws:
        plain._cell.cache_clear()
        fresh.append(_drawn(table, rows, width, color))
    assert [_drawn(table, rows, width, color) for width, color in draws] == fresh
    assert _drawn(table, rows[::-1], None, False).count("ip") == 4
    assert "\\x1b" in fresh[0] and "\x1b" not in fresh[0]
