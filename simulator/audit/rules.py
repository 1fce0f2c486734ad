"""The audit rule table: data, not code. Each rule has a stable ID that never changes meaning.

The checks that find each rule's cases are in :mod:`.checks`; docs/audit-rules.md is
generated from this table (``python scripts/gen_audit_docs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # NS + three digits, stable
    slug: str  # a short name, e.g. published-on-all-addresses
    title: str
    severity: str  # high | medium | low
    rationale: str  # why it matters
    fix: str  # a template; {fields} are filled per finding


RULES: tuple[Rule, ...] = (
    Rule("NS001", "published-on-all-addresses", "Port published on every host address", "medium",
         "A port published without a host address binds 0.0.0.0: every interface of the host, "
         "including the LAN and any other network it is attached to, accepts it. Usually only one "
         "address (the LAN address, or 127.0.0.1 for a local tool) was meant.",
         'bind it to the address that should serve it, e.g. ports: ["{lan_ip}:{host_port}:{container_port}"] '
         'or ["127.0.0.1:{host_port}:{container_port}"] (or set host_binding_ipv4 on network {network})'),
    Rule("NS002", "published-port-bypasses-isolation", "Published port lets other container networks in", "medium",
         "Networks isolate containers from each other, but a published port is a port of the host: a "
         "container on any other network reaches it through its own gateway address (docker-proxy or "
         "DNAT), around the network isolation the design relies on.",
         "if containers on {others} must not reach {service}, do not publish {host_port}; front it with a proxy "
         "on a network they share, or drop them in DOCKER-USER (iptables -I DOCKER-USER -i <their bridge> "
         "-p {protocol} --dport {container_port} -j DROP)"),
    Rule("NS003", "direct-routing-to-container", "Container reachable from the LAN at its own address", "high",
         "Engines 20.10-27 (and 28.2+ with allow-direct-routing) accept packets for a container address "
         "arriving from the LAN for any published container port: a LAN peer that routes the container "
         "subnet through the host skips the published host address and its bind restrictions.",
         "upgrade the engine to 28.0 or later (raw PREROUTING drops direct routing), or add "
         "iptables -I DOCKER-USER -i {lan_if} -d {subnet} -j DROP on host {host}"),
    Rule("NS004", "loopback-binding-exposed", "Port published on 127.0.0.1 reachable from the LAN segment", "high",
         "Before engine 28.0 a host on the same LAN segment can send packets to 127.0.0.1 with the Docker "
         "host's MAC address; the engine's DNAT rewrites them to the container before the kernel's martian "
         "check (moby#45610). A port published on 127.0.0.1 is not local-only there.",
         "upgrade the engine to 28.0 or later, or add iptables -t raw -I PREROUTING -d 127.0.0.1 ! -i lo "
         "-p {protocol} --dport {host_port} -j DROP on host {host}"),
    Rule("NS005", "host-network-mode", "Container in host network mode", "medium",
         "A host-mode container has no network of its own: everything it listens on is a port of every "
         "host address, reachable from the LAN and from every container network, and network isolation does "
         "not apply to it.",
         "put {service} on a user-defined bridge network and publish only the ports it must serve, bound to "
         "one address (ports: [\"{lan_ip}:<port>:<port>\"])"),
    Rule("NS006", "default-bridge", "Container on the default bridge", "low",
         "Docker's default bridge (docker0) has no embedded DNS (containers cannot find each other by name) "
         "and every container on it talks to every other on every port: it is one flat, unnamed segment.",
         "create a user-defined network for {service} and the containers it talks to "
         "(networks: {{app: {{}}}} and networks: [app]); containers there resolve each other by name"),
    Rule("NS007", "multi-homed-across-trust", "Container joins networks of different trust", "medium",
         "A container attached to a protected network (internal, or with nothing published) and to an exposed "
         "one (published ports, a LAN-facing driver, not internal) is the bridge between them: whoever "
         "compromises it from the exposed side is inside the protected network.",
         "keep {service} on one side; if it must talk to both, expose only the one port it needs through a "
         "dedicated proxy{harden}"),
    Rule("NS008", "published-port-ignored", "Published port that the engine silently ignores", "medium",
         "The engine accepts -p but binds nothing for containers in host or none mode, sharing another "
         "container's namespace, whose gateway network is internal, or on macvlan/ipvlan: the design "
         "promises a port that does not exist (or, in host mode, exposes the listener on every address).",
         "remove the ports of {service}, or attach it to a bridge network that provides its gateway"),
    Rule("NS009", "macvlan-host-unreachable", "macvlan/ipvlan container the host itself cannot reach", "low",
         "The kernel does not pass frames between a macvlan/ipvlan child and its parent interface: the Docker "
         "host (its health checks, its reverse proxy, its monitoring) cannot reach these containers, and "
         "they cannot reach the host.",
         "add a macvlan shim on host {host}: ip link add {network}-shim link {parent} type macvlan mode bridge; "
         "give it a free address in {subnet} and route the containers' addresses through it"),
    Rule("NS010", "ambiguous-name", "Name that resolves to several containers", "medium",
         "When several containers carry the same name (alias, service or hostname) on one network, the "
         "embedded DNS returns all of them in turn: clients reach a different container from one connection "
         "to the next.",
         "give each container a distinct alias on {network} ({name} is carried by {carriers})"),
    Rule("NS011", "unused-network", "Network that no container uses", "low",
         "A declared network nobody joins is either a leftover (it still takes a subnet from the pool) or a "
         "container that was meant to be on it and is not.",
         "remove network {network}, or attach the container that was meant to use it"),
    Rule("NS012", "surprising-subnet", "Subnet that overlaps the host's LAN or routes, or is public", "high",
         "A container subnet that overlaps the host's LAN or a prefix already routed on the host steals "
         "those addresses: the host sends that traffic into the bridge. A subnet outside private address "
         "space hides real internet addresses behind the bridge.",
         "pick a private subnet that overlaps nothing on host {host}, e.g. subnet: {suggestion}"),
    Rule("NS013", "mesh-port-on-idle-nodes", "Routing-mesh port open on nodes that run no task", "medium",
         "A port published in ingress mode is open on every node of the swarm: a node that runs no task of the "
         "service accepts the connection and forwards it over the ingress overlay to a task elsewhere. Firewall "
         "rules, load-balancer pools and documentation that list only the nodes running the service miss the "
         "others, and every node carries the service's traffic.",
         "if only the nodes that run {service} should answer, publish in host mode (ports: [{{target: {target}, "
         "published: {port}, mode: host}}]) and point the load balancer at {nodes}; else list every node as "
         "serving {port}"),
    Rule("NS014", "dnsrr-client-caching", "DNS round-robin service whose clients may keep one address", "low",
         "In dnsrr mode the service name resolves to every task's address and nothing balances the "
         "connections: a client that resolves once (a connection pool, a proxy that resolves at start, a JVM "
         "caching DNS) sends all its traffic to one task, and keeps dialling an address that is gone after the "
         "task is rescheduled.",
         "make {service}'s clients resolve per connection (e.g. nginx resolver 127.0.0.11 valid=10s, a short "
         "JVM networkaddress.cache.ttl), or use endpoint_mode: vip on nodes with IPVS"),
    Rule("NS015", "mesh-hides-client-address", "Service behind the routing mesh never sees the client's address", "low",
         "The routing mesh source-NATs every connection in the node's ingress sandbox: the task sees an "
         "address of the ingress network as the client. Access logs, rate limits and address allow-lists in "
         "the service see the mesh, not the user.",
         "publish {port} in host mode (ports: [{{target: {target}, published: {port}, mode: host}}]) where "
         "{service} needs the client's address, or put a proxy in front that passes it on (PROXY protocol, "
         "X-Forwarded-For)"),
    Rule("NS016", "replicas-on-one-node", "Every replica of a service on one node", "medium",
         "Replicas exist to survive the loss of a node; when every task of a service runs on the same node, "
         "that node's failure or drain takes the whole service down.",
         "let {service} spread: loosen its placement constraints so that other nodes are eligible, or add "
         "placement: {{max_replicas_per_node: 1}}"),
    Rule("NS017", "reachable-over-ipv6-only", "Listener the LAN reaches over IPv6 but not over IPv4", "high",
         "IPv6 is routed, not NATed: a container's IPv6 address is reachable from any LAN peer that routes its "
         "subnet through the host, and an engine that writes no ip6tables rules (the default before 27.0) lets "
         "every port of it in. A port kept off the LAN over IPv4 (published on 127.0.0.1 only, or not at all) "
         "is then open over IPv6, where a review of the IPv4 rules never looks.",
         "turn on the engine's IPv6 rules on host {host} (daemon.json {{{fix_ip6tables}}}: then only published "
         "container ports answer), or drop the LAN's IPv6 to the containers: ip6tables -I FORWARD -i {lan_if} -d "
         "{subnet6} -j DROP (with ip6tables off the engine writes nothing to FORWARD, and 20.10 has no DOCKER-USER "
         "chain for IPv6)"),
    Rule("NS018", "ip6tables-unmanaged", "IPv6 networks on an engine that writes no ip6tables rules", "high",
         "With ip6tables off (the default before 27.0) the engine writes no IPv6 rule at all: no isolation "
         "between networks, no internal networks, no enable_icc: false, no filtering of published ports. Over "
         "IPv6 every container reaches every other, and the LAN reaches every port of every container address; "
         "only the host's own ip6tables FORWARD policy stands in the way.",
         "set {{{fix_ip6tables}}} in host {host}'s daemon.json (the engine then writes the isolation, ICC and "
         "internal rules for IPv6 and sets the FORWARD policy to DROP), or give the host a FORWARD policy of its "
         "own (ip6tables -P FORWARD DROP, accepting only what must pass)"),
    Rule("NS019", "internal-network-open-over-ipv6", "Internal network that is not isolated over IPv6", "high",
         "internal: true is enforced by ip6tables rules for IPv6; an engine that writes none (ip6tables off, the "
         "default before 27.0) leaves an internal network with IPv6 reachable from other networks and the LAN, "
         "and its containers reach out, while over IPv4 it looks closed.",
         "set {{{fix_ip6tables}}} in host {host}'s daemon.json, or drop enable_ipv6 from {network} (an internal "
         "network rarely needs IPv6)"),
    Rule("NS020", "ipv6-forwarding-left-on", "Host left forwarding IPv6 on every interface", "low",
         "The first IPv6 network makes the engine set net.ipv6.conf.all.forwarding and "
         "net.ipv6.conf.default.forwarding to 1, which turns forwarding on for every interface (the LAN one "
         "included), and the engine never sets them back. The host becomes an IPv6 router: it forwards between "
         "its interfaces (only ip6tables FORWARD decides), it ignores router advertisements on interfaces with "
         "accept_ra=1 (an address or default route learnt from the LAN's router lapses), and it sends multicast "
         "listener reports out of every interface.",
         "if host {host} must not route IPv6, note both forwarding settings before the first IPv6 network and put "
         "them back after the last one is removed; if {lan_if} is configured by router advertisements, set "
         "net.ipv6.conf.{lan_if}.accept_ra=2 (accepted even while forwarding)"),
)

BY_ID = {r.id: r for r in RULES}
