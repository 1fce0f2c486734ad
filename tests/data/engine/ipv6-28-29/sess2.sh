# Session 2: "ip6tables": false (the old default), user-defined dual-stack networks.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S2 $V $(date -u)"
setup_ns
echo "-- new namespace, before dockerd"; fwd
startd '"ip6tables": false'
echo "-- after start"; fwd; tables
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
run $D network create $L --ipv6 --subnet 2001:db8:1::/64 x6b
run $D network create $L --internal --ipv6 --subnet fd12:3456:8::/64 x6int
run $D network create $L --ipv6 --subnet fd12:3456:9::/64 -o com.docker.network.bridge.enable_icc=false x6noicc
run $D network create $L x4
ctr a1 --network x6a -p 8080:80
ctr a2 --network x6a -p [::1]:8081:80
ctr a3 --network x6a
ctr b1 --network x6b
ctr i1 --network x6int
ctr n1 --network x6noicc
ctr n2 --network x6noicc
ctr f1 --network x4 -p 8085:80
ctr d1 -p 8090:80
addrs a1 a2 a3 b1 i1 n1 n2 f1 d1
run $D ps -a --format '{{.Names}} {{.Status}} {{.Ports}}'
echo "-- after networks"; fwd; tables
proxies
run ip netns exec $NS ss -ltnH
sleep 2
A1=$(v6 a1); A2=$(v6 a2); A3=$(v6 a3); B1=$(v6 b1); I1=$(v6 i1); N1=$(v6 n1); N2=$(v6 n2)
peerhttpd
echo "-- host dials"
hdial $NS ::1 8080
hdial $NS $H6 8080
hdial $NS $H6 8081
hdial $NS $H6 8085
hdial $NS $A1 81
echo "-- LAN peer dials"
hdial $NP $H6 8080
hdial $NP $H6 8085
hdial $NP $H6 8090
hdial $NP $A1 80
hdial $NP $A1 81
hdial $NP $A2 80
hdial $NP $A3 80
hdial $NP $B1 80
hdial $NP $I1 80
echo "-- container dials"
cdial a1 $B1 80
cdial b1 $A1 80
cdial i1 $A1 80
cdial a1 $I1 80
cdial n1 $N2 80
cdial a1 $P6 90
cdial i1 $P6 90
kill $PEERPID
echo "== cleanup S2"
cleanup; fwd; tables
stopd
teardown_ns
