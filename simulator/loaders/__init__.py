"""Read designs: netsim YAML and docker-compose files → :class:`~simulator.model.Design`.

    design, warnings = load_design("shop.yaml")
    design, warnings = load_text(text, source="shop.yaml", kind=None)

Both raise :class:`~simulator.errors.DesignLoadError` when the text cannot be read as YAML
and :class:`~simulator.errors.DesignError` when the design has errors; either lists every
problem found (warnings included) with file:line:column.  ``warnings`` are the problems
of severity "warning": things the engine accepts but ignores.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DesignError, DesignLoadError, Problem
from ..model import Design, Location
from . import compose, native
from .validate import validate
from .yamlsource import read_bytes, read_yaml

__all__ = ["load_design", "load_text", "validate", "detect_kind"]

KINDS = ("netsim", "compose")


def detect_kind(data: object) -> str:
    """``compose`` when the top level has ``services``, else ``netsim``."""
    return "compose" if isinstance(data, dict) and "services" in data else "netsim"


def load_design(path: str | Path) -> tuple[Design, list[Problem]]:
    """Load a netsim design or compose file from disk (kind detected from its content)."""
    return _load(read_bytes(path), str(path), None)


def load_text(text: str, source: str = "<string>", kind: str | None = None) -> tuple[Design, list[Problem]]:
    """Load a design from text; ``kind`` is "netsim", "compose" or None (detect)."""
    if kind not in (None, *KINDS):
        raise ValueError(f"kind must be one of {', '.join(KINDS)} or None, not {kind!r}")
    return _load(text, source, kind)


def _load(text: str | bytes, source: str, kind: str | None) -> tuple[Design, list[Problem]]:
    try:
        doc = read_yaml(text, source)
    except RecursionError:
        raise DesignLoadError([Problem("the YAML is nested too deeply to read", "", Location(source, 1, 1))]) from None
    kind = kind or detect_kind(doc.data)
    loader = compose if kind == "compose" else native
    try:
        design, report, smap = loader.load(doc)
        problems = list(report.problems)
        if design is not None:
            problems += validate(design, smap.paths)
    except RecursionError:
        raise DesignError([Problem("the design is nested too deeply to read", "", Location(source, 1, 1))]) from None
    problems = _ordered(problems)
    if design is None or any(p.severity == "error" for p in problems):
        raise DesignError(problems)
    return design, problems


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Deduplicated, in file order (problems without a place last)."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.location is None, p.location.line if p.location else 0,
                                         p.location.column if p.location else 0))
