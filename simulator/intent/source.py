"""Load a design together with the intent written in it (``expect:``, ``audit:``).

The design loader may refuse these top-level keys. :func:`load_with_intent` first asks
it as is; only if it reports a problem on one of these keys are they blanked out line
for line (so every other line keeps its number) and the text loaded again. Once the
loader accepts and ignores the keys, the first attempt simply succeeds.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import DesignError, Problem
from ..model import Design
from ..loaders import load_design, load_text
from ..loaders.yamlsource import Doc, Report, decode, read_bytes, read_yaml
from .model import Intent
from .parse import SECTIONS, intent_from_doc

STRIPPED = ("expect", "audit")  # keys the design loader may not know yet


def load_with_intent(path: str | Path) -> tuple[Design, list[Problem], Intent, list[Problem]]:
    """(design, design warnings, intent, intent problems); DesignError when the design has errors."""
    source = str(path)
    text = decode(read_bytes(path), source)
    doc = read_yaml(text, source)
    report = Report(doc)
    intent = intent_from_doc(doc, report) if isinstance(doc.data, dict) else Intent(source)
    design, warnings = _load_design(path, text, doc)
    return design, warnings, intent, report.problems


def _load_design(path: str | Path, text: str, doc: Doc) -> tuple[Design, list[Problem]]:
    present = [k for k in STRIPPED if isinstance(doc.data, dict) and k in doc.data]
    if not present:
        return load_design(path)
    try:
        return load_design(path)
    except DesignError as exc:
        if not any(p.path.split(".")[0].split("[")[0] in present for p in exc.problems):
            raise
    return load_text(strip_keys(text, doc, present), source=doc.source)


def strip_keys(text: str, doc: Doc, keys: list[str]) -> str:
    """``text`` with the top-level ``keys`` blanked out, keeping every other line where it was."""
    data = doc.data if isinstance(doc.data, dict) else {}
    starts = []
    for key in data:
        loc = doc.keys.get((key,))
        if loc is None or loc.column != 1:
            return _redump(data, keys)  # flow-style top level: positions cannot be kept
        starts.append((loc.line, key))
    starts.sort()
    lines = text.split("\n")
    for i, (line, key) in enumerate(starts):
        if key not in keys:
            continue
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(lines)
        for n in range(line - 1, end):
            lines[n] = ""
    return "\n".join(lines)


def _redump(data: dict, keys: list[str]) -> str:
    return yaml.safe_dump({k: v for k, v in data.items() if k not in keys}, sort_keys=False)


__all__ = ["load_with_intent", "strip_keys", "SECTIONS"]
