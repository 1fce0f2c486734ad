"""Problems as the terminal shows them: one line each, the same warning given many times gathered.

A design of many replicas meets the same warning once per replica (a published port that gets an
ephemeral host port, a port published on internal networks only): 1,236 lines for the
10,000-container benchmark design, of 14 messages. A warning whose message recurs
:data:`ALIKE` times or more is shown once in full (its first place in the file, where the first of
them stood in the list), followed by one line that says for how many more places it holds and names
the first and last few of them, in the order they are written. Errors are never gathered: each is
its own line, as the loaders made it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from ..errors import Problem, Severity

__all__ = ["ALIKE", "by_place", "problem_lines"]

ALIKE = 4  # a warning given this many times or more is gathered
_NAMED = 3  # places named at each end of a gathered warning's list


def problem_lines(problems: Iterable[Problem], alike: int = ALIKE) -> Iterator[str]:
    """Each problem's text, in the given order; a warning's message met ``alike`` times or more is
    shown at its first place, followed by a line naming the others."""
    problems = list(problems)
    places: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        if p.severity is Severity.WARNING:
            places[p.message].append(p)
    shown: set[str] = set()
    for p in problems:
        same = places.get(p.message) if p.severity is Severity.WARNING else None
        if same is None or len(same) < alike:
            yield str(p)
        elif p.message not in shown:
            shown.add(p.message)
            first, *rest = sorted(same, key=by_place)
            yield str(first)
            yield _others(first, rest)


def by_place(p: Problem) -> tuple:
    """Sort key: in the order written (file, line, column), problems with no place last."""
    where = p.location
    return (where is None, where.file if where else "", where.line if where else 0, where.column if where else 0)


def _place(p: Problem, file: str | None) -> str:
    """The field and where it is written: its line when in ``file``, else its whole location."""
    where = p.location
    at = "" if where is None else f" (line {where.line})" if where.file == file else f" ({where})"
    return f"{p.path or '(no field)'}{at}"


def _others(first: Problem, rest: list[Problem]) -> str:
    """The line after a gathered warning's first place: how many more, the first and last few named."""
    file = first.location.file if first.location else None
    named = [_place(p, file) for p in rest]
    if len(named) > 2 * _NAMED:
        named = named[:_NAMED] + [f"… {len(named) - 2 * _NAMED} more …"] + named[-_NAMED:]
    return f"    the same warning for {len(rest)} more: {', '.join(named)}"
