#!/bin/bash
# The setups whose rule tables are the golden data of tests/unit/test_engine_rules_golden_28_29.py,
# run against a dockerd 28.5.2 or 29.7.2 that runs alone in its own network namespace.
#
#   NS=r29 VER=29.7.2 DOCKER_HOST=unix:///run/r29/docker.sock bash capture-28-29.sh SETUP > OUT
#
# SETUP is one of: full (the daemon with its defaults), noproxy (the same setup on a daemon
# started with "userland-proxy": false and "icc": false), direct (a daemon started with
# "allow-direct-routing": true), nft (29 only: "firewall-backend": "nftables"; prints
# `nft list ruleset`). The daemon's configuration is read from /tmp/$NS.json. The daemon and how it was started: docs/confirmed-rules.md,
# section 15. The namespace has only lo, the veth pair made here and the engine's bridges: no probe
# leaves it. Every object carries the label netsim.experiment=1 and a name starting with nx-.
set -u
SETUP=$1
L="--label netsim.experiment=1"
IMG=netsim-probe:1
nsx() { nsenter --net=/run/netns/$NS "$@"; }
# a container answering its name on tcp/80: srv NAME [docker run options...]
srv() { local n=$1; shift
  docker run -d $L --name "$n" --hostname "$n" "$@" $IMG sh -c 'exec nc -ll -p 80 -e hostname' >/dev/null; }
brof() { [ "$1" = bridge ] && { echo docker0; return; }; local i=$(docker network inspect -f '{{.Id}}' "$1"); echo br-${i:0:12}; }
GWM=com.docker.network.bridge.gateway_mode_ipv4

nsx ip link add nsx-lan0 type veth peer name nsx-lan1 2>/dev/null; nsx ip link set nsx-lan0 up; nsx ip link set nsx-lan1 up
docker network create $L --subnet 10.99.1.0/24 nx-a >/dev/null
docker network create $L --subnet 10.99.4.0/24 -o com.docker.network.bridge.enable_icc=false nx-noicc >/dev/null
docker network create $L --internal --subnet 10.99.3.0/24 nx-int >/dev/null
docker network create $L --internal --subnet 10.99.5.0/24 -o com.docker.network.bridge.enable_icc=false nx-intnoicc >/dev/null
docker network create $L --subnet 10.99.10.0/24 nx-aaa >/dev/null
docker network create $L --subnet 10.99.26.0/24 nx-zzz >/dev/null
docker network create $L --subnet 10.99.30.0/24 -o $GWM=routed nx-routed >/dev/null
docker network create $L --subnet 10.99.31.0/24 -o $GWM=nat-unprotected nx-natu >/dev/null
docker network create $L --internal --subnet 10.99.32.0/24 -o $GWM=isolated nx-iso >/dev/null
docker network create $L -d macvlan --subnet 192.168.77.0/24 --gateway 192.168.77.1 --ip-range 192.168.77.128/28 -o parent=nsx-lan0 nx-mv >/dev/null
srv nx-d1 -p 8080:80                                    # default bridge, published
srv nx-a1 --network nx-a -p 8081:80 -p 5354:5353/udp    # user bridge, published tcp+udp
srv nx-a2 --network nx-a -p 127.0.0.1:8083:80           # 127.0.0.1-bound
srv nx-a3 --network nx-a -p 80                          # ephemeral host port
srv nx-n1 --network nx-noicc                            # icc off
srv nx-n2 --network nx-noicc -p 8110:80
srv nx-i1 --network nx-int                              # internal
srv nx-j1 --network nx-intnoicc                         # internal, icc off
srv nx-m1 --network nx-zzz; docker network connect nx-aaa nx-m1; docker restart -t 0 nx-m1 >/dev/null  # multi-homed
srv nx-g1 --network name=nx-aaa --network name=nx-zzz,gw-priority=10 -p 8130:80  # gw_priority: nx-zzz is the gateway
srv nx-r1 --network nx-routed -p 8120:80                # gateway mode routed
srv nx-u1 --network nx-natu -p 8121:80                  # gateway mode nat-unprotected
srv nx-s1 --network nx-iso                              # gateway mode isolated
srv nx-mv1 --network nx-mv                              # macvlan
echo "# Docker $(docker version -f '{{.Server.Version}}'), setup $SETUP of tests/data/engine/capture-28-29.sh, captured $(date -u +%FT%TZ)"
echo "# daemon: $(tr -d '\n' < /tmp/$NS.json)"
for n in bridge nx-a nx-noicc nx-int nx-intnoicc nx-aaa nx-zzz nx-routed nx-natu nx-iso; do
  echo "#   network $n -> $(brof $n) $(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}} internal={{.Internal}} opts={{json .Options}}' $n)"; done
echo "#   nx-mv macvlan parent=nsx-lan0 192.168.77.0/24"
for c in nx-d1 nx-a1 nx-a2 nx-a3 nx-n1 nx-n2 nx-i1 nx-j1 nx-m1 nx-g1 nx-r1 nx-u1 nx-s1 nx-mv1; do
  echo "#   container $c $(docker inspect -f '{{range $k,$v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' $c) ports: $(docker port $c | tr '\n' ' ')"; done
echo "# netns: net.ipv4.ip_forward=$(nsx sysctl -n net.ipv4.ip_forward) now, ${FWD:-0} before the daemon started"
echo
if [ "$SETUP" = nft ]; then nsx nft list ruleset; else for t in raw nat filter; do nsx iptables-save -t $t | grep -v '^# Generated\|^# Completed'; done; fi
