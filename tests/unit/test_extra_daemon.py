"""Extra daemons for multi-host designs: names and command line (pure parts)."""

from __future__ import annotations

from ipaddress import IPv4Interface

from simulator.adapters.extra_daemon import daemon_spec


def test_every_daemon_has_roots_socket_and_namespace_of_its_own():
    spec = daemon_spec("overlay-two-hosts", "node-b", 1, "eth0", IPv4Interface("192.168.1.12/24"))
    assert spec.socket == "/run/netsim/overlay-two-hosts-node-b.sock"
    assert spec.namespace == "netsim-host-overlay-two-hosts-node-b"
    assert spec.data_root == "/var/lib/netsim/overlay-two-hosts-node-b"
    assert spec.exec_root == "/run/netsim/overlay-two-hosts-node-b.d"
    argv = spec.argv()
    # nsenter --net keeps the mount namespace (ip netns exec would hide /sys/fs/cgroup)
    assert argv[:3] == ["nsenter", "--net=/run/netns/netsim-host-overlay-two-hosts-node-b", "dockerd"]
    for flag, value in (("--data-root", spec.data_root), ("--exec-root", spec.exec_root), ("--pidfile", spec.pidfile),
                        ("-H", spec.url), ("--containerd-namespace", "netsim-overlay-two-hosts-node-b"),
                        ("--dns", "127.0.0.1"), ("--cgroup-parent", "/netsim-overlay-two-hosts-node-b")):
        assert argv[argv.index(flag) + 1] == value


def test_long_names_are_shortened_but_stay_distinct():
    a = daemon_spec("a-very-long-design-name-for-a-big-estate", "worker-number-one", 1, "eth0", IPv4Interface("10.0.0.2/24"))
    b = daemon_spec("a-very-long-design-name-for-a-big-estate", "worker-number-two", 2, "eth0", IPv4Interface("10.0.0.3/24"))
    assert len(a.base) <= 40 and a.base != b.base
    assert len(a.exec_root + "/containerd/containerd.sock.ttrpc") < 108  # unix socket path limit
    assert a.switch_if == "lanh1" and b.switch_if == "lanh2"
