# Session 7: IPAM/bad input over IPv6, per-family default routes of a multi-homed container (gw-priority),
# default-address-pools with an IPv6 base.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S7 $V $(date -u)"
setup_ns
startd ''
echo "-- bad input"
run $D network create $L --subnet fd12:3456:2::/64 x6noflag
run $D network inspect x6noflag --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
run $D network create $L --ipv6 --subnet fd12:3456:1:0:1::/80 x6in
run $D network create $L --ipv6 --subnet fd12:3456::/32 x6over
run $D network create $L --ipv6 --subnet fd12:3456:5::/128 x6s128
run $D network create $L --ipv6 --subnet fd12:3456:5::/127 x6s127
ctr s1 --network x6s127
run $D network create $L --ipv6 --subnet fd12:3456:6::/64 --ip-range fd12:3456:6::100/120 x6rng
ctr g1 --network x6rng
run $D network create $L --ipv6 --subnet fd12:3456:7::/64 --gateway fd12:3456:7::fe x6gw
ctr g2 --network x6gw
ctr bad --network x6a --ip6 fd12:3456:77::5
ctr st --network x6a --ip6 fd12:3456:1::99
ctr nx --network x6a
ctr dflt --ip6 fd12:3456:ff::10
addrs s1 g1 g2 st nx
run $D network inspect x6rng x6gw --format '{{.Name}} {{json .IPAM.Config}}'
echo "-- multi-homed: aa-m4 (IPv4 only) + zz-m6 (dual stack)"
run $D network create $L aa-m4
run $D network create $L --ipv6 --subnet fd12:3456:4::/64 zz-m6
ctr m1 --network aa-m4
run $D network connect zz-m6 m1
run $D exec m1 ip route
run $D exec m1 ip -6 route
echo "-- gw-priority 10 on the IPv4-only network"
ctr m2 --network name=aa-m4,gw-priority=10 --network name=zz-m6
run $D exec m2 ip route
run $D exec m2 ip -6 route
ctr m3 --network name=aa-m4,gw-priority=10 --network name=zz-m6 -p 8131:80
run $D ps --filter name=m3 --format '{{.Names}} {{.Ports}}'
proxies | grep 8131
run ip netns exec $NS ip6tables -t nat -S DOCKER
cleanup
stopd
startd '"default-address-pools": [{"base": "172.30.0.0/16", "size": 24}, {"base": "fd55:1::/48", "size": 64}]'
run $D network create $L --ipv6 p1
run $D network create $L --ipv6 p2
run $D network inspect p1 p2 --format '{{.Name}} {{json .IPAM.Config}}'
cleanup
stopd
teardown_ns
