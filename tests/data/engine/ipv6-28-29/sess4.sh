# Session 4: "userland-proxy": false with IPv6.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S4 $V $(date -u)"
setup_ns
startd '"userland-proxy": false'
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
run $D network create $L --ipv6 --subnet 2001:db8:1::/64 x6b
run $D network create $L x4
ctr a1 --network x6a -p 8080:80
ctr a2 --network x6a -p [::1]:8081:80
ctr b1 --network x6b
ctr f1 --network x4 -p 8085:80 -p [::]:8086:80
addrs a1 a2 b1 f1
run $D ps -a --format '{{.Names}} {{.Status}} {{.Ports}}'
tables
proxies
run ip netns exec $NS ss -ltnH
sleep 2
A1=$(v6 a1); GA=fd12:3456:1::1
peerhttpd
echo "-- host dials"
hdial $NS ::1 8080
hdial $NS $H6 8080
hdial $NS ::1 8081
hdial $NS $H6 8081
hdial $NS ::1 8085
hdial $NS $H6 8085
hdial $NS $H6 8086
echo "-- LAN peer dials"
hdial $NP $H6 8080
hdial $NP $H6 8081
hdial $NP $H6 8085
hdial $NP $A1 80
echo "-- container dials"
cdial b1 $GA 8080
cdial a1 $GA 8080
cdial a1 $H6 8080
kill $PEERPID
cleanup
stopd
teardown_ns
