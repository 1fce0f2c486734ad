#!/bin/bash
# netsim: Docker 20.10.24 networking experiments (re-runnable).
# Usage: bash experiments.sh <topic>...
#   e.g.  bash experiments.sh image guard_on t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t12b t12down t13 t14 cleanup
#   (t3..t5, t7, t13 reuse objects of earlier topics; t12 inits a swarm: always follow with t12down)
# Every probe targets only loopback or subnets created here. All objects carry
# the label netsim.experiment=1 and names starting with nx- / nsx-.
HERE=$(cd "$(dirname "$0")" && pwd)
LOGS=$HERE/logs
L="--label netsim.experiment=1"
IMG=netsim-exp-probe:latest
HOSTIDSRV=/tmp/idsrv      # static helper built from probe/idsrv.c for host/netns probes

[ -x $HOSTIDSRV ] || gcc -O2 -static -o $HOSTIDSRV $HERE/probe/idsrv.c 2>/dev/null

# show a command and its output
x() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }
# start a probe container: srv NAME [docker run opts...]
#  tcp/80  : idsrv (answers "NAME saw SRC:PORT")
#  tcp/81  : busybox `nc -ll -p 81 -e ident` (answers NAME)
#  udp/5353: idsrv
srv() { local n=$1; shift
  docker run -d $L --dns 127.0.0.1 --name "$n" -e NAME="$n" "$@" $IMG \
    sh -c 'idsrv serve tcp 80 $NAME & idsrv serve udp 5353 $NAME & exec nc -ll -p 81 -e ident' >/dev/null
}
ipof() { docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }
gwof() { local g=$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "$1")
  [ -n "$g" ] || g=$(ip -4 -o addr show dev $(brof "$1") | awk '{print $4}' | cut -d/ -f1 | head -1); echo $g; }
brof() { [ "$1" = bridge ] && { echo docker0; return; }; local i=$(docker network inspect -f '{{.Id}}' "$1"); echo br-${i:0:12}; }
# probe from a container: cp FROM tcp|udp IP PORT
cp_() { echo -n "  [$1 -> $3:$4/$2] "; docker exec "$1" idsrv probe "$2" "$3" "$4" 1000; }
# probe from the host: hp tcp|udp IP PORT
hp() { echo -n "  [host -> $2:$3/$1] "; $HOSTIDSRV probe "$1" "$2" "$3" 1000; }
# probe from the LAN peer netns
pp() { echo -n "  [peer -> $2:$3/$1] "; ip netns exec nsx-peer $HOSTIDSRV probe "$1" "$2" "$3" 1000; }
# nslookup from a container (only names we created; container runs with --dns 127.0.0.1)
ns() { echo "  [$1 nslookup $2]"; docker exec "$1" nslookup "$2" 2>&1 | sed 's/^/    /'; }

# safety net while experimenting: no forwarded container packet may leave through the uplink
guard_on()  { iptables -t mangle -C FORWARD -o eth0 -m comment --comment nsx-guard-drop-forwarded-to-uplink -j DROP 2>/dev/null ||
              iptables -t mangle -I FORWARD -o eth0 -m comment --comment nsx-guard-drop-forwarded-to-uplink -j DROP; }
guard_off() { while iptables -t mangle -D FORWARD -o eth0 -m comment --comment nsx-guard-drop-forwarded-to-uplink -j DROP 2>/dev/null; do :; done; }
image() { sh $HERE/probe/build-image.sh; }
cleanup() {
  # only our objects: label netsim.experiment=1 AND name starting with nx-
  for c in $(docker ps -aq --filter label=netsim.experiment=1 --filter name=^/nx-); do docker rm -f $c >/dev/null; done
  for n in $(docker network ls -q --filter label=netsim.experiment=1 --filter name=^nx-); do docker network rm $n >/dev/null; done
  ip netns del nsx-peer 2>/dev/null; ip link del nsx-lan0 2>/dev/null
  docker info --format '{{.Swarm.LocalNodeState}}' | grep -qx active && t12down
  guard_off; true
}

t1() { # default bridge
  srv nx-d1; srv nx-d2
  local a=$(ipof nx-d1 bridge) b=$(ipof nx-d2 bridge)
  echo "nx-d1=$a nx-d2=$b"
  cp_ nx-d2 tcp $a 80; cp_ nx-d2 tcp $a 81; cp_ nx-d2 udp $a 5353; cp_ nx-d2 tcp $a 99
  x docker exec nx-d2 cat /etc/resolv.conf
  ns nx-d2 nx-d1
  x docker run -d $L --dns 127.0.0.1 --name nx-d3 --network-alias foo $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-d4 --ip 172.17.0.50 $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-d5 --network bridge --network-alias foo $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-d6 --network bridge --ip 172.17.0.50 $IMG sleep 60
  x docker ps -a --filter name=^/nx-d --format '{{.Names}} {{.Status}}'
  docker rm -f nx-d1 nx-d2 nx-d3 nx-d4 nx-d5 nx-d6 >/dev/null 2>&1
}

t2() { # user-defined bridge: DNS
  docker network create $L --subnet 10.99.1.0/24 nx-a >/dev/null
  docker network create $L --subnet 10.99.2.0/24 nx-b >/dev/null
  srv nx-a1 --network nx-a --network-alias web --hostname hosta1
  srv nx-a2 --network nx-a --network-alias web
  srv nx-a3 --network nx-a
  srv nx-b1 --network nx-b
  local id=$(docker inspect -f '{{.Id}}' nx-a1)
  echo "nx-a1=$(ipof nx-a1 nx-a) nx-a2=$(ipof nx-a2 nx-a) nx-a3=$(ipof nx-a3 nx-a) nx-b1=$(ipof nx-b1 nx-b) id(a1)=${id:0:12}"
  x docker exec nx-a3 cat /etc/resolv.conf
  cp_ nx-a3 tcp $(ipof nx-a1 nx-a) 80; cp_ nx-a3 tcp $(ipof nx-a1 nx-a) 81; cp_ nx-a3 udp $(ipof nx-a1 nx-a) 5353
  for n in nx-a1 web web web ${id:0:12} hosta1 nx-a1.nx-a web.nx-a nx-b1 nx-b1.nx-b ${id:0:8} $id; do ns nx-a3 $n; done
  x docker inspect -f '{{json .NetworkSettings.Networks}}' nx-a1
  ns nx-a1 hosta1
  ns nx-a1 nx-a1
}

ensure_ab() {
  docker network inspect nx-a >/dev/null 2>&1 || docker network create $L --subnet 10.99.1.0/24 nx-a >/dev/null
  docker network inspect nx-b >/dev/null 2>&1 || docker network create $L --subnet 10.99.2.0/24 nx-b >/dev/null
  docker inspect nx-a3 >/dev/null 2>&1 || srv nx-a3 --network nx-a
  docker inspect nx-b1 >/dev/null 2>&1 || srv nx-b1 --network nx-b
}
t3() { # two user bridges
  ensure_ab
  srv nx-bp --network nx-b -p 8081:80 -p 8082:81 -p 5354:5353/udp
  srv nx-bl --network nx-b -p 127.0.0.1:8083:80
  local b1=$(ipof nx-b1 nx-b) bp=$(ipof nx-bp nx-b) ga=$(gwof nx-a) gb=$(gwof nx-b)
  echo "nx-b1=$b1 nx-bp=$bp gw(nx-a)=$ga gw(nx-b)=$gb"
  echo "-- A -> B by IP"
  cp_ nx-a3 tcp $b1 80; cp_ nx-a3 tcp $bp 80; cp_ nx-a3 udp $bp 5353
  x docker exec nx-a3 ping -c1 -W1 $b1
  echo "-- A -> B published port via host addresses"
  cp_ nx-a3 tcp $ga 8081; cp_ nx-a3 tcp $ga 8082; cp_ nx-a3 udp $ga 5354
  cp_ nx-a3 tcp $gb 8081; cp_ nx-a3 tcp 172.17.0.1 8081; cp_ nx-a3 udp $gb 5354
  echo "-- 127.0.0.1-bound port via gateways"
  cp_ nx-a3 tcp $ga 8083; cp_ nx-a3 tcp $gb 8083; cp_ nx-a3 tcp 127.0.0.1 8083
  echo "-- B's own container to its own gateway:published (hairpin)"
  cp_ nx-b1 tcp $gb 8081; cp_ nx-bp tcp $gb 8081
  x docker port nx-bp; x docker port nx-bl
  ps -eo args | grep '[d]ocker-proxy' | sed 's/^/  /'
}

t4() { # from the host (uses nx-b1, nx-bp, nx-bl of t3)
  local b1=$(ipof nx-b1 nx-b) bp=$(ipof nx-bp nx-b) bl=$(ipof nx-bl nx-b) ga=$(gwof nx-a) gb=$(gwof nx-b)
  echo "-- container IPs"
  hp tcp $b1 80; hp udp $b1 5353; hp tcp $bp 80; hp tcp $bl 80; hp tcp $b1 99
  echo "-- published 0.0.0.0:8081 / udp 5354"
  hp tcp 127.0.0.1 8081; hp tcp $gb 8081; hp tcp $ga 8081; hp tcp 172.17.0.1 8081
  hp udp 127.0.0.1 5354; hp udp $gb 5354; hp udp $ga 5354
  echo "-- published 127.0.0.1:8083"
  hp tcp 127.0.0.1 8083; hp tcp $gb 8083; hp tcp 127.0.0.2 8083
  echo "-- UDP via other gateways from a container (reply source check)"
  cp_ nx-a3 udp 172.17.0.1 5354; cp_ nx-b1 udp $gb 5354; cp_ nx-b1 udp $ga 5354
}

t5() { # internal network
  ensure_ab
  docker inspect nx-bp >/dev/null 2>&1 || srv nx-bp --network nx-b -p 8081:80 -p 8082:81 -p 5354:5353/udp
  docker network create $L --internal --subnet 10.99.3.0/24 nx-int >/dev/null
  srv nx-i1 --network nx-int; srv nx-i2 --network nx-int
  local i1=$(ipof nx-i1 nx-int) i2=$(ipof nx-i2 nx-int) gi=$(gwof nx-int) b1=$(ipof nx-b1 nx-b)
  echo "nx-i1=$i1 nx-i2=$i2 gw(nx-int)=$gi bridge=$(brof nx-int)"
  x docker exec nx-i1 ip route
  x ip -4 addr show dev $(brof nx-int)
  cp_ nx-i1 tcp $i2 80; ns nx-i1 nx-i2
  echo "-- internal -> gateway:published-by-other (0.0.0.0:8081 docker-proxy)"
  cp_ nx-i1 tcp $gi 8081; cp_ nx-i1 udp $gi 5354; cp_ nx-i1 tcp $gi 22
  x docker exec nx-i1 ping -c1 -W1 $gi
  echo "-- host <-> internal"; hp tcp $i1 80; hp udp $i1 5353
  echo "-- internal <-> other network"; cp_ nx-i1 tcp $b1 80; cp_ nx-b1 tcp $i1 80
  echo "-- -p on internal-only container"
  x docker run -d $L --dns 127.0.0.1 --name nx-ip --network nx-int -p 8090:80 -e NAME=nx-ip $IMG idsrv serve tcp 80 nx-ip
  x docker port nx-ip
  x docker inspect -f '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}}' nx-ip
  ss -ltnp | grep -E ':8090|:8091' | sed 's/^/  ss: /'
  iptables-save | grep -E '8090|8091' | sed 's/^/  ipt: /'
  hp tcp 127.0.0.1 8090
  echo "-- internal + normal network with -p"
  x docker create $L --dns 127.0.0.1 --name nx-ipb --network nx-int -p 8091:80 -e NAME=nx-ipb $IMG idsrv serve tcp 80 nx-ipb
  x docker network connect nx-b nx-ipb
  x docker start nx-ipb
  x docker port nx-ipb
  x docker exec nx-ipb ip route
  ss -ltnp | grep -E ':8090|:8091' | sed 's/^/  ss: /'
  iptables-save | grep -E '8090|8091' | sed 's/^/  ipt: /'
  hp tcp 127.0.0.1 8091; hp tcp $(ipof nx-ipb nx-int) 80; hp tcp $(ipof nx-ipb nx-b) 80
  cp_ nx-a3 tcp $(gwof nx-a) 8091
}

mh_show() { local c=$1 port=$2
  x docker exec $c ip route
  x docker exec $c ip -4 -o addr
  x docker port $c
  iptables-save -t nat | grep -- "--dport $port " | sed 's/^/  ipt: /'
  hp tcp 127.0.0.1 $port
  hp tcp $(ipof $c nx-aaa) 80; hp tcp $(ipof $c nx-zzz) 80
}
t6() { # multi-homed
  docker network create $L --subnet 10.99.10.0/24 nx-aaa >/dev/null
  docker network create $L --subnet 10.99.26.0/24 nx-zzz >/dev/null
  srv nx-qa --network nx-aaa; srv nx-qz --network nx-zzz
  echo "== M1: run on nx-zzz -p 8100:80, then connect nx-aaa while running"
  srv nx-m1 --network nx-zzz -p 8100:80
  x docker network connect nx-aaa nx-m1
  mh_show nx-m1 8100
  echo "== M1 after docker restart"
  x docker restart -t 0 nx-m1; mh_show nx-m1 8100
  echo "== M2: create on nx-aaa -p 8101:80, connect nx-zzz, start"
  docker create $L --dns 127.0.0.1 --name nx-m2 -e NAME=nx-m2 --network nx-aaa -p 8101:80 $IMG sh -c 'idsrv serve tcp 80 $NAME & idsrv serve udp 5353 $NAME & exec nc -ll -p 81 -e ident' >/dev/null
  x docker network connect nx-zzz nx-m2; x docker start nx-m2; mh_show nx-m2 8101
  echo "== M3: create on nx-zzz -p 8102:80, connect nx-aaa, start"
  docker create $L --dns 127.0.0.1 --name nx-m3 -e NAME=nx-m3 --network nx-zzz -p 8102:80 $IMG sh -c 'idsrv serve tcp 80 $NAME & idsrv serve udp 5353 $NAME & exec nc -ll -p 81 -e ident' >/dev/null
  x docker network connect nx-aaa nx-m3; x docker start nx-m3; mh_show nx-m3 8102
  echo "== names"
  ns nx-qa nx-m3; ns nx-qz nx-m3; ns nx-m3 nx-qa; ns nx-m3 nx-qz
  echo "== peers reach M3 directly on both nets"
  cp_ nx-qa tcp $(ipof nx-m3 nx-aaa) 80; cp_ nx-qz tcp $(ipof nx-m3 nx-zzz) 80
  echo "== M3 is not a router: nx-qa -> nx-qz direct"; cp_ nx-qa tcp $(ipof nx-qz nx-zzz) 80
}

peer_up() { # LAN peer netns joined to the host by a veth; routes only to our container subnets
  ip netns list | grep -q '^nsx-peer' && return
  ip netns add nsx-peer
  ip link add nsx-lan0 type veth peer name nsx-lan1
  ip link set nsx-lan1 netns nsx-peer
  ip addr add 192.168.77.1/24 dev nsx-lan0; ip link set nsx-lan0 up
  ip netns exec nsx-peer ip link set lo up
  ip netns exec nsx-peer ip addr add 192.168.77.2/24 dev nsx-lan1
  ip netns exec nsx-peer ip link set nsx-lan1 up
  ip netns exec nsx-peer ip route add 10.99.0.0/16 via 192.168.77.1
  ip netns exec nsx-peer ip route add 172.16.0.0/12 via 192.168.77.1
  ip netns exec nsx-peer sysctl -q -w net.ipv4.ip_forward=0   # a new netns inherited 1 here; the peer is a host, not a router
}
peer127() { # in the peer netns only: send 127.0.0.1 to the host's MAC (192.168.77.1)
  local P="ip netns exec nsx-peer"
  if [ $1 = on ]; then
    $P sysctl -q -w net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.nsx-lan1.route_localnet=1
    $P ip rule add pref 10 to 127.0.0.1/32 lookup 100
    $P ip route add 127.0.0.1/32 via 192.168.77.1 dev nsx-lan1 src 192.168.77.2 table 100
    $P ip rule add pref 100 lookup local; $P ip rule del pref 0
  else
    $P ip rule add pref 0 lookup local; $P ip rule del pref 100; $P ip rule del pref 10; $P ip route flush table 100
  fi
}
t7() { # LAN peer
  peer_up
  x sysctl net.ipv4.ip_forward; x iptables -S FORWARD
  x ip netns exec nsx-peer ip route; x ip netns exec nsx-peer sysctl net.ipv4.ip_forward
  # a container on the default bridge with a published port too
  srv nx-dp -p 8084:80
  local dp=$(ipof nx-dp bridge) bp=$(ipof nx-bp nx-b) b1=$(ipof nx-b1 nx-b) i1=$(ipof nx-i1 nx-int)
  echo "-- peer -> container IPs"
  pp tcp $bp 80; pp tcp $bp 81; pp udp $bp 5353; pp tcp $bp 99; pp tcp $b1 80; pp tcp $i1 80; pp tcp $dp 80; pp tcp $dp 81
  pp tcp $(ipof nx-bl nx-b) 80
  echo "-- peer -> host 192.168.77.1"
  pp tcp 192.168.77.1 8081; pp tcp 192.168.77.1 8082; pp udp 192.168.77.1 5354; pp tcp 192.168.77.1 8084
  pp tcp 192.168.77.1 8083; pp tcp 192.168.77.1 8090; pp tcp 192.168.77.1 8091
  echo "-- peer -> 127.0.0.1:8083 sent to the host's MAC (moby#45610)"
  peer127 on
  x ip netns exec nsx-peer ip route get 127.0.0.1
  pp tcp 127.0.0.1 8083; pp tcp 127.0.0.1 8081
  peer127 off
  x sysctl net.ipv4.conf.nsx-lan0.route_localnet net.ipv4.conf.all.route_localnet
  echo "-- containers -> peer"
  ip netns exec nsx-peer $HOSTIDSRV serve tcp 9000 peer & local sp=$!
  ip netns exec nsx-peer $HOSTIDSRV serve udp 9001 peer & local su=$!
  sleep 0.5
  cp_ nx-b1 tcp 192.168.77.2 9000; cp_ nx-b1 udp 192.168.77.2 9001; cp_ nx-dp tcp 192.168.77.2 9000; cp_ nx-i1 tcp 192.168.77.2 9000
  echo "-- host -> peer"; hp tcp 192.168.77.2 9000
  kill $sp $su
}

t8() { # bridge options
  peer_up
  docker network create $L --subnet 10.99.4.0/24 -o com.docker.network.bridge.enable_icc=false nx-noicc >/dev/null
  srv nx-n1 --network nx-noicc; srv nx-n2 --network nx-noicc; srv nx-n3 --network nx-noicc -p 8110:80
  local n2=$(ipof nx-n2 nx-noicc) n3=$(ipof nx-n3 nx-noicc) g=$(gwof nx-noicc)
  echo "== enable_icc=false: n2=$n2 n3=$n3 gw=$g"
  cp_ nx-n1 tcp $n2 80; cp_ nx-n1 udp $n2 5353; x docker exec nx-n1 ping -c1 -W1 $n2
  ns nx-n1 nx-n2
  cp_ nx-n1 tcp $g 8110; cp_ nx-n1 tcp $g 8081; cp_ nx-n1 tcp $g 22; x docker exec nx-n1 ping -c1 -W1 $g
  hp tcp $n2 80; pp tcp $n3 80; pp tcp 192.168.77.1 8110
  iptables-save | grep $(brof nx-noicc) | grep -E 'DROP|-i .* -o ' | sed 's/^/  ipt: /'
  echo "== enable_ip_masquerade=false"
  docker network create $L --subnet 10.99.5.0/24 -o com.docker.network.bridge.enable_ip_masquerade=false nx-nomasq >/dev/null
  srv nx-q1 --network nx-nomasq
  ip netns exec nsx-peer $HOSTIDSRV serve tcp 9000 peer & local sp=$!
  ip netns exec nsx-peer $HOSTIDSRV serve udp 9001 peer & local su=$!
  sleep 0.5
  cp_ nx-q1 tcp 192.168.77.2 9000; cp_ nx-q1 udp 192.168.77.2 9001
  hp tcp $(ipof nx-q1 nx-nomasq) 80
  iptables-save -t nat | grep 10.99.5 | sed 's/^/  ipt: /'
  echo "  (MASQUERADE rules for 10.99.5.0/24: $(iptables-save -t nat | grep -c '10.99.5.0/24'))"
  echo "== host_binding_ipv4=127.0.0.1"
  docker network create $L --subnet 10.99.6.0/24 -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 nx-hb >/dev/null
  srv nx-h1 --network nx-hb -p 8120:80 -p 0.0.0.0:8121:81
  x docker port nx-h1
  hp tcp 127.0.0.1 8120; hp tcp $(gwof nx-hb) 8120; pp tcp 192.168.77.1 8120; pp tcp 192.168.77.1 8121
  ss -ltn | grep -E ':812[01]' | sed 's/^/  ss: /'
  kill $sp $su
}

t9() { # macvlan / ipvlan
  peer_up
  x docker network create $L -d macvlan --subnet 192.168.77.0/24 --gateway 192.168.77.1 --ip-range 192.168.77.128/28 -o parent=nsx-lan0 nx-mv
  srv nx-mv1 --network nx-mv; srv nx-mv2 --network nx-mv --ip 192.168.77.50
  local m1=$(ipof nx-mv1 nx-mv) m2=$(ipof nx-mv2 nx-mv)
  echo "nx-mv1=$m1 nx-mv2=$m2"
  x docker exec nx-mv1 ip route; x docker exec nx-mv1 ip link show eth0
  ip netns exec nsx-peer $HOSTIDSRV serve tcp 9000 peer & local sp=$!
  sleep 0.5
  pp tcp $m1 80; pp udp $m1 5353; cp_ nx-mv1 tcp 192.168.77.2 9000
  hp tcp $m1 80; cp_ nx-mv1 tcp 192.168.77.1 8081; x docker exec nx-mv1 ping -c1 -W1 192.168.77.1
  cp_ nx-mv1 tcp $m2 80; ns nx-mv1 nx-mv2
  x ip neigh show dev nsx-lan0
  echo "-- -p on a macvlan container"
  x docker run -d $L --dns 127.0.0.1 --name nx-mv3 --network nx-mv -p 8130:80 -e NAME=nx-mv3 $IMG idsrv serve tcp 80 nx-mv3
  x docker port nx-mv3; x docker inspect -f '{{json .NetworkSettings.Ports}}' nx-mv3
  ss -ltn | grep ':8130' | sed 's/^/  ss: /'; iptables-save | grep 8130 | sed 's/^/  ipt: /'
  pp tcp 192.168.77.1 8130; pp tcp $(ipof nx-mv3 nx-mv) 80
  echo "-- second macvlan network on the same parent"
  x docker network create $L -d macvlan --subnet 192.168.76.0/24 -o parent=nsx-lan0 nx-mv2net
  echo "-- 802.1q parent"
  x docker network create $L -d macvlan --subnet 192.168.78.0/24 -o parent=nsx-lan0.50 nx-mv50
  x ip -d link show nsx-lan0.50
  x docker network rm nx-mv50; x ip link show nsx-lan0.50
  echo "-- macvlan without parent"
  x docker network create $L -d macvlan --subnet 192.168.75.0/24 nx-mvnp
  docker network inspect nx-mvnp >/dev/null 2>&1 && { srv nx-mvnp1 --network nx-mvnp; x docker ps -a --filter name=nx-mvnp1 --format '{{.Status}}'; docker rm -f nx-mvnp1 >/dev/null 2>&1; docker network rm nx-mvnp >/dev/null; }
  echo "-- ipvlan"
  x docker network create $L -d ipvlan --subnet 192.168.74.0/24 -o parent=nsx-lan0 nx-ipv
  docker network inspect nx-ipv >/dev/null 2>&1 && { x docker run -d $L --dns 127.0.0.1 --name nx-ipv1 --network nx-ipv $IMG sleep 30; x docker ps -a --filter name=nx-ipv1 --format '{{.Status}}'; }
  x docker network create $L -d ipvlan --subnet 192.168.73.0/24 -o parent=nsx-lan0 -o ipvlan_mode=l3 nx-ipv3
  kill $sp
}

t10() { # container:X and host mode
  ensure_ab; peer_up
  srv nx-own --network nx-a -p 8140:80
  local o=$(ipof nx-own nx-a) ga=$(gwof nx-a)
  echo "nx-own=$o"
  x docker run -d $L --name nx-j0 --network container:nx-own -p 8141:82 $IMG sleep 30
  x docker run -d $L --name nx-j0 --network container:nx-own --dns 127.0.0.1 $IMG sleep 30
  x docker run -d $L --name nx-j0 --network container:nx-own --hostname foo $IMG sleep 30
  x docker run -d $L --name nx-j0 --network container:nx-own --network-alias foo $IMG sleep 30
  x docker run -d $L --name nx-j0 --network container:nx-own --expose 82 $IMG sleep 30
  # joiner inherits the owner's resolv.conf (owner runs with --dns 127.0.0.1)
  x docker run -d $L --name nx-join --network container:nx-own $IMG idsrv serve tcp 82 nx-join
  sleep 0.5
  x docker exec nx-join ip -4 -o addr; x docker exec nx-join cat /etc/resolv.conf; x docker exec nx-join hostname
  cp_ nx-a3 tcp $o 82; cp_ nx-a3 tcp $o 80; x docker exec nx-join idsrv probe tcp 127.0.0.1 80
  hp tcp 127.0.0.1 8140
  ns nx-a3 nx-join; ns nx-join nx-a3
  x docker inspect -f '{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks}}' nx-join
  x docker network connect nx-b nx-join
  echo "-- host mode"
  x docker run -d $L --dns 127.0.0.1 --name nx-host1 --network host -p 8150:80 $IMG idsrv serve tcp 8151 nx-host1
  sleep 0.5
  x docker port nx-host1
  hp tcp 127.0.0.1 8151; cp_ nx-a3 tcp $ga 8151; pp tcp 192.168.77.1 8151
  x docker exec nx-host1 cat /etc/resolv.conf
  x docker run -d $L --dns 127.0.0.1 --name nx-host2 --network host $IMG idsrv serve tcp 8151 nx-host2
  sleep 0.5; x docker ps -a --filter name=^/nx-host2 --format '{{.Status}}'; x docker logs nx-host2
  x docker network connect nx-a nx-host1
  x docker run -d $L --dns 127.0.0.1 --name nx-none --network none $IMG sleep 30
  x docker exec nx-none ip -o link; x docker network connect nx-a nx-none
  docker rm -f nx-host1 nx-host2 nx-none >/dev/null
}

netcfg() { docker network inspect -f '{{.Name}} {{json .IPAM.Config}}' "$1"; echo "    bridge addr: $(ip -4 -o addr show dev $(brof $1) | awk '{print $4}')"; }
t11() { # IPAM and allocation errors
  echo "-- existing networks"; docker network ls --format '{{.Name}}' | while read n; do docker network inspect -f '  {{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' $n; done
  for n in nx-p1 nx-p2 nx-p3; do docker network create $L $n >/dev/null; netcfg $n; done
  echo "-- with a host route covering the next default pool (nsx-lan0 route, test of route-overlap skipping)"
  local next=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' nx-p3 | awk -F. '{print $1"."$2+1".0.0/16"}')
  echo "  adding host route $next dev nsx-lan0"
  ip route add $next dev nsx-lan0
  docker network create $L nx-p4 >/dev/null; netcfg nx-p4
  ip route del $next dev nsx-lan0
  docker network create $L nx-p5 >/dev/null; netcfg nx-p5
  echo "-- address allocation on nx-p1"
  for c in nx-c1 nx-c2 nx-c3; do docker run -d $L --dns 127.0.0.1 --name $c --network nx-p1 $IMG sleep 600 >/dev/null 2>&1; echo "  $c $(ipof $c nx-p1)"; done
  docker rm -f nx-c2 >/dev/null
  docker run -d $L --dns 127.0.0.1 --name nx-c4 --network nx-p1 $IMG sleep 600 >/dev/null 2>&1; echo "  after rm nx-c2: nx-c4 $(ipof nx-c4 nx-p1)"
  docker run -d $L --dns 127.0.0.1 --name nx-c5 --network nx-p1 $IMG sleep 600 >/dev/null 2>&1; echo "  nx-c5 $(ipof nx-c5 nx-p1)"
  docker rm -f nx-c5 >/dev/null
  docker run -d $L --dns 127.0.0.1 --name nx-c6 --network nx-p1 $IMG sleep 600 >/dev/null 2>&1; echo "  after rm nx-c5: nx-c6 $(ipof nx-c6 nx-p1)"
  docker restart -t 0 nx-c1 >/dev/null; echo "  nx-c1 after restart $(ipof nx-c1 nx-p1)"
  echo "-- errors"
  x docker network create $L --subnet 10.99.1.0/25 nx-ov
  x docker network create $L --subnet 10.99.0.0/16 nx-ov
  x docker network create $L --subnet 10.99.7.0/24 --gateway 10.99.8.1 nx-gw
  x docker network create $L --subnet 10.99.7.0/24 --ip-range 10.99.8.0/28 nx-gw
  x docker run -d $L --dns 127.0.0.1 --name nx-e1 --network nx-a --ip 10.99.9.5 $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-e2 --network nx-a --ip $(ipof nx-a3 nx-a) $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-e2b --network nx-a --ip 10.99.1.1 $IMG sleep 60
  x docker run -d $L --dns 127.0.0.1 --name nx-e3 --network nx-p1 --ip $(ipof nx-c1 nx-p1 | awk -F. '{print $1"."$2"."$3".200"}') $IMG sleep 60
  docker ps -a --filter name=^/nx-e --format '  {{.Names}} {{.Status}}'
  echo "-- port allocation"
  docker rm -f nx-e1 nx-e2 nx-e2b nx-e3 >/dev/null 2>&1
  x docker run -d $L --dns 127.0.0.1 --name nx-pa1 --network nx-p1 -p 8200:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pa2 --network nx-p1 -p 8200:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pb1 --network nx-p1 -p 127.0.0.1:8201:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pb2 --network nx-p1 -p 127.0.0.2:8201:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pc1 --network nx-p1 -p 0.0.0.0:8202:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pc2 --network nx-p1 -p 127.0.0.1:8202:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pd1 --network nx-p1 -p 127.0.0.1:8205:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pd2 --network nx-p1 -p 8205:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pe1 --network nx-p1 -p 8203:80 $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pe2 --network nx-p1 -p 8203:80/udp $IMG sleep 600
  x docker run -d $L --dns 127.0.0.1 --name nx-pf1 --network nx-p1 -p 8206:80 -p 8206:81 $IMG sleep 600
  $HOSTIDSRV serve tcp 8204 hostproc & local hp=$!; sleep 0.3
  x docker run -d $L --dns 127.0.0.1 --name nx-pg1 --network nx-p1 -p 8204:80 $IMG sleep 600
  kill $hp
  docker ps -a --filter name=^/nx-p --format '  {{.Names}} {{.Status}} {{.Ports}}'
}

# the docker_gwbridge endpoint is hidden from .NetworkSettings.Networks: read it inside the container
gwbip() { docker exec $1 ip -4 -o addr | awk '/172\./{print $4}' | grep -f <(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' docker_gwbridge | cut -d. -f1-2) | cut -d/ -f1; }
t12b() { # gwbridge probes (after t12)
  local g1=$(gwbip nx-o1) g2=$(gwbip nx-o2); echo "nx-o1 gwb=$g1 nx-o2 gwb=$g2"
  cp_ nx-o1 tcp $g2 80; x docker exec nx-o1 ping -c1 -W1 $g2
  hp tcp $g1 80; hp tcp $g2 80; hp udp $g2 5353
  x docker network inspect -f '{{json .Containers}}' docker_gwbridge
}
t12() { # overlay on a single-node swarm
  peer_up
  x docker network inspect docker_gwbridge -f '{{.Name}}'
  x docker swarm init --advertise-addr 127.0.0.1
  x docker network create $L -d overlay --attachable nx-ov1
  x docker network inspect -f '{{json .IPAM.Config}} {{json .Options}}' nx-ov1
  srv nx-o1 --network nx-ov1; srv nx-o2 --network nx-ov1 -p 8300:80
  x docker network inspect -f '{{json .IPAM.Config}} {{json .Options}}' docker_gwbridge
  x docker network inspect -f '{{json .IPAM.Config}}' ingress
  local o1=$(ipof nx-o1 nx-ov1) o2=$(ipof nx-o2 nx-ov1) g1=$(gwbip nx-o1) g2=$(gwbip nx-o2) gg=$(gwof docker_gwbridge)
  echo "nx-o1 ov=$o1 gwb=$g1 ; nx-o2 ov=$o2 gwb=$g2 ; gwbridge gw=$gg"
  x docker exec nx-o1 ip route; x docker exec nx-o1 ip -4 -o addr; x docker exec nx-o1 cat /etc/resolv.conf
  cp_ nx-o1 tcp $o2 80; cp_ nx-o1 udp $o2 5353; ns nx-o1 nx-o2
  echo "-- via docker_gwbridge IPs"; cp_ nx-o1 tcp $g2 80; x docker exec nx-o1 ping -c1 -W1 $g2
  echo "-- host"
  x ip route get $o1
  if ip route get $o1 | grep -q eth0; then echo "  host has no route to the overlay subnet (would use the uplink default route): NOT probed"; else hp tcp $o1 80; fi
  hp tcp $g1 80; hp tcp $g2 80
  echo "-- -p 8300:80 on nx-o2"
  x docker port nx-o2
  iptables-save -t nat | grep 8300 | sed 's/^/  ipt: /'
  hp tcp 127.0.0.1 8300; hp tcp $gg 8300; pp tcp 192.168.77.1 8300; cp_ nx-o1 tcp $gg 8300
  ensure_ab; cp_ nx-a3 tcp $(gwof nx-a) 8300
  iptables-save | grep -E "$(brof docker_gwbridge)|docker_gwbridge" | sed 's/^/  ipt: /'
  x docker network inspect -f '{{.Options}}' docker_gwbridge
}
t12down() {
  docker rm -f nx-o1 nx-o2 >/dev/null 2>&1
  x docker network rm nx-ov1
  x docker swarm leave --force
  sleep 1
  x docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}'
}

t13() { # UDP published ports
  ensure_ab; peer_up
  docker inspect nx-bp >/dev/null 2>&1 || srv nx-bp --network nx-b -p 8081:80 -p 8082:81 -p 5354:5353/udp
  srv nx-u1 --network nx-b -p 127.0.0.1:5355:5353/udp
  srv nx-u2 -p 5356:5353/udp
  local gb=$(gwof nx-b)
  hp udp 127.0.0.1 5354; hp udp $gb 5354; hp udp 172.17.0.1 5354; hp udp 192.168.77.1 5354
  pp udp 192.168.77.1 5354; pp udp $(ipof nx-bp nx-b) 5353
  hp udp 127.0.0.1 5355; hp udp $gb 5355; pp udp 192.168.77.1 5355
  hp udp 127.0.0.1 5356; pp udp 192.168.77.1 5356; pp udp $(ipof nx-u2 bridge) 5353; cp_ nx-a3 udp $(gwof nx-a) 5356
  x docker port nx-u1; x docker port nx-u2
}

t14() { # representative iptables-save and routes
  cleanup; peer_up
  docker network create $L --subnet 10.99.1.0/24 nx-a >/dev/null
  docker network create $L --subnet 10.99.4.0/24 -o com.docker.network.bridge.enable_icc=false nx-noicc >/dev/null
  docker network create $L --internal --subnet 10.99.3.0/24 nx-int >/dev/null
  docker network create $L --subnet 10.99.10.0/24 nx-aaa >/dev/null
  docker network create $L --subnet 10.99.26.0/24 nx-zzz >/dev/null
  docker network create $L -d macvlan --subnet 192.168.77.0/24 --gateway 192.168.77.1 --ip-range 192.168.77.128/28 -o parent=nsx-lan0 nx-mv >/dev/null
  srv nx-d1 -p 8080:80                                   # default bridge, published
  srv nx-a1 --network nx-a -p 8081:80 -p 5354:5353/udp   # user bridge, published tcp+udp
  srv nx-a2 --network nx-a -p 127.0.0.1:8083:80          # 127.0.0.1-bound
  srv nx-n1 --network nx-noicc                           # icc off
  srv nx-n2 --network nx-noicc -p 8110:80
  srv nx-i1 --network nx-int                             # internal
  srv nx-m1 --network nx-zzz; docker network connect nx-aaa nx-m1; docker restart -t 0 nx-m1 >/dev/null  # multi-homed
  srv nx-mv1 --network nx-mv                             # macvlan
  local out=$HERE/iptables-save.txt
  {
    echo "# Docker 20.10.24+dfsg1, iptables-save (nf_tables backend) of filter, nat, raw, captured $(date -u +%FT%TZ)"
    echo "# Setup (experiments.sh t14):"
    for n in bridge nx-a nx-noicc nx-int nx-aaa nx-zzz; do echo "#   network $n -> $(brof $n) $(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}} internal={{.Internal}} opts={{json .Options}}' $n)"; done
    echo "#   nx-mv macvlan parent=nsx-lan0 192.168.77.0/24 (no iptables rules)"
    for c in nx-d1 nx-a1 nx-a2 nx-n1 nx-n2 nx-i1 nx-m1 nx-mv1; do echo "#   container $c $(docker inspect -f '{{range $k,$v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' $c) ports: $(docker port $c | tr '\n' ' ')"; done
    echo "# Bridges named br-* not listed above (if any) belong to other users of the engine, e.g. smoke1_*: $(docker network ls --format '{{.Name}}' | grep -v -E '^(nx-|bridge$|host$|none$)' | tr '\n' ' ')"
    echo "# Host: net.ipv4.ip_forward=$(sysctl -n net.ipv4.ip_forward)"
    echo
    for t in filter nat raw; do iptables-save -t $t; done
  } > $out
  echo "wrote $out"
  local r=$HERE/routes.txt
  {
    echo "# Docker 20.10.24: 'ip route' inside containers (busybox ip), $(date -u +%FT%TZ)"
    for c in nx-i1 nx-m1 nx-mv1 nx-a1 nx-d1; do
      echo; echo "## $c  networks: $(docker inspect -f '{{range $k,$v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' $c)"
      echo "\$ ip route"; docker exec $c ip route
      echo "\$ ip -4 -o addr"; docker exec $c ip -4 -o addr | sed 's/\\ *valid_lft.*//'
    done
  } > $r
  echo "wrote $r"; cat $r
}

case "${1:-}" in "") echo "usage: $0 topic..."; exit 2;; esac
for t in "$@"; do echo "===== $t ====="; $t 2>&1 | tee $LOGS/$t.txt; done
true
