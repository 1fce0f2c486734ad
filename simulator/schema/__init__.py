"""The JSON Schema of the netsim design format (draft 2020-12).

Point an editor at ``design.schema.json`` for completion; the native loader validates
with it through :func:`design_schema`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["design_schema"]


@lru_cache(maxsize=1)
def design_schema() -> dict:
    """The parsed schema (cached; treat it as read-only)."""
    text = resources.files(__name__).joinpath("design.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
