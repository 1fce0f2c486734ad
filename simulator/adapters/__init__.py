"""The engine side of netsim: everything that talks to a Docker engine or the machine, behind
one small interface (:class:`~simulator.adapters.engine.Engine`) with an in-memory fake beside it.
Adapters report what *is*; they never decide what should be reachable.

    engine.py         the interface and the values it speaks
    docker_engine.py  the interface implemented with the Docker SDK
    fake_engine.py    an in-memory engine for unit tests
    extra_daemon.py   one extra Docker daemon per further design host
    host_facts.py     the machine a local engine runs on: LAN interface, daemon options
    ipv6_guard.py     while IPv6 designs are deployed: MLD drops on the uplink, forwarding put back
    kernel.py         what the local kernel supports
    lanpeer.py        the emulated LAN and the uplink guard rule
    live_peer.py      a LAN vantage point beside a running environment (verify --live)
    probe_agent.py    what runs in probe containers, and the host-side prober
    probe_image.py    build the probe image locally
    safety.py         the probe guard: no probe leaves netsim's networks
"""

__all__ = ["docker_engine", "engine", "extra_daemon", "fake_engine", "host_facts", "ipv6_guard", "kernel", "lanpeer", "live_peer", "probe_agent", "probe_image", "safety"]
