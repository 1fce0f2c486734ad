"""Intent: expectations written beside a design, checked against the model before anything runs.

    design, warnings, intent, problems = load_with_intent("shop.yaml")
    outcomes, problems = evaluate(intent, design)

Syntax: docs/intent.md; schema: simulator/schema/intent.schema.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import Evidence, Expectation, Intent, Outcome
from .parse import intent_schema, load_intent_file
from .source import load_with_intent

if TYPE_CHECKING:
    from .evaluation import evaluate


def __getattr__(name: str) -> Any:
    """``evaluate``, imported when first asked for: it brings the whole analysis, which loading a
    design (`netsim check`) never needs."""
    if name == "evaluate":
        from .evaluation import evaluate as function

        globals()["evaluate"] = function
        return function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["Evidence", "Expectation", "Intent", "Outcome", "evaluate", "intent_schema", "load_intent_file", "load_with_intent"]
