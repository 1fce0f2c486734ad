"""compare(): model probes against observations; the reports; the probe agent's parsers."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema

from simulator.adapters.probe_agent import Dial, listener_command, parse_prepared, parse_results, prepare_script, probe_script
from simulator.analysis.probes import Probe
from simulator.engine.trace import Disposition, Hop, Place, RouteOutcome, RouteStep, Trace
from simulator.verify.compare import Comparison, compare, compare_addressing, compare_probe
from simulator.verify.junit import render_junit
from simulator.verify.observe import Observation
from simulator.verify.report import describe, render_json, render_text


def probe(disp=Disposition.DELIVERED, responder="db", **kw) -> Probe:
    fields = dict(source="web", via="ip", port=5432, protocol="tcp", target="db", network="back")
    fields.update(kw)
    return Probe(disposition=disp, reason="because", responder=responder if disp is Disposition.DELIVERED else None,
                 **fields)


def obs(p: Probe, status="answered", responder="db", address="10.0.0.3", detail="") -> Observation:
    return Observation(p.key, address, status, responder if status == "answered" else None, detail)


def test_agree_reachable_same_responder():
    p = probe()
    assert compare_probe(p, obs(p)).verdict == "agree"


def test_mismatch_reachability_both_ways():
    p = probe()
    row = compare_probe(p, obs(p, status="timeout"))
    assert row.verdict == "mismatch"
    assert row.why == "model: reachable (db answers); engine: unreachable (timeout)"
    q = probe(Disposition.DROPPED_ISOLATION)
    row = compare_probe(q, obs(q, responder="db"))
    assert row.verdict == "mismatch" and row.why == "model: unreachable (dropped); engine: reachable (db answered)"


def test_mismatch_wrong_responder_and_round_robin_names():
    p = probe()
    assert compare_probe(p, obs(p, responder="cache")).verdict == "mismatch"
    rr = probe(via="dns", target=None, network=None, name="web")._replace(responders=("a", "b"), responder="a")
    assert compare_probe(rr, obs(rr, responder="b")).verdict == "agree"


def test_a_balanced_name_is_compared_by_who_answers_at_each_address():
    """Each address of a name with several records is dialled: the set of containers that answered
    must be the model's responders (one replica the model expects but that did not answer, or one
    it did not expect, is a mismatch)."""
    from dataclasses import replace

    rr = probe(via="dns", target=None, network=None, name="web")._replace(
        responders=("web.1", "web.2"), responder="web.1", balanced_by="dns")
    both = replace(obs(rr, responder="web.1"), responders=("web.1", "web.2"))
    assert compare_probe(rr, both).verdict == "agree"
    one = replace(obs(rr, responder="web.1"), responders=("web.1",))
    row = compare_probe(rr, one)
    assert row.verdict == "mismatch" and "web.1/web.2 answer" in row.why and "web.1 answered" in row.why
    assert one.to_json()["responders"] == ["web.1"] and "responders" not in obs(rr).to_json()


def test_balanced_observations_merge_any_answer():
    from simulator.verify.observe import any_answered

    p = probe(via="dns", target=None, network=None, name="svc")
    merged = any_answered([obs(p, status="refused", address="10.0.0.2"), obs(p, responder="one", address="10.0.0.3"),
                            obs(p, responder="two", address="10.0.0.4")])
    assert merged.reachable and merged.address == "10.0.0.3" and merged.responders == ("one", "two")
    none = any_answered([obs(p, status="refused", address="10.0.0.2"), Observation(p.key, "10.0.0.3", "timeout",
                                                                                    transient=True)])
    assert not none.reachable and none.status == "refused" and none.transient


def test_balanced_probes_are_dialled_often_enough_to_see_every_responder():
    from simulator.verify.observe import addresses_to_dial

    rr = probe(via="dns", target=None, network=None, name="svc")._replace(responders=("a", "b"), balanced_by="dns")
    assert addresses_to_dial(rr, "10.0.0.2", ("10.0.0.2", "10.0.0.3")) == ["10.0.0.2", "10.0.0.3"]
    mesh = probe(via="host", target=None, network=None, host="node-a")._replace(
        responders=("web.1", "web.2", "web.3"), balanced_by="ingress")
    assert addresses_to_dial(mesh, "192.168.1.11", ()) == ["192.168.1.11"] * 6  # IPVS round robin: twice each
    assert addresses_to_dial(mesh._replace(responders=()), "192.168.1.11", ()) == ["192.168.1.11"]
    assert addresses_to_dial(probe(), "10.0.0.3", ()) == ["10.0.0.3"]


def test_intent_on_the_engine_counts_everyone_who_answered_a_balanced_probe():
    from dataclasses import replace

    from simulator.verify.intent_check import observed_probe

    rr = probe(via="dns", target=None, network=None, name="svc")._replace(responders=("a", "b"), balanced_by="dns")
    seen = observed_probe(rr, replace(obs(rr, responder="a"), responders=("a", "b")))
    assert seen.responders == ("a", "b") and seen.responder == "a"
    assert observed_probe(rr, obs(rr, status="timeout")).responders == ()


def test_detail_differences_are_not_failures():
    p = probe(Disposition.DROPPED_FILTER)
    row = compare_probe(p, obs(p, status="refused"))
    assert row.verdict == "detail" and row.why == "model: dropped; engine: refused"
    q = probe(Disposition.LEFT_MODEL)
    assert compare_probe(q, obs(q, status="no-route")).verdict == "agree"
    r = probe(Disposition.NAME_NOT_RESOLVED, via="dns", name="nope", target=None, network=None)
    assert compare_probe(r, obs(r, status="unresolved")).verdict == "agree"


def test_empty_answer_counts_as_unreachable():
    p = probe(Disposition.DROPPED_FILTER)
    assert compare_probe(p, obs(p, status="empty")).verdict == "agree"


def test_not_compared():
    p = probe()
    assert compare_probe(p, None).verdict == "not-compared"
    for status in ("skipped", "unsupported", "unsafe", "error"):
        row = compare_probe(p, obs(p, status=status, detail="why not"))
        assert row.verdict == "not-compared" and row.why == f"{status}: why not"


def comparison() -> Comparison:
    trace = Trace((Hop(Place("container", "web"), (RouteStep(RouteOutcome.REROUTED, IPv4Address("10.0.0.3"), "eth0"),)),),
                  Disposition.DELIVERED, "delivered", "db")
    good = probe()
    bad = probe(port=6379, responder="db")._replace(trace=trace)
    skipped = probe(source="host", via="dns", name="db", target=None, network=None)
    observations = {good.key: obs(good), bad.key: obs(bad, status="timeout"),
                    skipped.key: obs(skipped, status="skipped", detail="host resolver off limits")}
    rows = compare([good, bad, skipped], observations)
    addressing = compare_addressing(
        {("db", "back"): IPv4Address("10.0.0.3")}, {("db", "back"): IPv4Address("10.0.0.4")},
        {"back": IPv4Network("10.0.0.0/24")}, {"back": IPv4Network("10.0.0.0/24")},
        {"db": IPv4Address("10.0.0.1")}, {"db": IPv4Address("10.0.0.1")},
    )
    return Comparison("shop", "20.10", rows, addressing, ("a note",))


def test_counts_and_ok():
    cmp = comparison()
    assert cmp.counts() == {"probes": 3, "agree": 1, "mismatch": 1, "detail": 0, "not-compared": 1,
                            "address-mismatch": 1, "retried": 0}
    assert not cmp.ok
    assert cmp.address_mismatches[0].subject == "db on back"


def test_text_report_has_three_views_and_the_trace():
    text = render_text(comparison())
    assert text == render_text(comparison())
    for heading in ("== expected (model, engine 20.10) ==", "== observed (engine) ==", "== difference ==",
                    "== not compared (1) ==", "== addressing (model vs engine) =="):
        assert heading in text
    assert "MISMATCH web -> db@back 6379/tcp: model: reachable (db answers); engine: unreachable (timeout)" in text
    assert "      route: 10.0.0.3 via dev eth0" in text
    assert "!= address  db on back" in text
    assert text.endswith("3 probes: 1 agree, 1 mismatch, 0 differ in detail, 1 not compared; 1 addressing difference(s)"
                         "; 0 needed a retry\n")
    short = render_text(comparison(), show_agreeing=False)
    assert "== expected" not in short and "MISMATCH" in short


def test_json_report():
    data = render_json(comparison())
    json.dumps(data)
    assert data["ok"] is False and data["counts"]["mismatch"] == 1
    verdicts = {(p["source"], p["port"], p["via"]): p["verdict"] for p in data["probes"]}
    assert verdicts[("web", 6379, "ip")] == "mismatch"
    assert data["probes"][0]["observed"]["status"] in ("skipped", "answered", "timeout")


def test_junit_one_testcase_per_probe():
    xml = render_junit(comparison())
    root = ET.fromstring(xml.split("\n", 1)[1]).find("testsuite")
    assert root.get("tests") == "3" and root.get("failures") == "1"
    cases = root.findall("testcase")
    assert len(cases) == 3
    failed = [c for c in cases if c.find("failure") is not None]
    assert failed[0].get("name") == "web -> db@back 6379/tcp"
    assert len([c for c in cases if c.find("skipped") is not None]) == 1
    schema = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data/schemas/junit.reduced.xsd")
    assert [str(e.reason) for e in schema.iter_errors(xml)] == []


def test_describe():
    assert describe(probe()) == "web -> db@back 5432/tcp"
    assert describe(probe(via="dns", name="www", target=None, network=None)) == "web -> name www 5432/tcp"
    assert describe(probe(source="external", via="host", target=None, network=None, port=8080)) == "external -> host 8080/tcp"


# --- the probe agent's scripts and parsers --------------------------------------------

def test_parse_results():
    text = "p1 OK db saw 10.0.0.2:4242\np2 REFUSED\njunk\np3 TIMEOUT\np4 ERR No route to host\np5 EMPTY\n"
    res = parse_results(text)
    assert res["p1"].responder == "db" and res["p1"].status == "OK"
    assert res["p2"].status == "REFUSED" and res["p2"].responder is None
    assert res["p4"].answer == "No route to host"
    assert set(res) == {"p1", "p2", "p3", "p4", "p5"}


def test_parse_prepared():
    text = "GW 10.0.0.1\nNS 127.0.0.11\nNAME db 10.0.0.3 10.0.0.4 \nNAME nope \n"
    prep = parse_prepared(text)
    assert prep.gateway == "10.0.0.1" and prep.nameservers == ("127.0.0.11",)
    assert prep.names == {"db": ("10.0.0.3", "10.0.0.4"), "nope": ()}
    assert parse_prepared("NSERR non-loopback nameserver: names not looked up\n").note.startswith("non-loopback")


def test_scripts_are_batched():
    dials = [Dial(f"p{i}", "tcp" if i % 2 else "udp", "10.0.0.3", 80 + i) for i in range(50)]
    script = probe_script(dials)
    assert script.count("nsagent probe") == 1 and "p49 tcp 10.0.0.3 129" in script
    assert "xargs -P" in script  # busybox fallback, still concurrent
    assert prepare_script(["db", "we'b"]).count("nslookup") == 1
    cmd = listener_command("web", [(80, "tcp"), (53, "udp"), (80, "tcp")])
    assert cmd[:2] == ("/bin/sh", "-c") and "serve \"$NAME\" udp:53 tcp:80" in cmd[2]


def test_model_subnet_of_a_network_on_a_second_host():
    """A network that lives only on a design's second host has the model's subnet beside the
    engine's (verify showed "model -" for it, an addressing difference that was not one)."""
    from ipaddress import IPv4Interface, IPv4Network

    from simulator.deploy.plan import plan
    from simulator.engine.topology import build_world
    from simulator.pipeline import load
    from simulator.verify.observe import Facts
    from simulator.verify.session import _addressing

    design = load("""
name: two
hosts:
  a: {lan: {interface: eth0, address: 192.168.10.11/24}}
  b: {lan: {interface: eth0, address: 192.168.10.12/24}}
networks:
  front: {host: a, subnet: 172.30.0.0/24}
  jobs: {host: b, subnet: 172.31.0.0/24}
containers:
  web: {host: a, networks: [front]}
  worker: {host: b, networks: [jobs]}
""").design
    facts = Facts({}, {"front": IPv4Network("172.30.0.0/24"), "jobs": IPv4Network("172.31.0.0/24")}, {},
                  IPv4Interface("192.168.10.11/24"), IPv4Interface("192.168.10.2/24"), True, True)
    rows = {r.subject: r for r in _addressing(design, plan(design), facts, build_world(design)) if r.kind == "subnet"}
    assert rows["network jobs"].expected == "172.31.0.0/24"
    assert rows["network front"].expected == "172.30.0.0/24"
