"""The audit: each rule fires on the design that has the risk, with proof; none on a clean design."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from sarif_schema import official_sarif_validator
import pytest
from typer.testing import CliRunner

from simulator.audit import RULES, run_audit
from simulator.audit.checks import CHECKS
from simulator.cli import app
from simulator.loaders import load_design, load_text

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "tests/data/intent/clean.yaml"


def ids(path, version=None, text=None, disable=()):
    design, warnings = load_text(text, "d.yaml") if text else load_design(ROOT / path)
    return sorted({(f.rule.id, f.services) for f in run_audit(design, warnings, version, disable)})


def test_rule_table_is_well_formed():
    assert [r.id for r in RULES] == sorted({r.id for r in RULES}) == list(CHECKS)
    for r in RULES:
        assert r.severity in ("high", "medium", "low") and r.rationale and r.fix and r.title


def test_clean_design_has_no_findings():
    for v in ("28.0", "28.5", "29.0"):
        assert ids(CLEAN, v) == []


@pytest.mark.parametrize("design,version,expected", [
    ("designs/frontend-backend.yaml", "20.10", {
        ("NS001", ("proxy",)), ("NS002", ("proxy", "cache", "db")), ("NS003", ("proxy",)), ("NS007", ("app",))}),
    ("designs/frontend-backend.yaml", "28.0", {
        ("NS001", ("proxy",)), ("NS002", ("proxy", "cache", "db")), ("NS007", ("app",))}),
    ("designs/default-vs-user-bridge.yaml", "28.0", {
        ("NS001", ("legacy-app",)), ("NS002", ("legacy-app", "api", "client")), ("NS006", ("legacy-app", "legacy-worker"))}),
    ("designs/host-mode.yaml", "20.10", {("NS003", ("admin-ui",)), ("NS004", ("admin-ui",)), ("NS005", ("monitoring-agent",))}),
    ("designs/host-mode.yaml", "28.0", {("NS005", ("monitoring-agent",))}),
    ("designs/internal-network.yaml", "28.0", {("NS001", ("app",)), ("NS007", ("app",)), ("NS008", ("secrets",))}),
    ("designs/macvlan-lan.yaml", "28.0", {("NS001", ("bridged-app",)), ("NS009", ("printer-service",)), ("NS009", ("nas-gateway",))}),
    ("designs/multi-homed.yaml", "28.0", {("NS001", ("gateway",)), ("NS007", ("gateway",))}),
    ("designs/overlay-two-hosts.yaml", "28.0", {("NS001", ("web",)), ("NS002", ("web", "metrics"))}),
    ("designs/compose-shop/compose.yaml", "20.10", {
        ("NS001", ("web",)), ("NS003", ("web",)), ("NS004", ("web",)), ("NS007", ("web",))}),
])
def test_bundled_designs(design, version, expected):
    assert set(ids(design, version)) == expected


NAMES = """
name: names
engine_version: "28.0"
hosts: {docker1: {lan: {interface: eth0, address: 192.168.1.10/24}, routes: [10.50.0.0/16]}}
networks:
  shop: {subnet: 172.30.10.0/24}
  spare: {subnet: 172.30.11.0/24}
  odd: {subnet: 10.50.1.0/24}
  public: {subnet: 8.8.8.0/24}
containers:
  aa: {networks: {shop: {aliases: [cache]}}, listens: [6379]}
  bb: {networks: {shop: {aliases: [cache]}}, listens: [6379]}
  cc: {networks: [odd], listens: [80]}
  dd: {networks: [public], listens: [80]}
"""


def test_names_networks_and_subnets():
    assert ids(None, text=NAMES) == [
        ("NS010", ("aa", "bb")), ("NS011", ()), ("NS012", ("cc",)), ("NS012", ("dd",))]


def test_findings_carry_proof_and_fix():
    design, warnings = load_design(ROOT / "designs/host-mode.yaml")
    [f] = [f for f in run_audit(design, warnings, "20.10") if f.rule.id == "NS004"]
    assert str(f.location) == f"{ROOT / 'designs/host-mode.yaml'}:21:13"
    assert f.fix == ("upgrade the engine to 28.0 or later, or add iptables -t raw -I PREROUTING -d 127.0.0.1 ! -i lo "
                     "-p tcp --dport 3000 -j DROP on host docker1")
    assert "DNAT to 172.18.0.2:3000" in f.evidence[0].trace_text and f.evidence[0].trace_text.endswith("=> DELIVERED: "
                                                                                           "delivered: published port (DNAT), routed through the host, bridge link")


def test_cli_disable_and_design_setting(tmp_path):
    d = tmp_path / "fb.yaml"
    d.write_text((ROOT / "designs/frontend-backend.yaml").read_text() + "audit: {disable: [NS003]}\n")
    r = CliRunner().invoke(app, ["audit", str(d), "-e", "20.10", "--disable", "NS001,NS002", "--format", "json"])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["disabled"] == ["NS003", "NS001", "NS002"] and [f["rule"] for f in data["findings"]] == ["NS007"]


def test_unknown_rule_id_is_an_error_with_suggestion(tmp_path):
    r = CliRunner().invoke(app, ["audit", str(ROOT / "designs/frontend-backend.yaml"), "--disable", "NS0010"])
    assert r.exit_code == 2 and 'audit.disable: "NS0010" is not an audit rule (did you mean "NS010"?)' in r.output


def test_clean_cli_exit_0_and_sarif_validates():
    r = CliRunner().invoke(app, ["audit", str(CLEAN)])
    assert r.exit_code == 0 and "no findings" in r.output
    r = CliRunner().invoke(app, ["audit", str(ROOT / "designs/host-mode.yaml"), "--format", "sarif", "--fail-on", "high"])
    assert r.exit_code == 1
    log = json.loads(r.output)
    schema = json.loads((ROOT / "tests/data/schemas/sarif-2.1.0.reduced.schema.json").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(log)
    official_sarif_validator().validate(log)
    res = log["runs"][0]["results"]
    assert [x["ruleId"] for x in res] == ["NS003", "NS004", "NS005"]
    assert res[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 21, "startColumn": 13}
    assert [x["level"] for x in res] == ["error", "error", "warning"]


def test_fail_on_never():
    r = CliRunner().invoke(app, ["audit", str(ROOT / "designs/host-mode.yaml"), "--fail-on", "never", "--no-trace"])
    assert r.exit_code == 0 and "NS005 MEDIUM" in r.output
