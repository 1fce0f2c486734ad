"""deploy/verify progress when standard error is not a terminal: one plain line per phase
with its duration, and a line saying the probe image is being built while it is."""

from __future__ import annotations

import io
import itertools
from ipaddress import IPv4Network

from simulator.adapters.fake_engine import FakeEngine, FakeLan
from simulator.cli.progress import BarProgress, PlainProgress, phase_progress
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import plan
from simulator.model import Attachment, Container, Design, Driver, Host, Listener, Network


def design() -> Design:
    return Design("tiny", (Host("h1"),), (
        Network("a", Driver.BRIDGE, docker_name="tiny_a", subnet=IPv4Network("10.215.1.0/24")),
    ), tuple(Container(n, "h1", docker_name=f"tiny-{n}", attachments=(Attachment("a"),), listeners=(Listener(80),))
             for n in ("x", "y")))


def test_plain_lines_one_per_finished_phase_with_counts_and_durations():
    out = io.StringIO()
    ticks = itertools.count()
    with PlainProgress("verify", out, clock=lambda: next(ticks) * 0.5) as progress:
        progress.start("networks", 2)
        progress.advance()
        progress.advance()
        progress.start("containers", 4)
        progress.advance(4)
        progress.note("something to say at once")
        progress.start("probing", 3)
        progress.advance(3)
    assert out.getvalue().splitlines() == [
        "verify: networks 2/2 in 0.5s",
        "verify: something to say at once",
        "verify: containers 4/4 in 0.5s",
        "verify: probing 3/3 in 0.5s",
    ]


def test_not_a_terminal_means_plain_lines():
    assert isinstance(phase_progress("deploy", io.StringIO()), PlainProgress)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(phase_progress("deploy", Tty()), BarProgress)


class BuildingEngine(FakeEngine):
    """A fake engine without the probe image: ensure_image builds it."""

    def __init__(self):
        super().__init__()
        self.images = set()

    def image_needs_build(self, name: str) -> bool:
        return name not in self.images


def test_deploy_says_the_probe_image_is_built_while_it_is():
    out = io.StringIO()
    engine = BuildingEngine()
    with PlainProgress("deploy", out) as progress:
        apply(plan(design()), engine, FakeLan(), progress)
    lines = out.getvalue().splitlines()
    assert lines[0] == "deploy: building the probe image netsim-probe:1 (once per engine, a few seconds) ..."
    assert lines[1].startswith("deploy: probe image 1/1 in ")
    phases = [line.split()[1] for line in lines[1:]]
    assert phases == ["probe", "LAN", "networks", "containers"]
    destroy("tiny", engine, FakeLan())

    again = io.StringIO()  # the image is there now: no build, no such line
    with PlainProgress("deploy", again) as progress:
        apply(plan(design()), engine, FakeLan(), progress)
    assert "probe image" not in again.getvalue() and again.getvalue().startswith("deploy: LAN 1/1 in ")
