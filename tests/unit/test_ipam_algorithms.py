"""The allocator's interval arithmetic against brute-force references (issue 10: bounded work).

The allocator jumps past taken ranges and resumes from a cursor; the overlap check sweeps
sorted blocks. Each must give the answers of the obvious quadratic loops it replaced.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cidr import overlapping_pairs
from simulator.engine.ipam import Segment, _Addresses, _Blocks, _Pools
from simulator.model import AddressPool, DaemonOptions, Driver, Host, Network

# blocks inside 10.0.0.0/24 (and a few wide ones) so that overlaps are frequent
small_blocks = st.builds(lambda start, plen: IPv4Network((0x0A000000 + start, plen), strict=False),
                         st.integers(0, 255), st.integers(22, 32))
any_blocks = st.one_of(small_blocks, st.builds(lambda a, p: IPv4Network((a, p), strict=False),
                                                st.integers(0, 2**32 - 1), st.integers(0, 32)))


@settings(max_examples=300, deadline=None)
@given(st.lists(any_blocks, max_size=25))
def test_overlapping_pairs_is_every_overlapping_pair(blocks):
    expected = {(i, j) for j in range(len(blocks)) for i in range(j) if blocks[i].overlaps(blocks[j])}
    got = list(overlapping_pairs(blocks))
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(any_blocks, max_size=20), any_blocks)
def test_blocks_overlapping_is_the_earliest_overlapping_block(taken, asked):
    blocks = _Blocks()
    for b in taken:
        blocks.add(b)
    expected = next((t for t in taken if t.overlaps(asked)), None)
    assert blocks.overlapping(asked) == expected


def _old_next_free(pools: list[AddressPool], taken: list[IPv4Network]) -> IPv4Network | None:
    """The allocator before issue 10: every candidate of every pool against every taken block."""
    for pool in pools:
        for candidate in pool.base.subnets(new_prefix=pool.size) if pool.size >= pool.base.prefixlen else ():
            if not any(candidate.overlaps(t) for t in taken):
                taken.append(candidate)
                return candidate
    return None


pool_strategy = st.builds(lambda start, plen, extra: AddressPool(IPv4Network((0x0A000000 + start, plen), strict=False),
                                                                  min(32, plen + extra)),
                          st.integers(0, 255), st.integers(24, 30), st.integers(0, 4))


@settings(max_examples=200, deadline=None)
@given(st.lists(pool_strategy, min_size=1, max_size=3), st.lists(small_blocks, max_size=4),
       st.lists(st.one_of(st.none(), small_blocks), max_size=30))
def test_next_free_matches_the_candidate_by_candidate_search(pools, routes, steps):
    """Interleaved explicit reservations (a block) and allocations (None) give the same subnets."""
    host = Host("h", lan_address=IPv4Interface("192.168.1.10/24"), routes=tuple(routes),
                daemon=DaemonOptions(default_address_pools=tuple(pools)))
    fast = _Pools(host)
    taken = list(routes) + [host.lan_address.network]
    networks: list[IPv4Network] = []  # allocated or reserved: what a reservation is checked against
    for step in steps:
        if step is None:
            got = fast.next_free(host)
            assert got == _old_next_free(list(pools), taken)
            if got is not None:
                networks.append(got)
        else:
            expected = next((t for t in networks if t.overlaps(step)), None)
            assert fast.reserve(step) == expected
            networks.append(step)
            taken.append(step)


def test_a_pool_of_the_whole_space_skips_a_routed_half_at_once():
    host = Host("h", routes=(IPv4Network("0.0.0.0/1"),),
                daemon=DaemonOptions(default_address_pools=(AddressPool(IPv4Network("0.0.0.0/0"), 32),)))
    pools = _Pools(host)
    assert [pools.next_free(host) for _ in range(3)] == [IPv4Network(f"128.0.0.{i}/32") for i in range(3)]


def _old_free(seg: Segment, net: Network | None, used) -> IPv4Address | None:
    if net is not None and net.ip_range is not None:
        edges = {seg.subnet.network_address, seg.subnet.broadcast_address}
        cands = (a for a in net.ip_range if a not in edges)
    else:
        cands = seg.subnet.hosts() if seg.subnet.num_addresses > 2 else iter(seg.subnet)
    return next((a for a in cands if a not in used), None)


@settings(max_examples=200, deadline=None)
@given(st.integers(26, 32), st.one_of(st.none(), st.integers(0, 6)),
       st.lists(st.tuples(st.sampled_from(["ranged", "plain", "static"]), st.integers(0, 63)), max_size=40))
def test_address_cursor_matches_the_scan_from_the_start(plen, range_extra, steps):
    subnet = IPv4Network(("10.1.0.0", plen))
    ip_range = IPv4Network((int(subnet.network_address), min(32, plen + range_extra))) if range_extra is not None else None
    net = Network(name="n", driver=Driver.BRIDGE, subnet=subnet, ip_range=ip_range)
    seg = Segment("n", "h", subnet, None, None)
    fast, used = _Addresses(seg), {}
    for kind, offset in steps:
        if kind == "static":  # a static address taken before (or between) dynamic ones
            address = subnet.network_address + offset % subnet.num_addresses
            fast[address] = used[address] = "static"
            continue
        n = net if kind == "ranged" else None
        expected = _old_free(seg, n, used)
        assert fast.next_free(n) == expected
        if expected is not None:
            fast[expected] = used[expected] = "dynamic"


def _problems(tmp_path, text: str):
    from simulator.engine.checks import engine_problems
    from simulator.loaders import load_design

    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    design, _ = load_design(path)
    return engine_problems(design)


def test_exhausted_swarm_and_gwbridge_pools_are_problems_with_a_place(tmp_path):
    problems = _problems(tmp_path, """name: exhausted
hosts:
  docker1:
    lan: {interface: eth0, address: 192.168.1.10/24}
    daemon:
      default_address_pools: [{base: 172.80.0.0/16, size: 30}]
networks:
  big: {driver: overlay, attachable: true, subnet: 10.0.0.0/8}
  next: {driver: overlay, attachable: true}
containers:
  ca: {networks: [big]}
  cb: {networks: [next]}
""")
    text = "\n".join(str(p) for p in problems)
    assert "address pool 10.0.0.0/8 exhausted: 2 overlay network(s) need a /24" in text
    assert "docker_gwbridge on host docker1 has no free address left for container ca" in text
    exhausted = next(p for p in problems if "exhausted" in p.message)
    assert str(exhausted).startswith(f"{tmp_path / 'd.yaml'}:9:")


def test_no_pool_left_for_docker_gwbridge_names_the_daemon_pools(tmp_path):
    problems = _problems(tmp_path, """name: nopool
hosts:
  docker1:
    lan: {interface: eth0, address: 192.168.1.10/24}
    daemon:
      default_address_pools: [{base: 172.80.0.0/24, size: 24}]
networks:
  ov: {driver: overlay, attachable: true}
containers:
  ca: {networks: [ov]}
""")
    gw = [p for p in problems if "docker_gwbridge" in p.message]
    assert gw and "address pool exhausted on host docker1" in gw[0].message
    assert str(gw[0]).startswith(f"{tmp_path / 'd.yaml'}:6:")


def test_a_whole_space_pool_of_host_routes_allocates_past_the_route(tmp_path):
    problems = _problems(tmp_path, """name: hostile-pool
hosts:
  docker1:
    lan: {interface: eth0, address: 192.168.1.10/24}
    routes: [0.0.0.0/1]
    daemon:
      default_address_pools: [{base: 0.0.0.0/0, size: 32}]
networks:
  net0: {}
containers:
  c0: {networks: [net0]}
""")
    assert any("no free address left for container c0 (subnet 128.0.0.1/32)" in p.message for p in problems)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(26, 32), st.data())
def test_external_address_counts_down_like_the_list_of_hosts(start, plen, data):
    from simulator.engine.topology import _external_address

    subnet = IPv4Network((start, plen), strict=False)
    hosts = list(subnet.hosts())
    taken = set(data.draw(st.lists(st.sampled_from(hosts), max_size=len(hosts))))
    expected = next((a for a in reversed(hosts) if a not in taken), subnet.broadcast_address)
    assert _external_address(subnet, taken) == expected


def test_a_lan_of_half_the_address_space_gets_its_peer_at_the_top():
    from simulator.engine.topology import _external_address

    assert _external_address(IPv4Network("0.0.0.0/1"), {IPv4Address("127.255.255.254")}) == IPv4Address("127.255.255.253")
