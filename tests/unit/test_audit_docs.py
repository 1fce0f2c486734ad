"""docs/audit-rules.md is generated from the rule table and must be current."""

from pathlib import Path

from simulator.audit.docs import rules_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_audit_rules_doc_is_current():
    current = (ROOT / "docs/audit-rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "docs/audit-rules.md is out of date: run python scripts/gen_audit_docs.py"


def test_every_rule_is_documented_with_its_fix():
    text = rules_markdown()
    assert "## NS012" in text and "<lan_ip>" in text and "{" not in text.split("## NS006")[1].split("## NS007")[0].replace("{app: {}}", "")
