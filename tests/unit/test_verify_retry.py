"""Transient failures: what is retried (and what is final), lost exec output, readiness,
and how the report counts retries and groups the probes it did not compare."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from simulator.adapters.probe_agent import (
    BEGIN, END, Dial, complete, parse_prepared, prepare_script, probe_script,
)
from simulator.analysis.probes import Probe
from simulator.engine.trace import Disposition
from simulator.verify.compare import Comparison, compare, needs_retry
from simulator.verify.junit import render_junit
from simulator.verify.observe import Observation, _exec_dials, exec_prepare
from simulator.verify.report import render_json, render_text
from simulator.verify.session import retry_transient


def probe(disp=Disposition.DELIVERED, **kw) -> Probe:
    fields = dict(source="web", via="ip", port=5432, protocol="tcp", target="db", network="back")
    fields.update(kw)
    return Probe(disposition=disp, reason="because", responder="db" if disp is Disposition.DELIVERED else None, **fields)


def seen(p, status, responder=None, transient=None, detail="") -> Observation:
    if transient is None:
        transient = status == "timeout"
    return Observation(p.key, "10.0.0.3", status, responder, detail, transient=transient)


# --- which first observations are retried -----------------------------------------------

def test_a_timeout_against_the_model_is_retried():
    assert needs_retry(probe(), seen(probe(), "timeout"))
    assert needs_retry(probe(Disposition.REFUSED), seen(probe(), "timeout"))  # differs in detail: retried too


def test_a_timeout_the_model_predicts_is_not_retried():
    dropped = probe(Disposition.DROPPED_FILTER)
    assert not needs_retry(dropped, seen(dropped, "timeout"))


def test_refusals_are_final():
    p = probe()
    for status in ("refused", "no-route", "empty"):
        assert not needs_retry(p, seen(p, status))
    nx = probe(via="dns", name="db", target=None, network=None)
    assert not needs_retry(nx, seen(nx, "unresolved", detail="db did not resolve in web (NXDOMAIN)"))


def test_a_dns_timeout_against_the_model_is_retried():
    p = probe(via="dns", name="db", target=None, network=None)
    assert needs_retry(p, seen(p, "unresolved", transient=True))
    unknown = probe(Disposition.NAME_NOT_RESOLVED, via="dns", name="nope", target=None, network=None)
    assert not needs_retry(unknown, seen(unknown, "unresolved", transient=True))


def test_a_lost_answer_is_retried_and_an_answer_never():
    p = probe()
    assert needs_retry(p, seen(p, "error", transient=True, detail="the prober printed no result"))
    assert not needs_retry(p, seen(p, "error", transient=False, detail="exec failed"))
    dropped = probe(Disposition.DROPPED_FILTER)
    assert not needs_retry(dropped, seen(dropped, "answered", responder="db"))  # a real mismatch: no retry


def test_retry_pass_only_dials_the_disagreeing_probes_with_longer_timeouts():
    late = probe(port=80)
    meant = probe(Disposition.DROPPED_FILTER, port=81)
    fine = probe(port=82)
    first = {late.key: seen(late, "timeout"), meant.key: seen(meant, "timeout"),
             fine.key: seen(fine, "answered", responder="db")}
    calls = []

    def fake_observe(design, plan, probes, engine, facts, guard, progress, engines=None, **kw):
        calls.append(([p.key for p in probes], kw))
        return {p.key: seen(p, "answered", responder="db") for p in probes}

    out = retry_transient(None, None, [late, meant, fine], first, None, None, None, observe_fn=fake_observe)
    [(keys, kw)] = calls
    assert keys == [late.key] and kw["timeout_ms"] > 1000 and kw["dns_timeout"] > 2 and kw["wait_ready"] is False
    assert out[late.key].attempts == 2 and out[late.key].reachable
    assert out[meant.key].attempts == 1 and out[fine.key] is first[fine.key]
    cmp = Comparison("d", "20.10", compare([late, meant, fine], out))
    assert cmp.ok and cmp.counts()["retried"] == 1
    assert retry_transient(None, None, [fine], {fine.key: first[fine.key]}, None, None, None,
                           observe_fn=fake_observe) == {fine.key: first[fine.key]} and len(calls) == 1


# --- the report ---------------------------------------------------------------------------

def test_report_counts_retries_in_text_json_and_junit():
    p = probe()
    row_obs = replace(seen(p, "answered", responder="db"), attempts=2)
    cmp = Comparison("d", "20.10", compare([p], {p.key: row_obs}))
    text = render_text(cmp)
    assert "== retried with a longer timeout (1)" in text and "web -> db@back 5432/tcp: then db answered" in text
    assert text.rstrip().endswith("1 needed a retry")
    data = render_json(cmp)
    assert data["counts"]["retried"] == 1 and data["probes"][0]["observed"]["attempts"] == 2
    root = ET.fromstring(render_junit(cmp))
    props = {e.get("name"): e.get("value") for e in root.iter("property")}
    assert props["retried"] == "1"
    assert "retried with a longer timeout" in root.find(".//system-out").text


def test_not_compared_probes_are_grouped_by_reason():
    why = "names are not looked up from the host or the LAN (the machine's resolver is off limits)"
    probes = [probe(source="host", via="dns", name=f"n{i}", target=None, network=None, port=80 + i) for i in range(14)]
    other = probe(source="web", port=9)
    obs = {p.key: Observation(p.key, None, "skipped", detail=why) for p in probes}
    obs[other.key] = Observation(other.key, None, "unsupported", detail="sctp is not probed")
    text = render_text(Comparison("d", "20.10", compare(probes + [other], obs)))
    section = text.split("== not compared (15) ==\n")[1].split("\n\n")[0].splitlines()
    assert section[0] == f"14 × skipped: {why}"
    assert section[1].startswith("    host -> name n0 80/tcp, ") and section[1].endswith("(11 more)")
    assert section[2] == "1 × unsupported: sctp is not probed" and section[3] == "    web -> db@back 9/tcp"
    assert len(section) == 4


# --- lost output and readiness ------------------------------------------------------------

class Flaky:
    """An engine whose exec loses the start of its output the first ``lose`` times."""

    def __init__(self, answer, lose=1):
        self.answer, self.lose, self.scripts = answer, lose, []

    def exec_batch(self, container, script, timeout=60.0):
        from simulator.adapters.engine import ExecResult

        self.scripts.append(script)
        text = self.answer(script)
        if self.lose > 0:
            self.lose -= 1
            text = text.split("\n", 2)[-1]  # the first lines never arrive
        return ExecResult(0, text)


def test_prepare_output_without_its_end_is_run_again():
    engine = Flaky(lambda s: f"{BEGIN}\nREADY\nGW 10.0.0.1\nNS 127.0.0.11\nNAME db 10.0.0.3\n{END}\n", lose=1)
    prep = exec_prepare(engine, "web", prepare_script(["db"]))
    assert prep.complete and prep.gateway == "10.0.0.1" and len(engine.scripts) == 2
    lost = parse_prepared("NAME db 10.0.0.3\n")  # the truncated first answer
    assert not lost.complete and lost.gateway is None


def test_lost_dial_results_are_dialled_again():
    def answer(script):
        ids = dict.fromkeys(line.split()[0] for line in script.splitlines() if line.startswith("p") and " tcp " in line)
        return f"{BEGIN}\n" + "".join(f"{i} OK db saw x\n" for i in ids) + f"{END}\n"

    engine = Flaky(answer, lose=1)
    dials = [Dial(f"p{i}", "tcp", "10.0.0.3", 80 + i) for i in range(4)]
    raw = _exec_dials(engine, "web", dials, True, 1000)
    assert sorted(raw) == ["p0", "p1", "p2", "p3"] and len(engine.scripts) == 2
    assert "p0 tcp" in engine.scripts[1] and "p2 tcp" not in engine.scripts[1]


def test_prepared_tells_nxdomain_from_timeouts():
    prep = parse_prepared(f"{BEGIN}\nNOTREADY tcp:80\nGW 10.0.0.1\nNAME db 10.0.0.3 \nNXNAME nope\nDNSTIMEOUT slow\n{END}\n")
    assert prep.names == {"db": ("10.0.0.3",), "nope": (), "slow": ()}
    assert prep.nxdomain == {"nope"} and prep.dns_timeouts == {"slow"} and prep.not_ready == ("tcp:80",)
    assert complete(f"{BEGIN}\nx\n{END}\n") and not complete(f"x\n{END}\n") and not complete("")


busybox = shutil.which("busybox")


@pytest.mark.skipif(busybox is None, reason="needs busybox (scripts/setup.sh installs busybox-static)")
def test_readiness_wait_sees_a_bound_listener(tmp_path):
    """The script's socket-table check, run by busybox sh here against this machine's table."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        script = prepare_script([], [(port, "tcp")])
        out = subprocess.run([busybox, "sh", "-c", script], capture_output=True, text=True, timeout=30).stdout
        assert out.splitlines()[1] == "READY" and complete(out)
    finally:
        s.close()
    quick = prepare_script([], [(port, "tcp")]).replace("-lt 300", "-lt 2")  # closed now: gives up fast
    out = subprocess.run([busybox, "sh", "-c", quick], capture_output=True, text=True, timeout=30).stdout
    assert out.splitlines()[1] == f"NOTREADY tcp:{port}"


def test_probe_script_ends_with_the_marker_and_takes_the_timeout():
    script = probe_script([Dial("p1", "tcp", "10.0.0.3", 80)], True, 5000)
    assert "nsagent probe 5000" in script and script.rstrip().endswith(f'{END}\\n" "$out"')
    assert "nc -w 5 " in script
