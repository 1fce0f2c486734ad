"""Reading intent: syntax, schema errors at file:line:column with "did you mean", the design wrapper."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from simulator.intent import load_with_intent
from simulator.intent.model import ExposureExpectation, PortSpec, ReachExpectation, StructureExpectation
from simulator.intent.parse import intent_schema, load_intent_text
from simulator.loaders.yamlsource import read_yaml

ROOT = Path(__file__).resolve().parents[2]


def messages(text: str) -> list[str]:
    _, problems = load_intent_text(text, "i.yaml")
    return [str(p) for p in problems]


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(intent_schema())


def test_reach_syntax():
    intent, problems = load_intent_text(
        "expect:\n  deny:\n    - from: [proxy, external]\n      to: db*\n      ports: [5432, 53/udp]\n      via: dns\n"
        "      why: back end\n", "i.yaml")
    assert problems == []
    [e] = intent.expectations
    assert isinstance(e, ReachExpectation) and not e.allowed
    assert [s.text for s in e.sources] == ["proxy", "external"] and [s.text for s in e.targets] == ["db*"]
    assert e.ports == (PortSpec(5432), PortSpec(53, "udp")) and e.via == "dns" and e.why == "back end"
    assert str(e.location) == "i.yaml:3:7" and e.path == "expect.deny[0]"
    assert e.text == "proxy, external does not reach db* on 5432/tcp, 53/udp via dns"


def test_exposure_and_structure_syntax():
    intent, problems = load_intent_text(
        "expect:\n  exposure:\n    - {service: db, never_from: [lan, other-networks]}\n    - {network: backend, published: false}\n"
        "  structure:\n    networks_per_container: {exactly: 1, except: [app]}\n    host_mode: false\n", "i.yaml")
    assert problems == []
    a, b, c, d = intent.expectations
    assert isinstance(a, ExposureExpectation) and a.audiences == ("external", "other-networks")
    assert b.published is False and b.services[0].text == "network:backend"
    assert isinstance(c, StructureExpectation) and c.exactly == 1 and c.exceptions[0].text == "app"
    assert d.rule == "host_mode" and str(d.location) == "i.yaml:7:5"


def test_unknown_key_with_did_you_mean():
    assert messages("expect:\n  deny:\n    - {from: a, to: b, port: 80}\n") == [
        'i.yaml:3:24: expect.deny[0].port: unknown key "port" (did you mean "ports"?)']
    assert messages("expect:\n  alow: []\n") == ['i.yaml:2:3: expect.alow: unknown key "alow" (did you mean "allow"?)']
    assert messages("expect: {}\naudti: {}\n") == ['i.yaml:2:1: audti: unknown key "audti" (did you mean "audit"?)']


def test_value_errors_name_the_place_and_what_is_right():
    assert messages("expect:\n  deny:\n    - {from: a, to: b, via: ipp}\n") == [
        'i.yaml:3:29: expect.deny[0].via: "ipp" is not one of any, ip, dns, host (did you mean "ip"?)']
    assert messages("expect:\n  allow:\n    - {from: a}\n") == ['i.yaml:3:7: expect.allow[0]: missing required key "to"']
    assert messages("expect:\n  allow:\n    - {from: a, to: b, ports: [99999]}\n") == [
        "i.yaml:3:32: expect.allow[0].ports[0]: 99999 is out of range (1-65535)"]
    assert messages("expect:\n  exposure:\n    - {service: a, never_from: internet}\n") == [
        'i.yaml:3:32: expect.exposure[0].never_from: the string "internet" is not an audience; '
        "use one of external, host, other-networks (lan means external)"]
    assert messages("audit: {disable: [NS3]}\n") == [
        'i.yaml:1:19: audit.disable[0]: "NS3" is not valid: a rule id is NS followed by three digits (e.g. NS003)']


def test_bad_yaml_is_a_problem_not_a_traceback(tmp_path):
    from simulator.errors import DesignLoadError
    from simulator.intent import load_intent_file

    bad = tmp_path / "i.yaml"
    bad.write_text("expect:\n  deny: [\n")
    with pytest.raises(DesignLoadError) as err:
        load_intent_file(bad)
    assert str(err.value.problems[0]).startswith(f"{bad}:3:1: YAML syntax error")


def test_design_with_expect_and_audit_loads():
    design, warnings, intent, problems = load_with_intent(ROOT / "tests/data/intent/clean.yaml")
    assert problems == [] and design.name == "clean-shop"
    assert len(intent.expectations) == 11 and intent.audit_disable == ()
    assert dict(intent.groups)["backends"][0].text == "label:tier=app"


def test_compose_extension_keys():
    design, _, intent, problems = load_with_intent(ROOT / "tests/data/intent/shop.compose.yaml")
    assert problems == [] and design.kind == "compose"
    assert [e.kind for e in intent.expectations] == ["deny", "resolve"] and intent.audit_disable == ("NS004",)


def test_design_and_intent_come_from_one_parse(monkeypatch):
    """The intent is read from the document the design came from: the YAML is parsed once."""
    from simulator.loaders import yamlsource

    calls = []
    real = yamlsource._build
    monkeypatch.setattr(yamlsource, "_build", lambda text, source: calls.append(source) or real(text, source))
    design, _, intent, _ = load_with_intent(ROOT / "tests/data/intent/clean.yaml")
    assert design.name == "clean-shop" and len(intent.expectations) == 11
    assert str(design.location("containers", "db")) == f"{ROOT / 'tests/data/intent/clean.yaml'}:21:3"
    assert len(calls) == 1


def test_the_documented_example_is_valid():
    text = (ROOT / "docs/intent.md").read_text().split("## A complete example")[1].split("```yaml\n")[1].split("```")[0]
    intent, problems = load_intent_text(text, "docs.yaml")
    assert problems == [] and len(intent.expectations) == 13 and intent.audit_disable == ("NS011",)
