"""Commands that draw: diagram, report."""

from __future__ import annotations

from . import app  # noqa: F401
