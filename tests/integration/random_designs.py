"""Seeded random compose designs that mix every mode this machine can run (calibration)."""

from __future__ import annotations

import random

import yaml


def random_compose(seed: int) -> str:
    """A compose project: user bridges (icc on/off, internal), the default bridge, host, none,
    service:X sidecars, a macvlan, published TCP/UDP ports on 0.0.0.0 / 127.0.0.1, multi-homing."""
    rnd = random.Random(seed)
    project = f"rnd{seed}"
    networks: dict = {}
    n_bridges = rnd.randint(2, 4)
    for i in range(n_bridges):
        spec: dict = {"ipam": {"config": [{"subnet": f"10.{150 + seed % 50}.{i}.0/24"}]}}
        if rnd.random() < 0.3:
            spec["internal"] = True
        if rnd.random() < 0.25:
            spec["driver_opts"] = {"com.docker.network.bridge.enable_icc": "false"}
        networks[f"n{i}"] = spec
    if rnd.random() < 0.5:
        networks["lan"] = {"driver": "macvlan", "driver_opts": {"parent": "eth0"},
                           "ipam": {"config": [{"subnet": "192.168.1.0/24", "gateway": "192.168.1.1",
                                                "ip_range": "192.168.1.64/27"}]}}
    services: dict = {}
    used_ports: set[tuple[int, str]] = set()
    names = [f"s{i}" for i in range(rnd.randint(4, 7))]
    for name in names:
        svc: dict = {"image": "busybox"}
        kind = rnd.choices(["nets", "default", "bridge", "host", "none", "sidecar"], [6, 1, 1, 1, 1, 1])[0]
        listen = rnd.sample([80, 443, 5432, 6379, 8080, 9000], 2)
        udp = rnd.random() < 0.4
        owners = [s for s, v in services.items() if "networks" in v or "network_mode" not in v]
        if kind == "sidecar" and owners:
            svc["network_mode"] = f"service:{rnd.choice(owners)}"
        elif kind == "host":
            svc["network_mode"] = "host"
            svc["expose"] = [str(30000 + seed * 10 + len(services))]
        elif kind == "none":
            svc["network_mode"] = "none"
            svc["expose"] = [str(listen[0])]
        elif kind == "bridge":
            svc["network_mode"] = "bridge"
            svc["expose"] = [str(p) for p in listen]
        else:
            if kind == "nets":
                chosen = rnd.sample(sorted(networks), rnd.choice([1, 1, 2]))
                alias = rnd.choice([f"{name}-alias", "pool"])  # "pool": a name several services share
                svc["networks"] = {n: ({"aliases": [alias]} if rnd.random() < 0.4 and n != "lan" else None)
                                   for n in chosen}
            svc["expose"] = [str(p) for p in listen] + ([f"{listen[0]}/udp"] if udp else [])
            if rnd.random() < 0.6:
                target = listen[0]
                proto = "udp" if udp and rnd.random() < 0.5 else "tcp"
                host_port = 20000 + seed * 10 + len(services)
                if (host_port, proto) not in used_ports:
                    used_ports.add((host_port, proto))
                    ip = rnd.choice(["", "127.0.0.1:"])
                    svc["ports"] = [f"{ip}{host_port}:{target}" + ("/udp" if proto == "udp" else "")]
                if rnd.random() < 0.2:
                    svc.setdefault("ports", []).append(str(listen[1]))  # an ephemeral host port
        services[name] = svc
    return yaml.safe_dump({"name": project, "services": services, "networks": networks}, sort_keys=False)
