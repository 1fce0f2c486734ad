"""Commands that judge a design: test (intent), audit, diff."""

from __future__ import annotations

from . import app  # noqa: F401
