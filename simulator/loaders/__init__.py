"""Read designs: netsim YAML and docker-compose files → :class:`~simulator.model.Design`.

    design, warnings = load_design("shop.yaml")
    design, warnings = load_text(text, source="shop.yaml", kind=None)

Both raise :class:`~simulator.errors.DesignLoadError` when the text cannot be read as YAML
and :class:`~simulator.errors.DesignError` when the design has errors; either lists every
problem found (warnings included) with file:line:column.  ``warnings`` are the problems
of severity "warning": things the engine accepts but ignores.

A design's intent (``expect:``/``audit:``, compose ``x-netsim-expect:``/``x-netsim-audit:``) is
left alone here: :func:`simulator.intent.source.read_design` reads it from the same parsed
document, and :func:`simulator.pipeline.load` runs every stage (design, intent, engine checks).  Limits on size, nesting, alias expansion,
ports and names: docs/design-format.md ("Limits").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ArgumentError, DesignError, DesignLoadError, Problem
from ..model import Design, Location
from ..printable import printable
from . import compose, native
from .validate import validate
from .yamlsource import MAX_SHOWN, Doc, hint_budget, read_bytes, read_yaml, shown

__all__ = ["Parsed", "detect_kind", "load_design", "load_text", "ordered", "parse_doc", "read_doc", "validate"]

KINDS = ("netsim", "compose")


def detect_kind(data: object) -> str:
    """``compose`` when the top level has ``services`` or ``include`` (a project made of included
    files) and none of a netsim design's ``hosts`` and ``containers``, else ``netsim`` (whose
    ``services:`` are swarm services)."""
    if not isinstance(data, dict) or "hosts" in data or "containers" in data:
        return "netsim"
    return "compose" if "services" in data or "include" in data else "netsim"


def load_design(path: str | Path) -> tuple[Design, list[Problem]]:
    """Load a netsim design or compose file from disk (kind detected from its content)."""
    return _load(read_bytes(path), str(path), None)


def load_text(text: str, source: str = "<string>", kind: str | None = None) -> tuple[Design, list[Problem]]:
    """Load a design from text; ``kind`` is "netsim", "compose" or None (detect)."""
    if kind not in (None, *KINDS):
        raise ArgumentError(f"kind must be one of {', '.join(KINDS)} or None, not {kind!r}")
    return _load(text, source, kind)


def _load(text: str | bytes, source: str, kind: str | None) -> tuple[Design, list[Problem]]:
    with hint_budget():
        return _load_bounded(text, source, kind)


@dataclass(frozen=True)
class Parsed:
    """A document read into a model: the design (None when it could not be built), every problem of
    the loader and of :func:`validate`, and the map from model paths to the dotted paths written."""

    design: Design | None
    problems: tuple[Problem, ...]
    paths: Mapping[tuple, str]
    complete: bool  # False when a size limit cut the design short (later checks would only add noise)


def parse_doc(doc: Doc, kind: str | None = None) -> Parsed:
    """Schema, typed conversion and semantic checks of a parsed document (no intent, no engine)."""
    kind = kind or detect_kind(doc.data)
    loader = compose if kind == "compose" else native
    try:
        design, report, smap = loader.load(doc)
        problems = list(report.problems)
        complete = design is not None and not report.limits.get("exceeded")
        if complete:
            problems += validate(design, smap.paths)
    except RecursionError:
        raise DesignError([Problem("the design is nested too deeply to read", "", Location(doc.source, 1, 1))]) from None
    # replicas are written once: what is said of each at the same place is said once
    return Parsed(design, tuple(dict.fromkeys(problems)), smap.paths, complete)


def read_doc(text: str | bytes, source: str) -> Doc:
    """One YAML document with positions (DesignLoadError when it cannot be read)."""
    try:
        return read_yaml(text, source)
    except RecursionError:
        raise DesignLoadError([Problem("the YAML is nested too deeply to read", "", Location(source, 1, 1))]) from None


def _load_bounded(text: str | bytes, source: str, kind: str | None) -> tuple[Design, list[Problem]]:
    doc = read_doc(text, source)
    parsed = parse_doc(doc, kind)
    design, problems = parsed.design, ordered(list(parsed.problems))
    if design is None or any(p.severity == "error" for p in problems):
        raise DesignError(problems)
    return design, problems


_LONG_QUOTED = re.compile(f'"([^"]{{{MAX_SHOWN + 1},}})"')
_LONG_PART = re.compile(rf"[^.\[\]]{{{MAX_SHOWN + 1},}}")
MAX_MESSAGE = 600


def _tidy(p: Problem) -> Problem:
    """One line, echoed values cut to :data:`~.yamlsource.MAX_SHOWN` characters: a 1 MB name or a
    newline in a key cannot flood or forge the output."""
    message, path = p.message, p.path
    if printable(message) != message or len(message) > MAX_SHOWN * 2:
        message = printable(_LONG_QUOTED.sub(lambda m: f'"{shown(m.group(1))}"', message))
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "\u2026"
    if printable(path) != path or len(path) > MAX_SHOWN:
        path = printable(_LONG_PART.sub(lambda m: shown(m.group()), path))
    return p if (message, path) == (p.message, p.path) else replace(p, message=message, path=path)


def ordered(problems: list[Problem]) -> list[Problem]:
    """Tidied, in file order (problems without a place last); each problem is found once upstream."""
    return sorted(map(_tidy, problems), key=lambda p: (p.location is None, p.location.line if p.location else 0,
                                                       p.location.column if p.location else 0))
