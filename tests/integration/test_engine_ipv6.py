"""Dual-stack designs verified for real: probes of both families, and the IPv6 safety promises.

* ``nsv6`` (tests/data/ipv6/nsv6.yaml) on this machine's engine as it runs: 20.10 with
  ip6tables off (no daemon.json).
* ``nsv6-ip6t``, the same design whose host says ``experimental: true, ip6tables: true``: run
  as a daemon of its own started from this machine's dockerd with those settings.
* designs/ipv6/dual-stack.yaml, the issue's example (IPv6 on docker0): a daemon of its own too.

Each must agree with the model probe for probe (0 mismatches), with family-6 probes compared
from containers, from the host and from the LAN peer.  Safety, on this machine's engine:
while the design is deployed the ip6tables OUTPUT drops of MLD reports (ICMPv6 131, 132,
143) are on the uplink and the forwarding settings are recorded under /run/netsim; after
``destroy`` (here in another process, as ``netsim destroy`` would) the rules and the record
are gone and ``net.ipv6.conf.{all,default}.forwarding`` are as found.  No namespace netsim
creates has a default route of either family, and an address the kernel would send out of
the uplink is refused before anything is dialled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from simulator.adapters import extra_daemon, ipv6_guard, lanpeer
from simulator.adapters.extra_daemon import local_dockerd
from simulator.deploy.apply import destroy
from simulator.deploy.plan import plan
from simulator.errors import UnsafeTarget
from simulator.loaders import load_design
from simulator.verify.observe import build_guard, gather_facts, host_forbidden, host_local_routes
from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
NSV6 = ROOT / "tests" / "data" / "ipv6" / "nsv6.yaml"
EXAMPLE = ROOT / "designs" / "ipv6" / "dual-stack.yaml"
# not observed: names from the host's or the LAN's resolver (the machine's, off limits)
NOT_OBSERVED = ("names are not looked up from the host or the LAN",)


def forwarding() -> dict[str, str]:
    keys = ("net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.forwarding")
    out = subprocess.run(["sysctl", *keys], capture_output=True, text=True, check=True).stdout
    return dict(line.split(" = ") for line in out.splitlines())


def mld_rules() -> list[str]:
    return ipv6_guard.rules_present()


def problems(cmp) -> list[str]:
    """Every mismatch, precisely: the probe, what the model says, what the engine did."""
    out = []
    for r in cmp.rows:
        if r.verdict not in ("mismatch", "detail"):
            continue
        p, o = r.probe, r.observation
        out.append(f"IPv{p.family} {p.source} via {p.via} {p.target or p.name or p.host or ''}"
                   f"{'@' + p.network if p.network else ''}:{p.port}/{p.protocol}: model {p.disposition} "
                   f"({p.responder}), engine {o.status if o else None} ({o.responder if o else None}) at "
                   f"{o.address if o else None}: {r.why}")
    return out


def assert_both_families_compared(cmp, containers: set[str]) -> None:
    assert problems(cmp) == []
    skipped = {r.why for r in cmp.rows if r.verdict == "not-compared"}
    assert all(any(ok in why for ok in NOT_OBSERVED) for why in skipped), skipped
    compared6 = {r.probe.source for r in cmp.rows if r.probe.family == 6 and r.verdict == "agree"}
    compared4 = {r.probe.source for r in cmp.rows if r.probe.family == 4 and r.verdict == "agree"}
    assert {"host", "external"} <= compared6 and containers <= compared6, compared6
    assert {"host", "external"} <= compared4 and containers <= compared4, compared4
    # every family-6 dial went to an IPv6 address, and someone answered over IPv6 from each vantage point
    dialled6 = [r.observation.address for r in cmp.rows
                if r.probe.family == 6 and r.observation is not None and r.observation.address]
    assert dialled6 and all(":" in a for a in dialled6)
    answered6 = {r.probe.source for r in cmp.rows if r.probe.family == 6 and r.observation is not None
                 and r.observation.reachable}
    assert {"host", "external"} <= answered6


def assert_no_default_route(namespace: str) -> None:
    for family in ("-4", "-6"):
        routes = subprocess.run(["ip", "-n", namespace, family, "route", "show", "default"],
                                capture_output=True, text=True, check=True).stdout
        assert routes.strip() == "", f"{namespace} has a default route ({family}): {routes}"


def uplink_address6() -> str | None:
    """An address on the uplink's own IPv6 prefix (where the machine's router lives), if it has one."""
    uplink = lanpeer.uplink_interface("-6")
    for route, dev in lanpeer.host_routes6():
        if dev == uplink and not route.is_link_local and route.prefixlen < 128:
            return str(route.network_address + 1)
    return None


def destroy_elsewhere(design_path: Path, name: str | None = None) -> subprocess.CompletedProcess:
    """``netsim destroy`` in a process of its own (it finds the IPv6 record under /run/netsim)."""
    argv = [sys.executable, "-c", "from simulator.cli import main; main()", "destroy", str(design_path)]
    if name is not None:  # a design changed in code: destroy by name through the API, in another process
        code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from simulator.deploy.apply import destroy; "
                f"from simulator.adapters.docker_engine import DockerEngine; print(destroy({name!r}, DockerEngine()))")
        argv = [sys.executable, "-c", code]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture
def nsv6():
    return load_design(NSV6)[0]


@pytest.fixture
def dockerd():
    found = local_dockerd()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no dockerd binary to start a daemon with ip6tables on")
        pytest.skip("no dockerd binary")
    return found


def test_dual_stack_on_this_machines_engine_ip6tables_off(engine, root, nsv6, leftovers):
    before = forwarding()
    assert ipv6_guard.holders() == [], "another IPv6 deployment is on this machine's engine"
    try:
        cmp = run_verify(nsv6, engine, VerifyOptions(keep=True))
        assert_both_families_compared(cmp, {"web", "api", "db", "old"})
        # while deployed: MLD reports dropped on the uplink, forwarding recorded as found
        uplink = lanpeer.uplink_interface("-6") or lanpeer.uplink_interface("-4")
        rules = mld_rules()
        assert sorted(r.split("--icmpv6-type ")[1].split()[0] for r in rules) == ["131", "132", "143"], rules
        assert all(f"-o {uplink} " in r and r.endswith("-j DROP") for r in rules)
        record = json.loads(ipv6_guard.RECORD.read_text())
        assert record["holders"] == ["nsv6"]
        assert {k: record["found"][k] for k in ("all", "default")} == {
            "all": before["net.ipv6.conf.all.forwarding"], "default": before["net.ipv6.conf.default.forwarding"]}
        assert forwarding()["net.ipv6.conf.all.forwarding"] == "1"  # what the engine did (confirmed-rules §18h)
        the_plan = plan(nsv6, caps=lanpeer.kernel_capabilities())
        assert_no_default_route(the_plan.lan.namespace)
        # the guard: the uplink's IPv6 prefix is refused, and the kernel's answer is asked for each address
        facts = gather_facts(nsv6, the_plan, engine, True)
        guard = build_guard(facts, the_plan, host_forbidden(the_plan, facts), host_local_routes())
        outside = uplink_address6()
        if outside is not None:
            with pytest.raises(UnsafeTarget):
                guard.check(outside, "web")
            assert lanpeer.leaves_by_uplink(outside) == lanpeer.uplink_interface("-6")
        assert lanpeer.leaves_by_uplink(str(facts.containers["web"].addresses6["front"].ip)) is None
        assert guard.allows(facts.containers["db"].addresses6["back"].ip)
    finally:
        gone = destroy_elsewhere(NSV6)
    assert gone.returncode == 0, gone.stderr
    assert "IPv6 forwarding put back as found" in gone.stdout
    assert mld_rules() == [] and not ipv6_guard.RECORD.exists()
    assert forwarding() == before
    assert leftovers(engine, "nsv6") == []


def test_a_failed_dual_stack_deploy_puts_forwarding_back(engine, root, nsv6, leftovers, monkeypatch):
    """The IPv6 networks exist (forwarding turned on by the engine), then a container fails."""
    from simulator.adapters.docker_engine import DockerEngine
    from simulator.errors import EngineError

    before = forwarding()
    seen = {}

    def fail(self, spec):
        seen.update(forwarding=forwarding(), rules=mld_rules(), holders=ipv6_guard.holders())
        raise EngineError(f"creating container {spec.name} failed: refused by the test")

    monkeypatch.setattr(DockerEngine, "create_container", fail)
    with pytest.raises(EngineError, match="refused by the test"):
        run_verify(nsv6, engine, VerifyOptions())
    assert seen["forwarding"]["net.ipv6.conf.all.forwarding"] == "1" and len(seen["rules"]) == 3
    assert seen["holders"] == ["nsv6"]
    assert forwarding() == before and mld_rules() == [] and not ipv6_guard.RECORD.exists()
    assert leftovers(engine, "nsv6") == []


def test_dual_stack_on_a_daemon_with_ip6tables_on(engine, root, nsv6, dockerd, leftovers):
    host = nsv6.hosts[0]
    design = replace(nsv6, name="nsv6-ip6t", hosts=(
        replace(host, daemon=replace(host.daemon, experimental=True, ip6tables=True)),))
    before = forwarding()
    try:
        cmp = run_verify(design, None, VerifyOptions(keep=True, binaries=dockerd))
        assert cmp.engine_version == "20.10"
        assert_both_families_compared(cmp, {"web", "api", "db", "old"})
        [daemon] = extra_daemon.discover(design.name)
        assert json.loads(Path(daemon.config_file).read_text())["ip6tables"] is True
        ns = ["nsenter", f"--net=/run/netns/{daemon.namespace}"]
        rules = subprocess.run(ns + ["ip6tables", "-S", "FORWARD"], capture_output=True, text=True).stdout
        assert rules.splitlines()[0] == "-P FORWARD DROP" and "DOCKER-ISOLATION-STAGE-1" in rules  # the engine's
        assert_no_default_route(daemon.namespace)
        assert_no_default_route(plan(design, binaries=dockerd).lan.namespace)
        # nothing of it on this machine's engine, its ip6tables or its sysctls
        assert mld_rules() == [] and ipv6_guard.holders() == [] and forwarding() == before
    finally:
        gone = destroy_elsewhere(NSV6, design.name)
    assert gone.returncode == 0, gone.stderr
    assert extra_daemon.leftovers(design.name) == [] and leftovers(engine, design.name) == []


def test_the_issue_example_on_a_daemon_with_ipv6_on_docker0(engine, root, dockerd, leftovers):
    design = load_design(EXAMPLE)[0]
    try:
        cmp = run_verify(design, None, VerifyOptions(binaries=dockerd))
        assert_both_families_compared(cmp, {"web", "api", "db"})
    finally:
        destroy(design.name, None)
    assert extra_daemon.leftovers(design.name) == [] and leftovers(engine, design.name) == []
