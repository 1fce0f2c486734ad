"""Every chain a generated rule jumps to is declared (``-N``), on every engine line: iptables-restore
refuses a table that jumps to an undeclared chain (29.x's DOCKER-INTERNAL is empty without internal
networks, and was once left undeclared)."""

import re
from pathlib import Path

import pytest

from simulator.engine.netfilter import BUILTIN_CHAINS, TERMINAL
from simulator.engine.topology import build_world
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = sorted(p for p in (ROOT / "designs").rglob("*.y*ml")  # a stack's compose file is read through its design
                 if "intent" not in p.name and not p.name.endswith("stack.yml"))


@pytest.mark.parametrize("version", ["20.10", "28.2", "29.0"])
@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_every_jump_target_is_declared(path, version):
    design, _ = load_design(path)
    world = build_world(design, version)
    for host in design.hosts:
        for table in (lambda rs: (rs.raw, rs.nat, rs.filter))(world.host_ns(host.name).ruleset):
            lines = table.lines()
            declared = set(BUILTIN_CHAINS[table.name]) | {line.split()[1] for line in lines if line.startswith("-N ")}
            targets = {m.group(1) for line in lines for m in [re.search(r" -j (\S+)", line)] if m}
            assert targets - TERMINAL - {"RETURN"} <= declared, (host.name, table.name, sorted(targets - declared))
