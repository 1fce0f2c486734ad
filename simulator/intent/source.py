"""A design together with the intent written in it (``expect:``, ``audit:``), from one parse.

The loaders accept the intent sections and leave them alone; :func:`read_design` reads them
from the same parsed document the design came from, so a file is parsed once and every
problem (design or intent) comes with the line the user wrote. :func:`simulator.pipeline.load`
runs it as the stages up to the engine checks; :func:`load_with_intent` is the same for a
library caller with a path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import DesignError, Problem
from ..loaders import ordered, parse_doc, read_doc
from ..loaders.yamlsource import Doc, Report, hint_budget, read_bytes
from ..model import Design
from .model import Intent
from .parse import SECTIONS, intent_from_doc


@dataclass(frozen=True)
class DesignRead:
    """A design that passed the loader's checks, its warnings, its intent and its path map."""

    design: Design
    warnings: tuple[Problem, ...]
    intent: Intent
    paths: Mapping[tuple, str]  # model path -> dotted path as written (for later stages' problems)


def read_design(doc: Doc, kind: str | None = None) -> DesignRead:
    """Schema, semantic and intent checks of a parsed document; DesignError listing every problem."""
    parsed = parse_doc(doc, kind)
    design, problems = parsed.design, list(parsed.problems)
    intent = Intent(doc.source)
    if parsed.complete and design is not None:
        try:
            intent, found = design_intent(doc, design)
        except RecursionError:
            from ..model import Location

            raise DesignError([Problem("the design is nested too deeply to read", "", Location(doc.source, 1, 1))]) from None
        problems += found
    problems = ordered(problems)
    if design is None or any(p.severity == "error" for p in problems):
        raise DesignError(problems)
    return DesignRead(design, tuple(problems), intent, parsed.paths)


def design_intent(doc: Doc, design: Design) -> tuple[Intent, list[Problem]]:
    """The intent written in the design and its problems: its syntax, and selectors that name nothing."""
    from .select import reference_problems

    if not isinstance(doc.data, dict) or not any(key in doc.data for key in SECTIONS):
        return Intent(doc.source), []
    report = Report(doc)
    intent = intent_from_doc(doc, report)
    if report.has_errors:
        return intent, list(report.problems)
    return intent, list(report.problems) + [p for p in reference_problems(intent, design) if p.location is not None]


def load_with_intent(path: str | Path) -> tuple[Design, list[Problem], Intent, list[Problem]]:
    """(design, warnings, intent, intent problems); DesignError when the design or its intent has errors.

    The intent's warnings are among the design's warnings; the last element stays for callers
    that expect it and is empty.
    """
    with hint_budget():
        read = read_design(read_doc(read_bytes(path), str(path)))
    return read.design, list(read.warnings), read.intent, []


__all__ = ["SECTIONS", "DesignRead", "design_intent", "load_with_intent", "read_design"]
