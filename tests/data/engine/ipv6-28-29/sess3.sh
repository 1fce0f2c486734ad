# Session 3: "ipv6": true without fixed-cidr-v6 (the default bridge over IPv6), gateway modes for IPv6,
# an IPv6-only network, per-family gateways of a multi-homed container.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S3 $V $(date -u)"
setup_ns
startd '"ipv6": true'
fwd
ula
run $D network inspect bridge --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
run ip -n $NS -6 addr show dev docker0
ctr d1 -p 8090:80
ctr d2
ctr d3
addrs d1 d2 d3
run $D network create $L --ipv6 --subnet fd12:3456:30::/64 -o com.docker.network.bridge.gateway_mode_ipv6=routed x6r
run $D network create $L --ipv6 --subnet fd12:3456:31::/64 -o com.docker.network.bridge.gateway_mode_ipv6=nat-unprotected x6nu
run $D network create $L --ipv6 --subnet fd12:3456:32::/64 -o com.docker.network.bridge.gateway_mode_ipv4=routed x6r4
run $D network create $L --ipv4=false --ipv6 --subnet fd12:3456:33::/64 x6only
run $D network create $L aa4
ctr r1 --network x6r -p 8120:80
ctr r2 --network x6r
ctr q1 --network x6nu -p 8121:80
ctr q2 --network x6r4 -p 8122:80
ctr o1 --network x6only -p 8123:80
ctr m1 --network aa4 -p 8124:80
run $D network connect x6only m1
addrs d1 r1 r2 q1 q2 o1 m1
run $D ps -a --format '{{.Names}} {{.Status}} {{.Ports}}'
run $D exec m1 ip route
run $D exec m1 ip -6 route
run $D exec o1 ip -6 route
fwd; tables
run ip netns exec $NS iptables -t nat -S
proxies
run ip netns exec $NS ss -ltnH
sleep 2
D1=$(v6 d1); R1=$(v6 r1); R2=$(v6 r2); Q1=$(v6 q1); Q2=$(v6 q2); O1=$(v6 o1); Q24=$(v4 q2)
M16=$($D inspect m1 --format '{{(index .NetworkSettings.Networks "x6only").GlobalIPv6Address}}')
peerhttpd
echo "-- host dials"
hdial $NS ::1 8090
hdial $NS $H6 8120
hdial $NS $H6 8123
hdial $NS $H6 8124
hdial $NS 127.0.0.1 8124
echo "-- LAN peer dials"
hdial $NP $H6 8090
hdial $NP $D1 80
hdial $NP $D1 81
hdial $NP $R1 80
hdial $NP $R1 81
hdial $NP $R2 80
hdial $NP $H6 8120
hdial $NP $Q1 80
hdial $NP $Q1 81
hdial $NP $H6 8121
hdial $NP $Q2 80
hdial $NP $H6 8122
hdial $NP $Q24 80
hdial $NP $O1 80
hdial $NP $H6 8123
hdial $NP $H6 8124
hdial $NP $H4 8124
hdial $NP $M16 80
echo "-- container dials"
cdial r1 $P6 90
cdial q1 $P6 90
cdial o1 $P6 90
cdial m1 $P6 90
cdial m1 $P4 90
cdial d1 $R1 80
cdial d1 $R1 81
cdial r1 $D1 80
kill $PEERPID
echo "-- icc=false with ip6tables=false and ipv6 (daemon refuses?)"
cleanup
stopd
echo '{}' >/dev/null
startd '"ipv6": true, "ip6tables": false, "icc": false'
tail -3 $X/dockerd-$V.log
stopd
teardown_ns
