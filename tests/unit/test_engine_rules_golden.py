"""The rules netsim generates for 20.10 equal what Docker 20.10.24 programmed here.

tests/data/engine/20.10/iptables-save.txt was captured on the engine (experiments.sh t14)
and t14-design.yaml describes the same setup; bridge ids are mapped to netsim's names.
"""

import re
from pathlib import Path

from simulator.engine.topology import build_world
from simulator.loaders import load_design

DATA = Path(__file__).resolve().parents[1] / "data" / "engine" / "20.10"


def _engine_rules() -> dict[str, set[str]]:
    text = (DATA / "iptables-save.txt").read_text()
    mapping = dict(re.findall(r"#\s+network (\S+) -> (br-[0-9a-f]{12})", text))
    rename = {bridge: f"br-{name}" for name, bridge in mapping.items()}
    tables: dict[str, set[str]] = {}
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
            tables[table] = set()
        elif line.startswith("-A") and table:
            foreign = [b for b in re.findall(r"br-[0-9a-f]{12}", line) if b not in rename]
            if foreign or "10.201." in line:
                continue  # another engineer's bridge on the shared engine
            for real, ours in rename.items():
                line = line.replace(real, ours)
            tables[table].add(line)
    return tables


def _netsim_rules() -> dict[str, set[str]]:
    design, _ = load_design(DATA / "t14-design.yaml")
    world = build_world(design, "20.10")
    rs = world.host_ns("docker1").ruleset
    return {t.name: {line for line in t.lines() if line.startswith("-A")} for t in (rs.filter, rs.nat, rs.raw)}


def test_filter_table_matches_engine():
    assert _netsim_rules()["filter"] == _engine_rules()["filter"]


def test_nat_table_matches_engine():
    assert _netsim_rules()["nat"] == _engine_rules()["nat"]


def test_raw_table_is_empty_on_20_10():
    assert _netsim_rules()["raw"] == _engine_rules()["raw"] == set()


def test_addresses_match_engine():
    design, _ = load_design(DATA / "t14-design.yaml")
    world = build_world(design, "20.10")
    text = (DATA / "iptables-save.txt").read_text()
    observed = dict(re.findall(r"#\s+container (\S+) \S+?=(\d+\.\d+\.\d+\.\d+)", text))
    for name, addr in observed.items():
        ep = world.addressing.endpoints_of(name)[0]
        assert str(ep.address) == addr, name
