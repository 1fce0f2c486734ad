"""Audit rules for IPv6 (NS017-NS020, issue 14): what a reviewer raises about a dual-stack design on
an engine that writes no ip6tables rules (20.10's default, docs/confirmed-rules.md §18), each with
the rule that decided it and one proof; none of them on IPv4-only designs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.audit import RULES, run_audit
from simulator.audit.docs import rules_markdown
from simulator.loaders import load_design, load_text

ROOT = Path(__file__).resolve().parents[2]
DUAL = ROOT / "designs/ipv6/dual-stack.yaml"
GUARDED = ROOT / "designs/ipv6/dual-stack-ip6tables.yaml"
IPV6_RULES = ("NS017", "NS018", "NS019", "NS020")


def _findings(path: Path, version: str | None = None):
    design, warnings = load_design(path)
    return run_audit(design, warnings, version)


def _by_rule(findings) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.rule.id, []).append(f)
    return out


def test_the_rules_are_in_the_table_and_the_docs():
    ids = [r.id for r in RULES]
    assert ids[-4:] == list(IPV6_RULES)
    text = rules_markdown()
    for rid in IPV6_RULES:
        assert f"## {rid}" in text
    assert "ip6tables -I FORWARD -i <lan_if> -d <subnet6> -j DROP" in text


def test_ns017_the_lan_reaches_db_over_ipv6_only():
    found = _by_rule(_findings(DUAL))
    ns017 = {tuple(f.services): f for f in found["NS017"]}
    db = ns017[("db",)]
    assert db.message == ("a LAN peer reaches db 5432/tcp over IPv6 at fd00:db8:20::3 on back (ip); "
                          "over IPv4 it is not published, so IPv4 does not get in")
    assert db.rule.severity == "high"
    [proof] = db.evidence
    assert proof.what == "external -> db at fd00:db8:20::3 on back, 5432/tcp (ip, IPv6)"
    assert proof.result.startswith("DELIVERED") and proof.trace is not None and proof.trace.delivered
    assert 'daemon.json {"ip6tables": true, "experimental": true}' in db.fix
    assert "ip6tables -I FORWARD -i eth0 -d fd00:db8:20::/64 -j DROP" in db.fix
    assert db.location.line == 45
    # web's 443 answers the LAN over both families: not a finding
    assert ("web",) not in ns017


def test_ns018_ip6tables_off_with_a_proof_over_ipv6():
    [f] = _by_rule(_findings(DUAL))["NS018"]
    assert f.services == ("web", "api", "db")
    assert f.message.startswith("host docker1's engine writes no ip6tables rules (ip6tables left at engine 20.10's "
                                "default (off)) while front, back have IPv6")
    assert [e.what for e in f.evidence][0] == "host docker1 daemon"
    probe = f.evidence[1]
    assert "(ip, IPv6)" in probe.what and probe.trace is not None and probe.trace.delivered


def test_ns019_the_internal_back_end_is_open_over_ipv6():
    [f] = _by_rule(_findings(DUAL))["NS019"]
    assert f.services == ("api", "db")
    assert f.message.startswith("internal network back has IPv6 (fd00:db8:20::/64) on host docker1")
    assert f.location.line == 30
    assert any(e.trace is not None and e.trace.delivered and "IPv6" in e.what for e in f.evidence)


def test_ns020_forwarding_is_left_on_whatever_ip6tables_says():
    for path in (DUAL, GUARDED):
        [f] = _by_rule(_findings(path))["NS020"]
        assert f.rule.severity == "low"
        assert "net.ipv6.conf.eth0.accept_ra=2" in f.fix
        assert "setup_ipv6.go" in f.evidence[0].result


def test_with_ip6tables_on_only_the_forwarding_remains():
    found = _by_rule(_findings(GUARDED))
    assert [rid for rid in IPV6_RULES if rid in found] == ["NS020"]


@pytest.mark.parametrize("path", sorted((ROOT / "designs").glob("*.yaml")), ids=lambda p: p.name)
def test_ipv4_designs_raise_none_of_them(path):
    found = _by_rule(_findings(path))
    assert [rid for rid in IPV6_RULES if rid in found] == []


def test_an_explicit_ip6tables_false_on_a_newer_engine_is_named():
    text = DUAL.read_text().replace('engine_version: "20.10"', 'engine_version: "28.0"').replace(
        "      ipv6: true\n", "      ipv6: true\n      ip6tables: false\n")
    design, warnings = load_text(text, "d.yaml")
    found = _by_rule(run_audit(design, warnings))
    [f] = found["NS018"]
    assert "(ip6tables: false)" in f.message
    assert '{"ip6tables": true}' in f.fix and "experimental" not in f.fix


def test_disable_switches_them_off():
    design, warnings = load_design(DUAL)
    found = run_audit(design, warnings, disable=IPV6_RULES)
    assert not {f.rule.id for f in found} & set(IPV6_RULES)


def test_ns017_names_a_port_published_on_loopback_only_over_ipv4():
    # 28.x drops direct routing over IPv4, so api's 8080 (127.0.0.1 and [::1]) is off the LAN over IPv4;
    # with ip6tables off its IPv6 addresses answer the LAN all the same: the issue's own example
    text = DUAL.read_text().replace('engine_version: "20.10"', 'engine_version: "28.2"').replace(
        "      ipv6: true\n", "      ipv6: true\n      ip6tables: false\n")
    design, warnings = load_text(text, "d.yaml")
    ns017 = {f.services: f for f in run_audit(design, warnings) if f.rule.id == "NS017"}
    assert sorted(ns017) == [("api",), ("db",)]
    api = ns017[("api",)]
    assert api.message.endswith("over IPv4 it is published only on 127.0.0.1:8080, so IPv4 does not get in")
    assert "(ip, IPv6)" in api.evidence[0].what and api.evidence[0].trace.delivered
    assert '{"ip6tables": true}' in api.fix


def test_ns018_names_the_icc_it_does_not_enforce_over_ipv6():
    text = DUAL.read_text().replace('    subnet6: "fd00:db8:10::/64"\n', '    subnet6: "fd00:db8:10::/64"\n    icc: false\n')
    design, warnings = load_text(text, "d.yaml")
    [f] = [f for f in run_audit(design, warnings) if f.rule.id == "NS018"]
    assert "over IPv6 there is no isolation between networks, internal networks, enable_icc: false on front" in f.message


def test_ns001_says_a_dual_stack_publication_binds_every_ipv6_address_too():
    [f] = _by_rule(_findings(DUAL))["NS001"]
    assert f.message == "web publishes 443/tcp on 0.0.0.0 (every address of host docker1) and on [::] (every IPv6 address too)"
