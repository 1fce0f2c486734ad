"""The JSON Schemas netsim validates with: its design format (draft 2020-12), the compose-spec,
and netsim's extension keys in a compose file (``x-netsim`` on a service: compose-netsim.schema.json).

Point an editor at ``design.schema.json`` for completion; the native loader validates
with it through :func:`design_schema`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["compose_netsim_schema", "compose_schema", "design_schema"]


@lru_cache(maxsize=1)
def design_schema() -> dict:
    """The parsed schema (cached; treat it as read-only)."""
    text = resources.files(__name__).joinpath("design.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def compose_schema() -> dict:
    """The published compose-spec JSON Schema (draft 7), a copy shipped with netsim: its source
    and commit are in its ``$comment`` (cached; treat it as read-only)."""
    text = resources.files(__name__).joinpath("compose-spec.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def compose_netsim_schema() -> dict:
    """netsim's extension keys in a compose file (draft 2020-12; cached; treat it as read-only)."""
    text = resources.files(__name__).joinpath("compose-netsim.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
