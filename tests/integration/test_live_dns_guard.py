"""Why live mode may look names up inside real containers: with the uplink guard in
place, an unknown name's upstream query (the embedded DNS forwards it from the
container's namespace to the machine's resolver) is rejected in DOCKER-USER and nothing
for port 53 leaves by the uplink."""

from __future__ import annotations

import re
import subprocess

from simulator.adapters import lanpeer

COMMENT = "netsim-test-dns-count"


def _counter(table: str, chain: str, comment: str) -> int:
    out = subprocess.run(["iptables", "-t", table, "-L", chain, "-v", "-x", "-n"], capture_output=True,
                         text=True).stdout
    return sum(int(line.split()[0]) for line in out.splitlines() if f"/* {comment} */" in line)


def test_unknown_name_lookup_does_not_leave_the_machine(engine, root):
    api = engine.api
    engine.ensure_image("netsim-probe:1", build_default=True)
    uplink = lanpeer.uplink_interface()
    assert uplink
    rules = [["-t", "mangle", "POSTROUTING", "-o", uplink, "-p", proto, "--dport", "53",
              "-m", "comment", "--comment", COMMENT] for proto in ("udp", "tcp")]
    net = cid = None
    inserted = []
    try:
        # labelled nstest=1: a killed run's leftovers are removed by that label when the next session starts
        net = api.create_network("nsl-dnscheck", driver="bridge", labels={"nstest": "1"})["Id"]
        for r in rules:
            subprocess.run(["iptables", r[0], r[1], "-I", *r[2:]], check=True)
            inserted.append(r)
        cid = api.create_container("netsim-probe:1", ["sleep", "300"], name="nsl-dnscheck-1", labels={"nstest": "1"},
                                   host_config=api.create_host_config(network_mode="nsl-dnscheck"))["Id"]
        api.start(cid)
        resolv = api.exec_start(api.exec_create(cid, ["cat", "/etc/resolv.conf"])["Id"]).decode()
        assert re.findall(r"^nameserver\s+(\S+)", resolv, re.M) == ["127.0.0.11"]
        with lanpeer.uplink_guard() as note:
            assert note.startswith("uplink guard active")
            rejected = _counter("filter", "DOCKER-USER", lanpeer.guard_comment())
            left = _counter("mangle", "POSTROUTING", COMMENT)
            ex = api.exec_create(cid, ["nslookup", "netsim-live-leak-check.invalid"])
            api.exec_start(ex["Id"])
            rejected = _counter("filter", "DOCKER-USER", lanpeer.guard_comment()) - rejected
            left = _counter("mangle", "POSTROUTING", COMMENT) - left
        assert rejected > 0, "the upstream query did not pass DOCKER-USER: the guard would not catch it"
        assert left == 0, "a DNS packet left by the uplink"
    finally:
        for r in inserted:
            subprocess.run(["iptables", r[0], r[1], "-D", *r[2:]], check=False)
        if cid:
            api.remove_container(cid, force=True)
        if net:
            api.remove_network(net)
    assert "netsim-guard" not in subprocess.run(["iptables", "-S", "DOCKER-USER"], capture_output=True, text=True).stdout
