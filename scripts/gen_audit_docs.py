#!/usr/bin/env python3
"""Write docs/audit-rules.md from the audit rule table (--check: exit 1 if it is out of date)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.audit.docs import rules_markdown  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated import write_or_check  # noqa: E402

TARGET = ROOT / "docs" / "audit-rules.md"


def main(argv: list[str]) -> int:
    return write_or_check(TARGET, rules_markdown(), argv, "gen_audit_docs.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
