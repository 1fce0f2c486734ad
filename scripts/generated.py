"""Pages generated from the code: write them, or with --check say whether they are current."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_or_check(page: Path, text: str, argv: list[str], script: str) -> int:
    """Write ``text`` to ``page``; with ``--check`` in ``argv`` exit 1 when the page differs."""
    rel = page.relative_to(ROOT)
    if "--check" in argv:
        current = page.read_text(encoding="utf-8") if page.exists() else ""
        if current != text:
            print(f"{rel} is stale: run python scripts/{script}", file=sys.stderr)
            return 1
        return 0
    page.write_text(text, encoding="utf-8")
    print(f"wrote {rel}", file=sys.stderr)
    return 0
