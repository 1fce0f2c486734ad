"""One JSON shape for traces (docs/reach-json.md), checked on the real output of `reach --trace`, `trace`,
and the evidence of `test` and `audit`."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from simulator.cli import app

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ["designs/frontend-backend.yaml", "designs/macvlan-lan.yaml", "designs/overlay-two-hosts.yaml",
           "designs/compose-shop/compose.yaml", "designs/ipv6/dual-stack.yaml"]

ADDRESS = {"type": "string", "pattern": r"^[0-9a-f.:]+$"}
OPT_ADDRESS = {"anyOf": [ADDRESS, {"type": "null"}]}
OPT_STR = {"type": ["string", "null"]}
OPT_INT = {"type": ["integer", "null"]}
PLACE = {"type": "object", "required": ["kind", "name", "shared_with"], "additionalProperties": False,
         "properties": {"kind": {"enum": ["container", "host", "external"]}, "name": {"type": "string"},
                        "shared_with": {"type": "array", "items": {"type": "string"}}}}


def _step(kind: str, type_: str, fields: dict) -> dict:
    common = {"kind": {"const": kind}, "type": {"const": type_}, "detail": {"type": "string"},
              "rule": {"type": "string"}, "text": {"type": "string"}}
    return {"type": "object", "required": [*common, *fields], "additionalProperties": False,
            "properties": {**common, **fields}}


STEPS = [
    _step("route", "route", {"outcome": {"enum": ["local", "connected", "gateway", "none", "not-router", "martian",
                                                  "host-local", "forward-off", "forward", "to-lan-router", "rerouted",
                                                  "no-address"]},
                             "destination": OPT_ADDRESS, "device": OPT_STR, "via": OPT_ADDRESS, "prefix": OPT_STR}),
    _step("route", "hop-limit", {"limit": {"type": "integer"}, "cycle": {"type": "array", "items": PLACE}}),
    _step("l2", "l2", {"outcome": {"enum": ["delivered", "bridged", "leaves-lan", "no-neighbour", "parent-isolation"]},
                       "neighbour": OPT_ADDRESS, "segment": OPT_STR, "bridge": OPT_STR, "device": OPT_STR,
                       "driver": OPT_STR}),
    _step("l2", "forged-frame", {"destination": ADDRESS, "port": {"type": "integer"}, "protocol": {"type": "string"},
                                 "host": {"type": "string"}, "device": {"type": "string"}}),
    _step("netfilter", "filter", {"table": {"enum": ["raw", "filter"]}, "chain": {"type": "string"},
                                  "verdict": {"type": "string"}, "path": {"type": "array", "items": {"type": "string"}},
                                  "matched": OPT_STR, "policy": {"type": "string"}}),
    _step("netfilter", "unmanaged", {"table": {"const": "filter"}, "chain": {"type": "string"}}),
    _step("netfilter", "nat", {"chain": {"type": "string"}, "action": {"enum": ["DNAT", "MASQUERADE"]},
                               "matched": {"type": "string"}, "before_address": ADDRESS, "after_address": OPT_ADDRESS,
                               "before_port": OPT_INT, "after_port": OPT_INT, "device": OPT_STR}),
    _step("socket", "socket", {"address": ADDRESS, "port": {"type": "integer"}, "protocol": {"type": "string"},
                               "owner": OPT_STR}),
    _step("proxy", "proxy", {"outcome": {"enum": ["connects", "udp-reply-lost"]}, "dialled": ADDRESS,
                             "listen_address": ADDRESS, "port": {"type": "integer"}, "protocol": {"type": "string"},
                             "container_address": ADDRESS, "container_port": {"type": "integer"}}),
    _step("dns", "dns", {"query": {"type": "string"}, "outcome": {"enum": ["answered", "no-resolver", "nxdomain", "no-aaaa"]},
                         "asker": {"type": "string"}, "resolver": OPT_ADDRESS,
                         "answers": {"type": "array", "items": ADDRESS}, "network": OPT_STR,
                         "qualified": {"type": "boolean"}}),
]
TRACE = {
    "type": "object", "required": ["disposition", "reason", "responder", "hops", "text"],
    "properties": {
        "disposition": {"enum": ["DELIVERED", "REFUSED", "DROPPED_FILTER", "DROPPED_ISOLATION", "DROPPED_L2", "NO_ROUTE",
                                 "NAME_NOT_RESOLVED", "LEFT_MODEL", "LOOP"]},
        "reason": {"type": "string"}, "responder": OPT_STR, "text": {"type": "string"},
        "hops": {"type": "array", "items": {
            "type": "object", "required": ["node", "place", "steps"], "additionalProperties": False,
            "properties": {"node": {"type": "string"}, "place": PLACE, "steps": {"type": "array", "items": {"oneOf": STEPS}}}}},
    },
}
TRACE_OUTPUT = {"type": "array", "items": {"allOf": [TRACE, {"required": ["path"], "properties": {"path": {"type": "string"}}}]}}
TRACE_CHECK = jsonschema.Draft202012Validator(TRACE)
OUTPUT_CHECK = jsonschema.Draft202012Validator(TRACE_OUTPUT)


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _consistent(trace: dict) -> None:
    """The text is what the fields say: hop labels and step lines in order, then the verdict."""
    lines = []
    for hop in trace["hops"]:
        lines.append(hop["node"])
        for step in hop["steps"]:
            assert step["text"] == f"{step['kind']}: {step['detail']}" + (f"  [{step['rule']}]" if step["rule"] else "")
            lines.append(f"  {step['text']}")
    lines.append(f"=> {trace['disposition']}: {trace['reason']}")
    assert trace["text"] == "\n".join(lines)


@pytest.mark.parametrize("design", DESIGNS)
def test_reach_trace_json_has_the_trace_shape(design):
    data = json.loads(_run("reach", str(ROOT / design), "--format", "json", "--trace"))
    traces = [p["trace"] for p in data["probes"] if "trace" in p]
    assert traces and len(traces) == len(data["probes"])
    seen = set()
    for p, t in zip(data["probes"], traces, strict=True):
        TRACE_CHECK.validate(t)
        _consistent(t)
        assert (t["disposition"], t["responder"]) == (p["disposition"], p["responder"] if p["reachable"] else None)
        seen |= {s["type"] for h in t["hops"] for s in h["steps"]}
    assert {"route", "socket"} <= seen


CASES = [("designs/frontend-backend.yaml", "proxy", "db:5432"), ("designs/frontend-backend.yaml", "external", "proxy:443"),
         ("designs/internal-network.yaml", "secrets", "host:8080"), ("designs/macvlan-lan.yaml", "host", "printer-service:631"),
         ("designs/overlay-two-hosts.yaml", "web", "api:8080"), ("designs/host-mode.yaml", "worker", "host:9100"),
         ("designs/compose-shop/compose.yaml", "web", "db")]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]}->{c[2]}" for c in CASES])
def test_trace_json_is_the_same_shape_and_says_what_the_table_says(case):
    design, source, target = case
    data = json.loads(_run("trace", str(ROOT / design), source, target, "--format", "json"))
    OUTPUT_CHECK.validate(data)
    table = _run("trace", str(ROOT / design), source, target)
    assert table == "".join(f"── {source} → {t['path']}\n{t['text']}\n\n" for t in data)
    for t in data:
        _consistent(t)


def test_the_schemas_are_valid():
    jsonschema.Draft202012Validator.check_schema(TRACE_OUTPUT)


def test_every_step_type_is_in_the_schema():
    from simulator.engine import trace

    types = {cls.type for cls in vars(trace).values() if isinstance(cls, type) and issubclass(cls, trace.Step) and cls.type}
    assert types == {s["properties"]["type"]["const"] for s in STEPS}


# --- evidence in `netsim test` and `netsim audit` JSON: the same trace shape -----------------------

HOP = TRACE["properties"]["hops"]["items"]
EVIDENCE = {
    "type": "object", "required": ["what", "result", "trace", "lookup", "trace_text"], "additionalProperties": False,
    "properties": {"what": {"type": "string"}, "result": {"type": "string"}, "trace": {"anyOf": [TRACE, {"type": "null"}]},
                   "lookup": {"anyOf": [{"type": "array", "minItems": 1, "items": HOP}, {"type": "null"}]},
                   "trace_text": OPT_STR},
}
EVIDENCE_CHECK = jsonschema.Draft202012Validator(EVIDENCE)
AMBIGUOUS = """
name: names
engine_version: "28.0"
hosts: {docker1: {lan: {interface: eth0, address: 192.168.1.10/24}}}
networks:
  shop: {subnet: 172.30.10.0/24}
containers:
  aa: {networks: {shop: {aliases: [cache]}}, listens: [6379]}
  bb: {networks: {shop: {aliases: [cache]}}, listens: [6379]}
"""
INTENT = ROOT / "tests/data/intent"


def _invoke(*args: str, code: int) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def _evidence_consistent(evidence: list[dict], table: str) -> Counter:
    """Each evidence item has the shape, its text is what its trace or lookup says, and the table prints that text."""
    seen: Counter = Counter()
    for ev in evidence:
        EVIDENCE_CHECK.validate(ev)
        assert not (ev["trace"] and ev["lookup"])
        if ev["trace"] is not None:
            _consistent(ev["trace"])
            assert ev["trace_text"] == ev["trace"]["text"]
            seen["trace"] += 1
        elif ev["lookup"] is not None:
            lines = []
            for hop in ev["lookup"]:
                assert [s["type"] for s in hop["steps"]] == ["dns"] and hop["steps"][0]["detail"] == ev["result"]
                lines += [hop["node"], *(f"  {s['text']}" for s in hop["steps"])]
            assert ev["trace_text"] == "\n".join(lines)
            seen["lookup"] += 1
        else:
            assert ev["trace_text"] is None
        if ev["trace_text"] is not None:
            assert any(textwrap.indent(ev["trace_text"], " " * n) in table for n in (6, 8))  # audit, test
    return seen


@pytest.mark.parametrize("design", DESIGNS + ["designs/default-vs-user-bridge.yaml", "designs/host-mode.yaml", "ambiguous"])
def test_audit_json_evidence_has_the_trace_shape(design, tmp_path):
    path = ROOT / design
    if design == "ambiguous":
        path = tmp_path / "ambiguous.yaml"
        path.write_text(AMBIGUOUS, encoding="utf-8")
    data = json.loads(_invoke("audit", str(path), "--fail-on", "never", "--format", "json", code=0))
    table = _invoke("audit", str(path), "--fail-on", "never", code=0)
    seen = _evidence_consistent([ev for f in data["findings"] for ev in f["evidence"]], table)
    assert seen["lookup" if design == "ambiguous" else "trace"] > 0


@pytest.mark.parametrize("design,intent", [("designs/frontend-backend.yaml", "frontend-backend.failing.intent.yaml"),
                                           ("tests/data/intent/shop.compose.yaml", "compose-shop.intent.yaml")])
def test_test_json_evidence_has_the_trace_shape(design, intent):
    args = ("test", str(ROOT / design), "--intent", str(INTENT / intent))
    data = json.loads(_invoke(*args, "--format", "json", code=1))
    seen = _evidence_consistent([ev for o in data["outcomes"] for ev in o["evidence"]], _invoke(*args, code=1))
    assert seen["trace"] > 0 and seen["lookup"] > 0
