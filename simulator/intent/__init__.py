"""Intent: expectations written beside a design, checked against the model before anything runs.

    design, warnings, intent, problems = load_with_intent("shop.yaml")
    outcomes, problems = evaluate(intent, design)

Syntax: docs/intent.md; schema: simulator/schema/intent.schema.json.
"""

from .evaluate import evaluate
from .model import Evidence, Expectation, Intent, Outcome
from .parse import intent_schema, load_intent_file
from .source import load_with_intent

__all__ = ["Evidence", "Expectation", "Intent", "Outcome", "evaluate", "intent_schema", "load_intent_file", "load_with_intent"]
