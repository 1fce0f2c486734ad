"""deploy -> verify -> destroy of small compose designs covering every mode; the model
and the engine must agree on every compared probe."""

from __future__ import annotations

import pytest

from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker

DESIGNS = {
    # default bridge, two user bridges, published ports (TCP + UDP), multi-homed container
    "bridges.compose.yaml": {"answered": 40, "unresolved": 10},
    # internal network, icc off, host mode, none, service:X shared namespace
    "modes.compose.yaml": {"answered": 20},
    # macvlan on the emulated LAN (the vlan network is skipped: no 802.1q in this kernel)
    "macvlan.compose.yaml": {"answered": 10},
    # attachable overlay on a single-node swarm, multi-homed across overlay and bridge
    "overlay.compose.yaml": {"answered": 10},
}


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_model_matches_engine(engine, root, name, leftovers, load_compose, compose_dir):
    design = load_compose(name)
    cmp = run_verify(design, engine, VerifyOptions())
    statuses = {}
    for row in cmp.rows:
        if row.observation is not None:
            statuses[row.observation.status] = statuses.get(row.observation.status, 0) + 1
    for status, at_least in DESIGNS[name].items():
        assert statuses.get(status, 0) >= at_least, (status, statuses)
    assert not [r for r in cmp.rows if r.observation is not None and r.observation.status in ("error", "unsafe")
                and "uplink" not in r.observation.detail], "probes that failed to run"
    mismatches = [f"{r.probe.source} {r.probe.via} {r.probe.target or r.probe.name} {r.probe.port}: {r.why}"
                  for r in cmp.mismatches]
    assert mismatches == []
    # explicit subnets: addressing agrees (docker_gwbridge's pool depends on the engine's history)
    assert [a for a in cmp.address_mismatches if ("docker_gwbridge" not in a.subject and a.kind != "gateway")
            or (a.kind == "gateway" and not a.subject.startswith("svc1"))] == []
    assert leftovers(engine, design.name) == []


def test_keep_then_no_deploy_then_destroy(engine, root, leftovers, load_compose, compose_dir):
    from simulator.deploy.apply import destroy

    design = load_compose("bridges.compose.yaml")
    try:
        first = run_verify(design, engine, VerifyOptions(keep=True))
        assert first.ok
        assert engine.find("container", "nsbridges-web-1") is not None
        again = run_verify(design, engine, VerifyOptions(deploy=False, keep=True))
        assert again.ok and again.counts()["agree"] == first.counts()["agree"]
    finally:
        destroy(design.name, engine)
    assert leftovers(engine, design.name) == []


def test_a_shared_name_is_dialled_at_every_address(engine, root, leftovers):
    """Three containers share an alias, two listen on 80 and one on 81: every address of the name
    is dialled and who answered at each is what the model lists (the engine shuffles the records
    per query, so dialling one would answer at random)."""
    import textwrap

    from simulator.loaders import load_text

    design, _ = load_text(textwrap.dedent("""\
        name: nsl-shared-name
        hosts: {docker1: {}}
        networks: {app: {driver: bridge, subnet: 172.31.90.0/24}}
        containers:
          client: {networks: [app]}
          one: {networks: {app: {aliases: [svc]}}, listens: [80]}
          two: {networks: {app: {aliases: [svc]}}, listens: [81]}
          three: {networks: {app: {aliases: [svc]}}, listens: [80]}
        """), "shared.yaml")
    cmp = run_verify(design, engine, VerifyOptions())
    rows = {r.probe.port: r for r in cmp.rows if r.probe.source == "client" and r.probe.name == "svc"}
    assert rows[80].verdict == "agree" and rows[80].observation.responders == ("one", "three")
    assert rows[81].verdict == "agree" and rows[81].observation.responders == ("two",)
    assert cmp.mismatches == ()
    assert leftovers(engine, design.name) == []
