#!/usr/bin/env python3
"""Write docs/audit-rules.md from the audit rule table (--check: exit 1 if it is out of date)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.audit.docs import rules_markdown  # noqa: E402

TARGET = ROOT / "docs" / "audit-rules.md"


def main(argv: list[str]) -> int:
    text = rules_markdown()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date; run python scripts/gen_audit_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
