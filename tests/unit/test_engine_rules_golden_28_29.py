"""The rules netsim generates for 28.5 and 29.7 equal what dockerd 28.5.2 and 29.7.2 programmed.

Each ``tests/data/engine/<version>/iptables-save-<setup>.txt`` was captured by
``tests/data/engine/capture-28-29.sh <setup>`` on a daemon built from moby's tag and run alone
in its own network namespace (docs/confirmed-rules.md, section 15);
``tests/data/engine/capture-28-29-<setup>.yaml`` describes the same setup. The comparison is the
20.10 one (tests/unit/test_engine_rules_golden.py) made stricter: the ``-A`` rules of each table as
sets, and also each table's policies and the chains it declares. Two normalisations, both read
from the capture's own header: bridge ids become netsim's ``br-<network>``, and the DNAT of a port
published without a host port names the host port the engine picked (netsim cannot know it), so
that one rule is left out of the engine's side.
"""

import re
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from simulator.engine.topology import build_world
from simulator.loaders import load_design

DATA = Path(__file__).resolve().parents[1] / "data" / "engine"
CASES = [(version, line, setup) for version, line in (("28.5.2", "28.5"), ("29.7.2", "29.7")) for setup in ("full", "noproxy", "direct")]


def _engine_tables(version: str, setup: str) -> dict[str, dict[str, set[str]]]:
    text = (DATA / version / f"iptables-save-{setup}.txt").read_text()
    rename = {bridge: f"br-{name}" for name, bridge in re.findall(r"#\s+network (\S+) -> (br-[0-9a-f]{12})", text)}
    ephemeral = {port for port in re.findall(r"#\s+container .* -> 0\.0\.0\.0:(\d+)", text) if int(port) >= 32768}
    tables: dict[str, dict[str, set[str]]] = {}
    table = None
    for line in text.splitlines():
        for real, ours in rename.items():
            line = line.replace(real, ours)
        if line.startswith("*"):
            table = line[1:]
            tables[table] = {"rules": set(), "policies": set(), "chains": set()}
        elif table is None or line.startswith("#"):
            continue
        elif line.startswith(":"):
            chain, policy = line[1:].split()[:2]
            if policy == "-":
                tables[table]["chains"].add(f"-N {chain}")
            else:
                tables[table]["policies"].add(f"-P {chain} {policy}")
        elif line.startswith("-A"):
            port = re.search(r"--dport (\d+) -j DNAT", line)
            if port and port.group(1) in ephemeral:
                continue  # the engine's pick of an ephemeral host port
            tables[table]["rules"].add(line)
    return tables


def _netsim_tables(line: str, setup: str) -> dict[str, dict[str, set[str]]]:
    design, _ = load_design(DATA / f"capture-28-29-{setup}.yaml")
    world = build_world(design, line)
    rs = world.host_ns("docker1").ruleset
    out = {}
    for table in (rs.filter, rs.nat, rs.raw):
        lines = table.lines()
        out[table.name] = {
            "rules": {x for x in lines if x.startswith("-A")},
            "policies": {x for x in lines if x.startswith("-P")},
            "chains": {x for x in lines if x.startswith("-N")},
        }
    return out


@pytest.mark.parametrize(("version", "line", "setup"), CASES)
@pytest.mark.parametrize("table", ["filter", "nat", "raw"])
def test_table_matches_engine(version, line, setup, table):
    engine = _engine_tables(version, setup)[table]
    ours = _netsim_tables(line, setup)[table]
    for part in ("rules", "policies", "chains"):
        only_netsim, only_engine = sorted(ours[part] - engine[part]), sorted(engine[part] - ours[part])
        assert (only_netsim, only_engine) == ([], []), f"{table} {part}"


@pytest.mark.parametrize(("version", "line", "setup"), CASES)
def test_addresses_match_engine(version, line, setup):
    design, _ = load_design(DATA / f"capture-28-29-{setup}.yaml")
    world = build_world(design, line)
    text = (DATA / version / f"iptables-save-{setup}.txt").read_text()
    observed = re.findall(r"#\s+container (\S+) (.*?) ports:", text)
    assert len(observed) == len(design.containers)
    for name, nets in observed:
        engine = dict(re.findall(r"(\S+?)=(\d+\.\d+\.\d+\.\d+)", nets))
        ours = {ep.network: str(ep.address) for ep in world.addressing.endpoints_of(name)}
        assert ours == engine, name


def test_capture_normalisation_finds_the_ephemeral_port():
    """The one rule the normalisation drops is the DNAT of nx-a3's ephemeral port, and only that."""
    text = (DATA / "29.7.2" / "iptables-save-full.txt").read_text()
    dnat = [x for x in text.splitlines() if "-j DNAT" in x]
    kept = [x for x in _engine_tables("29.7.2", "full")["nat"]["rules"] if "-j DNAT" in x]
    assert len(dnat) - len(kept) == 1
    assert "10.99.1.4:80" not in " ".join(kept)


@pytest.mark.parametrize(("line", "refused"), [("28.5", True), ("29.7", True), ("27.0", False)])
def test_isolated_gateway_mode_needs_an_internal_network(tmp_path, line, refused):
    """Both engines refused ``-o com.docker.network.bridge.gateway_mode_ipv4=isolated`` on a network
    that is not internal (capture-28-29.sh's first run); before 28.0 the option does not exist and is ignored."""
    from simulator.engine.checks import engine_problems

    text = "name: iso\nhosts: {docker1: {}}\nnetworks:\n  nx-iso: {subnet: 10.99.32.0/24, gateway_mode: isolated}\n"
    path = tmp_path / "iso.yaml"
    path.write_text(text)
    design, _ = load_design(path)
    messages = [p.message for p in engine_problems(design, line)]
    assert any("can only be used for an internal network" in m for m in messages) is refused
    path.write_text(text.replace("gateway_mode: isolated", "gateway_mode: isolated, internal: true"))
    design, _ = load_design(path)
    assert not any("internal network" in p.message for p in engine_problems(design, line))


# --- what the engines answered (probe-28-29.sh), against the model's walk --------------------------

PROBE_LOGS = [
    (version, line, log, design)
    for version, line in (("28.5.2", "28.5"), ("29.7.2", "29.7"))
    for log, design in (("full", "full"), ("noproxy", "noproxy"), ("direct", "direct"))
] + [("29.7.2", "29.7", "nft", "full")]  # 29.7.2 with "firewall-backend": "nftables", setup full


def _observations(version: str, log: str) -> list[tuple[str, str, int, str]]:
    text = (DATA / version / f"probes-{log}.txt").read_text()
    return [(src, ip, int(port), answer) for src, ip, port, answer in re.findall(r"\[(\S+) -> ([\d.]+):(\d+)\] (.*)", text)]


@pytest.mark.parametrize(("version", "line", "log", "setup"), PROBE_LOGS)
def test_model_answers_as_the_engine_did(version, line, log, setup):
    """Each probe's answer on the engine equals the model's walk: a name is DELIVERED to that
    container, ``timed out`` is a drop, ``Network is unreachable`` is NO_ROUTE, ``Connection refused``
    is REFUSED. The LAN peer of the
    experiment sent from 192.168.88.2 to the host's 192.168.88.1; the design's host is 192.168.77.1."""
    from simulator.engine.topology import EXTERNAL
    from simulator.engine.trace import Disposition
    from simulator.engine.walk import walk

    design, _ = load_design(DATA / f"capture-28-29-{setup}.yaml")
    world = build_world(design, line)
    observations = _observations(version, log)
    assert len(observations) >= 7
    for src, ip, port, answer in observations:
        ns = EXTERNAL if src == "peer" else world.ns_of[src]
        target = "192.168.77.1" if ip == "192.168.88.1" else ip
        trace = walk(world, ns, IPv4Address(target), port, "tcp")
        probe = f"{src} -> {ip}:{port} on {version} ({log}): engine {answer!r}, model {trace.disposition.value} {trace.reason}"
        if "timed out" in answer:
            assert trace.disposition.value.startswith("DROPPED"), probe
        elif "unreachable" in answer:
            assert trace.disposition is Disposition.NO_ROUTE, probe
        elif "refused" in answer:
            assert trace.disposition is Disposition.REFUSED, probe
        else:
            assert (trace.disposition, trace.responder) == (Disposition.DELIVERED, answer), probe


@pytest.mark.parametrize(
    ("line", "user_return", "hairpin", "skip_dnat", "forward_chain"),
    [
        ("20.10", True, True, True, False),  # confirmed (tests/data/engine/20.10)
        ("27.5", True, True, True, False),
        ("28.0", True, False, True, True),  # from source: bf251c33d0 (v28.0.0), 984a610a21 (v28.0.1)
        ("28.2", True, False, True, True),  # dc519a0f18 drops DOCKER-USER's RETURN in v28.2.2
        ("28.5", False, False, True, True),  # confirmed on 28.5.2
        ("29.0", False, False, False, True),  # 1ad9599da7 (docker-v29.0.0); confirmed on 29.7.2
    ],
)
def test_rule_generations_between_the_confirmed_engines(line, user_return, hairpin, skip_dnat, forward_chain):
    """The lines between the engines met here follow the commits cited in versions.py."""
    design, _ = load_design(DATA / "capture-28-29-full.yaml")
    rs = build_world(design, line).host_ns("docker1").ruleset
    filt, nat = set(rs.filter.lines()), set(rs.nat.lines())
    assert ("-A DOCKER-USER -j RETURN" in filt) is user_return
    assert ("-A POSTROUTING -s 10.99.1.2/32 -d 10.99.1.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE" in nat) is hairpin
    assert ("-A DOCKER -i br-nx-a -j RETURN" in nat) is skip_dnat
    assert ("-A FORWARD -j DOCKER-FORWARD" in filt) is forward_chain
