"""Intent that names the address family (issue 14): `family: 4 | 6 | any | both` on allow, deny
and exposure; a deny without family covers IPv6; a bad value is an error at its place. The worked
example (designs/ipv6/dual-stack.yaml) fails exactly where the LAN and web reach db over IPv6."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.intent import evaluate, load_with_intent
from simulator.intent.parse import intent_schema, load_intent_text
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]
DUAL = ROOT / "designs/ipv6/dual-stack.yaml"
GUARDED = ROOT / "designs/ipv6/dual-stack-ip6tables.yaml"


def _intent(line: str):
    return load_intent_text(f"expect:\n  deny:\n    - {line}\n", "intent.yaml")


@pytest.mark.parametrize(("written", "family", "text"), [
    ("4", "4", " over IPv4"), ('"6"', "6", " over IPv6"), ("ipv6", "6", " over IPv6"), ("IPv4", "4", " over IPv4"),
    ("both", "both", " over IPv4 and IPv6"), ("any", "any", "")])
def test_family_values_are_read_and_shown(written, family, text):
    intent, problems = _intent(f"{{from: a, to: b, family: {written}}}")
    assert problems == []
    [e] = intent.expectations
    assert e.family == family
    assert e.text == f"a does not reach b on any port{text}"


def test_no_family_means_any():
    intent, problems = _intent("{from: a, to: b}")
    assert problems == [] and intent.expectations[0].family == "any"


@pytest.mark.parametrize(("written", "message"), [
    ("5", "intent.yaml:3:32: expect.deny[0].family: the number 5 is not an address family: write 4 (IPv4), "
          "6 (IPv6), any (either family; the default) or both (each family)"),
    ("ipv7", 'intent.yaml:3:32: expect.deny[0].family: the string "ipv7" is not an address family: write 4 (IPv4), '
             "6 (IPv6), any (either family; the default) or both (each family)"),
    ("bith", 'intent.yaml:3:32: expect.deny[0].family: the string "bith" is not an address family: write 4 (IPv4), '
             '6 (IPv6), any (either family; the default) or both (each family) (did you mean "both"?)'),
    ("true", "intent.yaml:3:32: expect.deny[0].family: expected an integer or a string, not the boolean true"),
    ("[6]", "intent.yaml:3:32: expect.deny[0].family: expected an integer or a string, not a list"),
])
def test_a_bad_family_is_an_error_at_its_place(written, message):
    _, problems = _intent(f"{{from: a, to: b, family: {written}}}")
    assert [str(p) for p in problems] == [message]


def test_exposure_takes_a_family_too():
    intent, problems = load_intent_text("expect:\n  exposure:\n    - {service: db, never_from: lan, family: 6}\n"
                                        "    - {service: db, never_from: lan, family: 9}\n", "i.yaml")
    assert [str(p) for p in problems] == [
        "i.yaml:4:46: expect.exposure[1].family: the number 9 is not an address family: write 4 (IPv4), 6 (IPv6), "
        "any (either family; the default) or both (each family)"]
    assert intent.expectations[0].family == "6"
    assert intent.expectations[0].text == "db never reachable from external over IPv6"


def test_the_schema_documents_family_on_reach_and_exposure():
    defs = intent_schema()["$defs"]
    assert defs["reach"]["properties"]["family"] == {"$ref": "#/$defs/family"}
    assert defs["exposure"]["properties"]["family"] == {"$ref": "#/$defs/family"}
    assert "both (allow must hold over each family)" in defs["family"]["description"]


# --- the worked example ---------------------------------------------------------------------------

def _outcomes(path: Path):
    design, _, intent, _ = load_with_intent(path)  # the design's own expect: section
    outcomes, problems = evaluate(intent, design, None)
    assert [p for p in problems if p.severity == "error"] == []
    return {o.expectation.location.line: o for o in outcomes}


def test_the_dual_stack_example_fails_where_ipv6_gets_through():
    got = _outcomes(DUAL)
    failed = {line: o for line, o in got.items() if not o.passed}
    assert sorted(failed) == [55, 58], {line: o.message for line, o in failed.items()}
    lan = failed[55]
    assert lan.expectation.text == "external does not reach db on any port"
    assert lan.message.startswith("1 violation(s): external reaches db 5432/tcp (ip over IPv6)")
    assert lan.evidence and all("IPv6" in e.what for e in lan.evidence)
    assert "external -> db at fd00:db8:20::3 on back, 5432/tcp (ip, IPv6)" in [e.what for e in lan.evidence]
    proof = next(e for e in lan.evidence if "fd00:db8:20::3" in e.what)
    assert proof.result.startswith("DELIVERED") and proof.trace is not None and proof.trace.delivered
    web = failed[58]
    assert web.message.startswith("1 violation(s): web reaches db 5432/tcp (")
    assert "over IPv6" in web.message and all("IPv6" in e.what or "AAAA" in e.what for e in web.evidence)
    # the same deny over IPv4 holds, and so do the allows over both families and over IPv6 alone
    assert got[56].passed and got[56].expectation.text == "external does not reach db on any port over IPv4"
    assert got[52].passed and got[52].expectation.family == "both"
    assert got[53].passed and got[53].expectation.family == "6"
    assert got[60].passed  # db's exposure to the LAN over IPv4


def test_the_example_with_ip6tables_on_holds():
    got = _outcomes(GUARDED)
    assert [o.message for o in got.values() if not o.passed] == []
    assert len(got) == 8


def test_allow_both_fails_over_the_family_that_does_not_get_through():
    text = "expect:\n  allow:\n    - {from: external, to: api, via: host, ports: [8080], family: both}\n"
    design, _ = load_design(DUAL)
    intent, _ = load_intent_text(text, "i.yaml")
    [o], _ = evaluate(intent, design, None)
    assert not o.passed
    assert o.message.count("external -> api 8080/tcp") == 2
    assert "over IPv4" in o.message and "over IPv6" in o.message


def test_netsim_test_json_shows_the_ipv6_proof():
    r = CliRunner().invoke(app, ["test", str(DUAL), "--format", "json"])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    failed = [o for o in data["outcomes"] if not o["passed"]]
    assert [o["location"].rsplit(":", 2)[1] for o in failed] == ["55", "58"]
    assert any("(ip, IPv6)" in e["what"] and e["trace"] for e in failed[0]["evidence"])


def _evaluate(text: str):
    design, _ = load_design(DUAL)
    intent, problems = load_intent_text(text, "i.yaml")
    assert problems == []
    outcomes, _ = evaluate(intent, design, None)
    return outcomes


def test_exposure_of_one_family():
    v6, v4, both = _evaluate("expect:\n  exposure:\n"
                             "    - {service: db, never_from: [external, other-networks], family: 6}\n"
                             "    - {service: db, never_from: [external, other-networks], family: 4}\n"
                             "    - {service: db, never_from: [external, other-networks]}\n")
    assert not v6.passed and v4.passed and not both.passed
    assert v6.message == ("2 violation(s): db 5432/tcp is reachable from other-networks (ip over IPv6); "
                          "db 5432/tcp is reachable from external (ip over IPv6)")  # in matrix order
    assert both.message == v6.message
    assert [e.what for e in v6.evidence] == ["web -> db at fd00:db8:20::3 on back, 5432/tcp (ip, IPv6)",
                                             "external -> db at fd00:db8:20::3 on back, 5432/tcp (ip, IPv6)"]


def test_published_false_sees_the_ipv6_publications():
    [o] = _evaluate("expect:\n  exposure:\n    - {service: web, published: false}\n")
    assert not o.passed
    assert "web publishes [2001:db8:1::10]:80->80/tcp" in o.message and "web publishes [::]:443->443/tcp" in o.message
    assert "[2001:db8:1::10]:80 -> web [fd00:db8:10::80]:80/tcp on front" in [e.result for e in o.evidence]
