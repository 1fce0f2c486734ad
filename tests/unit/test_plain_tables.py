"""The plain table renderer (simulator/render/plain.py) against rich, whose look it keeps.

Rich stays the reference: each test lays out the same table with ``rich.table.Table`` (as
render/tables.py did before issue 12) and asks for the same bytes, on random tables and on every
table of the bundled designs, with and without colour, narrow, normal and wide. Past
:data:`~simulator.render.plain.SAMPLE` rows a table streams: its rows are read as they are
printed, and nothing of a later, wider cell is cut.
"""

from __future__ import annotations

import io
import random
from itertools import count
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from simulator.analysis.addressing import compute_addressing
from simulator.analysis.exposure import exposure_groups, exposure_proofs
from simulator.analysis.reachability import reach_of
from simulator.pipeline import load
from simulator.render import plain, tables
from simulator.render.plain import Column, Styled, Table, render, text_lines

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs/compose-shop/compose.yaml"]


def _console(width: int | None, color: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=color, color_system="standard" if color else None,
                   width=width or plain.UNLIMITED, no_color=not color, highlight=False, soft_wrap=False,
                   legacy_windows=False, emoji=False, markup=False), buf


def _stripped(buf: io.StringIO) -> str:
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())


def rich_render(table: Table, rows, *, width: int | None, color: bool, sample: int = 0):
    """The table as rich lays it out (the reference)."""
    ref = RichTable(title=table.title, title_justify=table.title_justify, show_lines=False, expand=False)
    for c in table.columns:
        ref.add_column(c.header, justify=c.justify, min_width=c.min_width,
                       **({"no_wrap": True} if c.no_wrap else {"overflow": "fold"}))
    for row in rows:
        ref.add_row(*(Text(x.text, style=x.style) if isinstance(x, Styled) else str.__str__(x) for x in row))
    console, buf = _console(width, color)
    console.print(ref)
    yield _stripped(buf)


def rich_text_lines(text: str, style: str | None = None, *, width: int | None, color: bool, **_) -> list[str]:
    console, buf = _console(width, color)
    console.print(Text(text, style=style or ""))
    return buf.getvalue() and _stripped(buf).splitlines()


WORDS = ["a", "ab", "proxy", "delivered", "bridged on", "br-frontend", "10.20.1.2/24", "✔ app", "✘ dropped", "…", "-",
         "DOCKER-ISOLATION-STAGE-2", "a-word-longer-than-any-column-of-a-table-0123456789", "80/tcp", "", "  ", "café"]


def _words(rng: random.Random) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 9, 14])))
    if rng.random() < 0.1:
        text += "\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
    return text


def _random_table(seed: int):
    rng = random.Random(seed)
    n = rng.randint(1, 9)
    columns = tuple(Column(_words(rng) or "h", justify=rng.choice(["left", "left", "right", "center"]),
                           no_wrap=rng.random() < 0.3, min_width=rng.choice([None, None, 3, 9, 12, 39])) for _ in range(n))
    rows = [tuple(Styled(_words(rng), rng.choice(["green", "bold red", "yellow"])) if rng.random() < 0.2 else _words(rng)
                  for _ in range(n)) for _ in range(rng.randint(0, 8))]
    title = rng.choice([None, "t", "from proxy: 3 containers alike (a … b)", "design: addressing " * rng.randint(1, 6)])
    return Table(columns, title, rng.choice(["left", "center"])), rows, rng.choice([None, 30, 40, 60, 80, 100, 200]), rng.random() < 0.3


@pytest.mark.parametrize("chunk", range(6))
def test_random_tables_as_rich_lays_them_out(chunk):
    for seed in range(chunk * 150, (chunk + 1) * 150):
        table, rows, width, color = _random_table(seed)
        got = "".join(render(table, rows, width=width, color=color))
        assert got == "".join(rich_render(table, rows, width=width, color=color)), f"seed {seed}"


@pytest.mark.parametrize("width", [None, 20, 57, 100])
@pytest.mark.parametrize("color", [False, True])
def test_text_lines_as_rich_prints_them(width, color):
    text = "compose-shop: nothing is reachable from outside its own networks " * 3 + "a-word-longer-than-twenty-cells-0123456789"
    assert text_lines(text, "bold", width=width, color=color) == rich_text_lines(text, "bold", width=width, color=color)


def _bundled_tables(path: Path, width: int | None, color: bool) -> dict[str, str]:
    world = load(path).world()
    result = reach_of(world)
    name = world.design.name
    proofs = exposure_proofs(result)
    by_source: dict[str, list] = {}
    for g in result.groups():
        by_source.setdefault(g.source_class, []).append(g)
    return {
        "summary": "".join(tables.reach_summary(result, k, v, color, width) for k, v in by_source.items()),
        "groups": "".join(tables.reach_groups_table(result, k, v, color, width) for k, v in by_source.items()),
        "every probe": "".join(tables.reach_probe_tables(result, result.iter_probes(), color, width)),
        "reach table": tables.reach_table(result, color, width=width),
        "matrix": tables.reach_matrix(result, color, width),
        "exposure": tables.exposure_table(name, [x.exposure for x in proofs], color, width),
        "exposure by class": tables.exposure_group_table(name, exposure_groups(result, proofs), color, width),
        "addressing": tables.addressing_table(name, compute_addressing(world), color, width),
    }


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_designs_tables_are_rich_s(path, monkeypatch):
    for width, color in ((100, False), (40, True), (None, False)):
        with monkeypatch.context() as m:
            m.setattr(tables, "render", rich_render)
            m.setattr(tables, "text_lines", rich_text_lines)
            want = _bundled_tables(path, width, color)
        got = _bundled_tables(path, width, color)
        for name, text in want.items():
            assert got[name] == text, f"{path.name} {name} width={width} color={color}"


def test_long_tables_stream_their_rows():
    """Rows are read as they are printed (a bounded number ahead), whatever the table's length."""
    read = count()

    def rows():
        for i in range(plain.SAMPLE * 4):
            next(read)
            yield (str(i), "delivered: bridged on br-frontend")

    chunks = render(Table((Column("n", justify="right", no_wrap=True), Column("reason"))), rows(), width=60, color=False)
    first = next(chunks)
    assert first.startswith("┏")
    ahead = next(read)
    assert ahead <= plain.SAMPLE + 2
    lines = 0
    for chunk in chunks:
        lines += chunk.count("\n")
        assert next(read) - ahead <= lines + plain.SAMPLE + 2  # never much more read than printed
    assert lines + first.count("\n") == plain.SAMPLE * 4 + 4  # top rule, header, rule, a line a row, bottom rule


def test_later_wider_cells_fold_and_lose_nothing():
    """Past the sample the widths are fixed: a wider cell of a no_wrap column folds instead of being cut."""
    wide = "10.200.300.400/24-an-address-far-wider-than-the-sample"
    rows = [("a", "1.2.3.4")] * 3 + [("b", wide)]
    table = Table((Column("n"), Column("address", no_wrap=True)))
    text = "".join(render(table, rows, width=100, color=False, sample=2))
    cells = "".join(line.split("│")[2].strip() for line in text.splitlines() if line.startswith("│"))
    assert wide in cells
    assert "…" not in text
    assert max(map(len, text.splitlines())) == len(text.splitlines()[0])  # every line as wide as the table


def test_control_characters_are_escaped_before_layout():
    text = "".join(render(Table((Column("name"),)), [("evil\x1b[2Jname",)], width=40, color=False))
    assert "\x1b" not in text
    assert "│ evil\\x1b[2Jname │" in text
