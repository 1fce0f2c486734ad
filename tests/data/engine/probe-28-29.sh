#!/bin/bash
# Reachability probes on the setup of capture-28-29.sh (run right after it, same daemon):
#   NS=r29 DOCKER_HOST=unix:///run/r29/docker.sock bash probe-28-29.sh [lan]
# Every target is inside the namespace $NS (bridges of the engine) or the peer namespace made
# here; the peer has routes only to 10.99.0.0/16 and its own /24, no default route.
# A container answers its own name on tcp/80 (nc -ll -p 80 -e hostname); "nc: timed out" is a drop.
set -u
p() { local from=$1 ip=$2 port=$3 out
  case $from in
    peer) out=$(nsenter --net=/run/netns/${NS}p busybox nc -w 2 $ip $port </dev/null 2>&1) ;;
    *) out=$(docker exec $from nc -w 2 $ip $port </dev/null 2>&1) ;;
  esac
  echo "  [$from -> $ip:$port] ${out:-no answer}"; }
if [ "${1:-}" = lan ]; then
  nsenter --net=/run/netns/$NS ip link add nsx-lan2 type veth peer name nsx-peer0
  ip netns add ${NS}p; nsenter --net=/run/netns/$NS ip link set nsx-peer0 netns ${NS}p
  nsenter --net=/run/netns/$NS ip addr add 192.168.88.1/24 dev nsx-lan2; nsenter --net=/run/netns/$NS ip link set nsx-lan2 up
  ip -n ${NS}p link set lo up; ip -n ${NS}p addr add 192.168.88.2/24 dev nsx-peer0; ip -n ${NS}p link set nsx-peer0 up
  ip -n ${NS}p route add 10.99.0.0/16 via 192.168.88.1
  p peer 192.168.88.1 8081     # published on 0.0.0.0, through the host's LAN address
  p peer 10.99.1.2 80          # direct to a nat network's published container
  p peer 10.99.1.3 80          # direct to a container published on 127.0.0.1 only
  p peer 10.99.31.2 80         # direct, nat-unprotected
  p peer 10.99.30.2 80         # direct, routed, published port
  p peer 10.99.30.2 81         # direct, routed, unpublished port
  p peer 10.99.4.2 80          # direct, unpublished container
  ip netns del ${NS}p; nsenter --net=/run/netns/$NS ip link del nsx-lan2 2>/dev/null
  exit 0
fi
p nx-a1 10.99.1.1 8081     # own published port through its own gateway address (hairpin)
p nx-a1 10.99.1.1 8110     # another network's published port through a host address
p nx-a1 10.99.1.1 8121     # the same, nat-unprotected network
p nx-a1 10.99.31.2 80      # another network's container, nat-unprotected, directly
p nx-a1 10.99.30.2 80      # another network's container, routed, published port
p nx-a1 10.99.30.2 81      # the same, unpublished port
p nx-a1 10.99.4.3 80       # another network's container, nat, published port, directly
p nx-a1 10.99.26.3 80      # the same (gw_priority container)
p nx-n1 10.99.4.3 80       # icc=false network, same network
p nx-s1 10.99.32.1 80      # isolated gateway mode: the container has the first address
p nx-i1 10.99.1.2 80       # internal network to another network
p nx-j1 10.99.5.1 80       # internal, icc off: its gateway address (nothing listens there)
echo "  [nx-g1 ip route]"; docker exec nx-g1 ip route | sed 's/^/    /'
echo "  [nx-s1 ip route]"; docker exec nx-s1 ip route | sed 's/^/    /'
