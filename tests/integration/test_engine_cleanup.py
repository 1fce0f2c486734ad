"""After destroy, a failed deploy, Ctrl-C or SIGTERM mid-verify, or a dead probe container,
nothing with the design's labels remains, and objects netsim did not create are untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from ipaddress import IPv4Network

import pytest

from simulator.adapters.engine import design_labels
from simulator.adapters.probe_image import DEFAULT_PROBE_IMAGE
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import DeployRefused, plan
from simulator.errors import EngineError
from simulator.model import Attachment, Container, Design, Driver, Host, Listener, Network, PortMapping
from simulator.verify import session
from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker


@pytest.fixture
def bystanders(engine):
    """An unlabelled network and container netsim must never touch (labelled nstest=1 only, so
    that the session can clean a killed run's leftovers).  The image comes from netsim's own
    code; everything is created inside the try, so a failure half way removes what exists."""
    api = engine.api
    from docker.types import IPAMConfig, IPAMPool

    engine.ensure_image(DEFAULT_PROBE_IMAGE, build_default=True)
    net = ctr = None
    try:
        net = api.create_network("nstest-bystander-net", labels={"nstest": "1"},
                                 ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.216.0.0/24")]))["Id"]
        ctr = api.create_container(DEFAULT_PROBE_IMAGE, command=["sleep", "600"], name="nstest-bystander",
                                   labels={"nstest": "1"},
                                   host_config=api.create_host_config(network_mode="none"))["Id"]
        api.start(ctr)
        yield net, ctr
    finally:
        if ctr is not None:
            api.remove_container(ctr, force=True)
        if net is not None:
            api.remove_network(net)


def assert_untouched(engine, bystanders):
    net, ctr = bystanders
    assert engine.api.inspect_network(net)["Id"] == net
    assert engine.api.inspect_container(ctr)["State"]["Running"]


def tiny(name: str, clash: bool = False) -> Design:
    ports = (PortMapping(80, host_port=18121),)
    return Design(name, (Host("h1"),), (
        Network("a", Driver.BRIDGE, docker_name=f"{name}_a", subnet=IPv4Network("10.215.1.0/24")),
    ), (
        Container("x", "h1", docker_name=f"{name}-x", attachments=(Attachment("a"),), ports=ports,
                  listeners=(Listener(80),)),
        Container("y", "h1", docker_name=f"{name}-y", attachments=(Attachment("a"),),
                  ports=ports if clash else (), listeners=(Listener(80),)),
    ))


def test_destroy_removes_only_labelled(engine, root, bystanders, leftovers, load_compose, compose_dir):
    d = tiny("nstiny")
    try:
        apply(plan(d), engine)
        assert len(engine.list_by_label(design_labels("nstiny"))) == 3
    finally:
        removed = destroy("nstiny", engine)
    assert "container nstiny-x" in removed and "network nstiny_a" in removed
    assert leftovers(engine, "nstiny") == []
    assert_untouched(engine, bystanders)
    assert destroy("nstiny", engine) == []  # idempotent


def test_redeploy_is_a_clean_replace(engine, root, leftovers, load_compose, compose_dir):
    d = tiny("nstiny")
    try:
        apply(plan(d), engine)
        first = {o.id for o in engine.list_by_label(design_labels("nstiny"))}
        dep = apply(plan(d), engine)
        second = {o.id for o in engine.list_by_label(design_labels("nstiny"))}
        assert any("replaced" in n for n in dep.notes) and first.isdisjoint(second) and len(second) == 3
    finally:
        destroy("nstiny", engine)
    assert leftovers(engine, "nstiny") == []


def test_failed_deploy_cleans_up(engine, root, bystanders, leftovers, load_compose, compose_dir):
    # both containers publish 18121: the engine fails the second start half way
    try:
        with pytest.raises(EngineError, match="port is already allocated|address already in use"):
            apply(plan(tiny("nsclash", clash=True)), engine)
        assert leftovers(engine, "nsclash") == []
    finally:
        destroy("nsclash", engine)
    assert_untouched(engine, bystanders)


def test_overlap_with_a_foreign_network_is_refused(engine, root, bystanders, leftovers, load_compose, compose_dir):
    api = engine.api
    from docker.types import IPAMConfig, IPAMPool

    foreign = None
    try:
        foreign = api.create_network("nstest-foreign", labels={"nstest": "1"},
                                     ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.215.0.0/16")]))["Id"]
        with pytest.raises(DeployRefused, match="nstiny_a subnet 10.215.1.0/24 overlaps engine network "
                                                "nstest-foreign \\(10.215.0.0/16\\)"):
            apply(plan(tiny("nstiny")), engine)
    finally:
        if foreign is not None:
            api.remove_network(foreign)
        destroy("nstiny", engine)
    assert leftovers(engine, "nstiny") == []
    assert_untouched(engine, bystanders)


def test_keyboard_interrupt_mid_verify_cleans_up(engine, root, bystanders, monkeypatch, leftovers, load_compose, compose_dir):
    design = load_compose("bridges.compose.yaml")
    real = session.observe

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)  # probes run (guard rule in place), then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "observe", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_verify(design, engine, VerifyOptions())
        assert leftovers(engine, design.name) == []
    finally:
        destroy(design.name, engine)
    assert_untouched(engine, bystanders)


def test_sigterm_mid_verify_cleans_up(engine, root, bystanders, leftovers, load_compose, compose_dir):
    design = load_compose("modes.compose.yaml")
    proc = subprocess.Popen([sys.executable, "-c", "from simulator.cli import main; main()", "verify",
                             str(compose_dir / "modes.compose.yaml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not engine.list_by_label(design_labels(design.name)):
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode != 0, out
        assert leftovers(engine, design.name) == [], err.decode()
        assert_untouched(engine, bystanders)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        destroy(design.name, engine)


def test_dead_probe_container_is_reported(engine, root, leftovers, load_compose, compose_dir):
    design = load_compose("bridges.compose.yaml")
    try:
        apply(plan(design), engine)
        engine.api.kill("nsbridges-db-1")
        cmp = run_verify(design, engine, VerifyOptions(deploy=False))
    finally:
        destroy(design.name, engine)
    dead = [r for r in cmp.rows if r.probe.source == "db"]
    assert dead and all(r.verdict == "not-compared" and "exited" in r.why for r in dead)
    assert leftovers(engine, design.name) == []
