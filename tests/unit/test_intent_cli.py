"""`netsim test`: exit codes, formats (table, json, JUnit XML, SARIF 2.1.0) validated against schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import xmlschema

from sarif_schema import official_sarif_validator
import pytest
from typer.testing import CliRunner

from simulator.cli import app

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests/data/schemas"
FB = str(ROOT / "designs/frontend-backend.yaml")
GOOD = str(ROOT / "tests/data/intent/frontend-backend.intent.yaml")
BAD = str(ROOT / "tests/data/intent/frontend-backend.failing.intent.yaml")


def run(*args):
    return CliRunner().invoke(app, list(args))


def sarif_validator():
    schema = json.loads((SCHEMAS / "sarif-2.1.0.reduced.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def junit_errors(xml: str) -> list[str]:
    """Errors of ``xml`` against the (reduced) common JUnit XSD, by a real XSD validator."""
    schema = xmlschema.XMLSchema((SCHEMAS / "junit.reduced.xsd").read_text())
    return [str(e.reason) for e in schema.iter_errors(xml)]


def test_passing_intent_exits_0():
    r = run("test", FB, "--intent", GOOD)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("frontend-backend (engine 20.10): all 8 expectation(s) hold\n")


def test_failing_intent_exits_1_with_traces():
    r = run("test", FB, "--intent", BAD)
    assert r.exit_code == 1
    assert "frontend-backend (engine 20.10): 6 of 7 expectation(s) failed" in r.output
    assert f"FAIL {BAD}:9:7 allow: proxy reaches db on 5432/tcp" in r.output
    assert "netfilter: filter FORWARD: DROP (via FORWARD > DOCKER-ISOLATION-STAGE-1 > DOCKER-ISOLATION-STAGE-2)" in r.output


def test_design_with_expect_section():
    r = run("test", str(ROOT / "tests/data/intent/clean.yaml"))
    assert r.exit_code == 0 and "all 11 expectation(s) hold" in r.output


def test_json_output(tmp_path):
    out = tmp_path / "r.json"
    r = run("test", FB, "--intent", BAD, "--format", "json", "-o", str(out))
    assert r.exit_code == 1 and r.output == ""
    data = json.loads(out.read_text())
    assert (data["passed"], data["failed"]) == (1, 6)
    first = data["outcomes"][0]
    assert first["kind"] == "deny" and first["location"] == f"{BAD}:4:7" and first["evidence"][0]["trace"]["disposition"] == "DELIVERED"


def test_junit_validates():
    r = run("test", FB, "--intent", BAD, "--format", "junit")
    assert r.exit_code == 1
    assert junit_errors(r.output) == []
    assert 'tests="7" failures="6"' in r.output and "<failure message=" in r.output


def test_sarif_validates_and_points_at_the_expectation():
    r = run("test", FB, "--intent", BAD, "--format", "sarif")
    assert r.exit_code == 1
    log = json.loads(r.output)
    sarif_validator().validate(log)
    official_sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == 6
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["region"] == {"startLine": 4, "startColumn": 7}
    assert loc["artifactLocation"]["uri"].endswith("tests/data/intent/frontend-backend.failing.intent.yaml")
    assert results[0]["ruleId"] == "intent/deny" and results[0]["level"] == "error"


def test_sarif_schema_rejects_what_sarif_forbids():
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "a"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(bad)  # a result needs a message


def test_junit_checker_rejects_what_the_xsd_forbids():
    assert junit_errors('<testsuites><testsuite name="x"><testcase name="a"/></testsuite></testsuites>') != []


def test_intent_errors_exit_1_with_places(tmp_path):  # an invalid intent is an invalid input, not misuse
    f = tmp_path / "i.yaml"
    f.write_text("expect:\n  deny:\n    - {from: proxi, to: db}\n    - {from: proxy, to: label:tier=x}\n")
    r = run("test", FB, "--intent", str(f))
    assert r.exit_code == 1
    assert f'{f}:3:14: "proxi" is not a container or group of the design (did you mean "proxy"?)' in r.output
    assert f'{f}:4:25: "label:tier=x" matches no container; no container has labels' in r.output
    assert "Traceback" not in r.output


def test_schema_errors_exit_1(tmp_path):
    f = tmp_path / "i.yaml"
    f.write_text("expect:\n  deny:\n    - {from: proxy, too: db}\n")
    r = run("test", FB, "--intent", str(f))
    assert r.exit_code == 1
    assert f'{f}:3:21: expect.deny[0].too: unknown key "too" (did you mean "to"?)' in r.output


def test_no_expectations_exit_2():
    r = run("test", FB)
    assert r.exit_code == 2 and "no expectations to test" in r.output


def test_compose_with_intent_file():
    r = run("test", str(ROOT / "designs/compose-shop/compose.yaml"), "--intent",
            str(ROOT / "tests/data/intent/compose-shop.intent.yaml"), "-e", "28.0")
    assert r.exit_code == 1
    assert "3 of 4" not in r.output and "1 of 4 expectation(s) failed" in r.output
