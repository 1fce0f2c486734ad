"""Engine versions and the behaviour that changed between them.

Each flag names the version it changed in and where that is documented; the rule
generator and the walk ask these flags instead of comparing version numbers.
docs/engine-versions.md lists every difference with its source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnknownEngineVersion
from ..model import DEFAULT_ENGINE_VERSION, engine_version_numbers

SUPPORTED_LINES = ("20.10", "23.0", "24.0", "25.0", "26.0", "26.1", "27.0", "27.5", "28.0", "28.2", "28.5", "29.0")


@dataclass(frozen=True, slots=True, order=True)
class EngineVersion:
    major: int
    minor: int = 0
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}" + (f".{self.patch}" if self.patch else "")

    def at_least(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return (self.major, self.minor, self.patch) >= (major, minor, patch)

    # --- filter-table generations -------------------------------------------------
    @property
    def generation(self) -> str:
        """iptables layout: 'legacy' (≤27), '28' (raw drops, DOCKER default DROP), '29' (no ISOLATION chains)."""
        if self.major >= 29:
            return "29"
        if self.major == 28:
            return "28"
        return "legacy"

    @property
    def forward_chain(self) -> bool:
        """28.0.1: FORWARD jumps to DOCKER-FORWARD, which calls DOCKER-CT, the isolation chains
        (DOCKER-INTERNAL from 29.0) and DOCKER-BRIDGE and accepts what leaves each bridge (moby
        984a610a21 "Add chain DOCKER-FORWARD", first in v28.0.1; iptablesdoc usernet-portmap.md at
        v28.0.1). 28.0.0 had the same decisions through an ipset (docker-ext-bridges-v4), which
        netsim writes in the 28.0.1 form. Confirmed on 28.5.2 and 29.7.2."""
        return self.major >= 28

    @property
    def isolation_chain_returns(self) -> bool:
        """Until 27.x DOCKER-ISOLATION-STAGE-1/2 end in ``-j RETURN``; 28.0 drops them (moby
        10338053f0 "Don't add default-RETURN rules to DOCKER-ISOLATION chains", in v28.0.0).
        Confirmed on 20.10 (present) and 28.5.2 (absent). No answer changes: falling off a chain returns."""
        return self.major < 28

    @property
    def docker_user_return(self) -> bool:
        """Until 28.2.1 DOCKER-USER ends in ``-j RETURN``; from 28.2.2 it is left empty (moby
        dc519a0f18 "iptables: Drop explicit RETURN rule from DOCKER-USER", in v28.2.2). Confirmed
        on 20.10 (present), 28.5.2 and 29.7.2 (absent). No answer changes."""
        return not self.at_least(28, 2, 2)

    @property
    def hairpin_masquerade_with_proxy(self) -> bool:
        """Until 27.x every published port has ``-s ctr -d ctr --dport P -j MASQUERADE`` in nat
        POSTROUTING; from 28.0 only with the userland proxy off (moby bf251c33d0 "Only masquerade
        access to own published ports for userland-proxy=false", in v28.0.0). Confirmed on 20.10
        (present with the proxy), 28.5.2 and 29.7.2 (absent with it, present without). No answer
        changes: with the proxy on, a container reaches its own published port through docker-proxy."""
        return self.major < 28

    @property
    def skip_dnat_return(self) -> bool:
        """Until 28.x, with the userland proxy on, nat DOCKER starts with ``-i <bridge> -j RETURN``
        per bridge (packets from a bridge go to docker-proxy, not to a DNAT); 29.0 drops them with
        the isolation chains (moby 1ad9599da7 "Drop DOCKER-ISOLATION rules", first in docker-v29.0.0).
        Confirmed on 20.10 and 28.5.2 (present) and 29.7.2 (absent). On 29 a container reaching a
        port another network published on a host address is DNATed straight to the container
        instead of going through docker-proxy: delivered either way (probe 15c)."""
        return self.major < 29

    @property
    def blocks_direct_routing(self) -> bool:
        """28.0: raw PREROUTING drops packets for container addresses from other interfaces (engine release notes 28.0.0)."""
        return self.major >= 28

    @property
    def protects_loopback_bindings(self) -> bool:
        """28.0: raw PREROUTING drops remote packets to ports published on 127.0.0.1 (moby#45610)."""
        return self.major >= 28

    @property
    def supports_allow_direct_routing(self) -> bool:
        """28.2: daemon option allow-direct-routing."""
        return self.at_least(28, 2)

    @property
    def internal_has_default_route(self) -> bool:
        """Before 25.0 a container on an internal network still got a default route (engine release notes 25.0.0)."""
        return self.major < 25

    @property
    def gateway_modes(self) -> tuple[str, ...]:
        modes = ["nat"]
        if self.major >= 27:
            modes.append("routed")
        if self.major >= 28:
            modes += ["nat-unprotected", "isolated"]
        return tuple(modes)

    @property
    def static_ip_needs_subnet(self) -> bool:
        """Until 29.0.4 --ip needed a network created with an explicit subnet."""
        return not self.at_least(29, 0, 4)

    @property
    def macvlan_exclusive_parent(self) -> bool:
        """≤26 one macvlan network per parent; from 27.0 only passthru is exclusive (macvlan
        driver's createNetwork, libnetwork/drivers/macvlan/macvlan_network.go at v26.1.4 and
        v27.0.1; engine release notes 27.0.1)."""
        return self.major <= 26

    @property
    def ipvlan_exclusive_parent(self) -> bool:
        """One ipvlan network per parent on every line: the ipvlan driver's createNetwork refuses
        a second ("network %s is already using parent interface %s") in
        libnetwork/drivers/ipvlan/ipvlan_network.go at v20.10.24 (vendored), v28.5.2 and
        docker-v29.7.2 (daemon/libnetwork)."""
        return True

    def exclusive_parent(self, driver: str, mode: str | None, other_mode: str | None) -> bool:
        """Whether the engine refuses a ``driver`` network in ``mode`` on a parent that a network
        of the same driver in ``other_mode`` already uses (each driver keeps its own list)."""
        if driver == "ipvlan":
            return self.ipvlan_exclusive_parent
        if driver == "macvlan":
            return self.macvlan_exclusive_parent or "passthru" in (mode, other_mode)
        return False

    @property
    def has_gw_priority(self) -> bool:
        return self.major >= 28

    # --- IPv6 (docs/engine-versions.md, "IPv6") --------------------------------------
    @property
    def ip6tables_default(self) -> bool:
        """Whether dockerd manages ip6tables when daemon.json says nothing: off until 26.1, on from
        27.0 (cmd/dockerd/config_unix.go, flag ``--ip6tables``, at v26.1.0 and v27.0.1; engine release
        notes 27.0.0; moby#47747)."""
        return self.major >= 27

    @property
    def ip6tables_docker_user(self) -> bool:
        """Whether the engine's ip6tables FORWARD jumps to a DOCKER-USER chain: not on 20.10
        (libnetwork firewall_linux.go ``arrangeUserFilterRule`` at v20.10.24, IPv4 only, "TODO IPv6
        support"; confirmed, docs/confirmed-rules.md §18c); from 24.0 for every enabled iptables
        version (moby#44706, ``setupUserChain(ipVersion)``; from source)."""
        return self.major >= 24

    @property
    def ip6tables_internal_spares_bridged(self) -> bool:
        """Whether an internal network's ip6tables drops spare traffic that stays on its bridge
        (``! -d <subnet> -i br ! -o br -j DROP``, ``! -s <subnet> ! -i br -o br -j DROP``): from 24.0.6
        (moby#45649 "Allow IPv6 ICC from any IP address", backported to 24.0 as moby#46214, merged
        2023-08-13; ``setupInternalNetworkRules`` in libnetwork/drivers/bridge/internal/iptabler/network.go
        at v28.5.2 and docker-v29.7.2; confirmed on both, docs/confirmed-rules.md §18l). Before, the
        rules have no ``! -o``/``! -i`` and drop the neighbour solicitations between two containers of the
        network (to ff02::1:ffXX:XXXX, outside the subnet), which br_netfilter sends through FORWARD:
        they cannot reach each other over IPv6 (moby#45460; measured on 20.10.24 with ip6tables on)."""
        return self.at_least(24, 0, 6)

    @property
    def ip6tables_dnat_skips_link_local(self) -> bool:
        """Whether the ip6tables DNAT of a published port carries ``! -s fe80::/10`` (link-local
        clients go to docker-proxy): from 28.0 (moby#48570 "port mapping: proxy LL connections",
        merged 2024-10; ``setPerPortNAT`` in iptabler/port.go at v28.5.2; confirmed on 28.5.2 and
        29.7.2, §18l). No answer changes: netsim's clients have no link-local source."""
        return self.major >= 28

    @property
    def ip6tables_drop_policy_with_forwarding(self) -> bool:
        """Whether the ip6tables FORWARD policy becomes DROP only when the daemon turns IPv6
        forwarding on itself (with the first IPv6 bridge), as the IPv4 one does (``setupIPv6Forwarding``,
        ``wantFilterForwardDrop``, libnetwork/drivers/bridge/setup_ip_forwarding.go at v28.5.2; confirmed
        on 28.5.2 and 29.7.2, §18m). 20.10 sets it at every start with ip6tables on (``setupIPForwarding``
        at v20.10.24, confirmed §18c); the line between (27.x) is not traced and reads as 20.10."""
        return self.major >= 28

    @property
    def gateway_choice(self) -> str:
        """How a container's default gateway endpoints are chosen, endpoints in libnetwork's order:

        * ``one`` (until 27.x): the first endpoint with an IPv4 gateway gives both default routes
          (``(*sandbox).getGatewayEndpoint`` at v20.10.24; confirmed §18i);
        * ``dual-stack`` (28.0 – 29.4.0): the first endpoint with gateways of both families gives both,
          even past a single-stack one of higher gw_priority, else the first of each family
          (``selectGatewayEndpoint`` in libnetwork/default_gateway.go at v28.5.2; confirmed §18u);
        * ``per-family`` (29.4.1+): the first endpoint with a gateway of each family (moby#52328 "respect
          gw priority per address family", first in docker-v29.4.1; ``getGatewayEndpoint`` at
          docker-v29.7.2; confirmed §18u)."""
        if self.at_least(29, 4, 1):
            return "per-family"
        return "dual-stack" if self.major >= 28 else "one"

    @property
    def macvlan_gateway_only_when_given(self) -> bool:
        """Whether a macvlan/ipvlan network without a configured gateway gets none (no default route,
        the first container takes the range's first address): from 29.0.0 (moby#50929, ``GetSkipGwAlloc``
        "Only set up a default gateway if the user configured one" in the macvlan driver at
        docker-v29.7.2); before, IPAM reserves the first address as the gateway (28.5.2 only skips it for
        internal networks). Confirmed on 28.5.2 and 29.7.2, both families (§18w)."""
        return self.major >= 29

    @property
    def ip6tables_needs_experimental(self) -> bool:
        """Until 26.1 ``ip6tables: true`` needs ``experimental: true`` ("ip6tables rules are only
        available if experimental features are enabled", daemon/daemon_unix.go verifyPlatformContainerSettings
        at v20.10.24 and v26.1.0; gone at v27.0.1)."""
        return self.major < 27

    @property
    def ipv6_ula_pool(self) -> bool:
        """From 27.0 the daemon adds an IPv6 pool of its own when default-address-pools has none: a
        ULA /48 derived from its host ID, split in /64s (daemon/daemon.go deriveULABaseNetwork, first
        in v27.0.1). Before, an ``enable_ipv6`` network without an IPv6 subnet fails with "could not
        find an available, non-overlapping IPv6 address pool among the defaults to assign to the
        network" (libnetwork/ipam/allocator.go getPredefinedPool at v20.10.24) unless the pools hold
        an IPv6 base."""
        return self.major >= 27

    @property
    def default_bridge_ipv6_needs_fixed_cidr(self) -> bool:
        """Until 27.x a daemon with ``ipv6: true`` and no ``fixed-cidr-v6`` does not start ("IPv6 is
        enabled for the default bridge, but no subnet is configured. Specify an IPv6 subnet using
        --fixed-cidr-v6", daemon/daemon_unix.go initBridgeDriver at v20.10.24 and v27.0.1); from 28.0
        docker0 takes an IPv6 subnet from the default pools like any network (v28.0.0)."""
        return self.major < 28

    @property
    def default_bridge_ipv6_from_mac(self) -> bool:
        """Until 27.x a container's IPv6 address on docker0 is built from its MAC address (02:42 and
        its IPv4 address) in the low 48 bits of ``fixed-cidr-v6`` when that is /80 or shorter
        (daemon/daemon_unix.go ``deferIPv6Alloc = ones <= 80``; bridge driver CreateEndpoint, "Cannot
        self generate an IPv6 address"; netutils genMAC; at v20.10.24 and v27.0.1). 28.0 drops it: the
        IPAM hands out addresses in order, as on every other network (and MACs are random)."""
        return self.major < 28


def parse_version(text: str | None) -> EngineVersion:
    """Parse '20.10', '20.10.24+dfsg1', '28', 'v29.0.1'; refuse versions netsim has no rules for."""
    if text is None:
        text = DEFAULT_ENGINE_VERSION
    numbers = engine_version_numbers(text)
    if numbers is None:
        raise UnknownEngineVersion(
            f"{text!r} is not an engine version; expected e.g. 20.10, 28.2 or 29.0 (supported lines: {', '.join(SUPPORTED_LINES)})"
        )
    version = EngineVersion(*numbers)
    if version < EngineVersion(20, 10) or version.major > 29 or 20 < version.major < 23 or (version.major == 20 and version.minor != 10):
        raise UnknownEngineVersion(
            f"engine version {text} has no rule set; supported lines: {', '.join(SUPPORTED_LINES)}"
        )
    return version


def engine_line(version: str) -> str:
    """The release line of an engine's version string: ``20.10.24+dfsg1`` -> ``20.10``,
    ``28.2.2`` -> ``28.2``; text that is no version comes back as it is (parse_version refuses it)."""
    numbers = engine_version_numbers(version)
    return f"{numbers[0]}.{numbers[1]}" if numbers else version
