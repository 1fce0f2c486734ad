# Session 9: macvlan with IPv6 (parent = the host's LAN veth), as 18j on 20.10.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S9 $V $(date -u)"
setup_ns
startd ''
run $D network create $L -d macvlan -o parent=lan0 --subnet 10.250.0.0/24 --ip-range 10.250.0.128/28 --ipv6 --subnet fd12:3456:ee::/64 --ip-range fd12:3456:ee::100/120 mv6
run $D network inspect mv6 --format '{{json .IPAM.Config}}'
ctr v1 --network mv6 -p 8140:80
ctr v2 --network mv6
addrs v1 v2
run $D exec v1 ip -6 route
run $D exec v1 ip route
tables
run ip netns exec $NS ss -ltnH
sleep 2
V1=$(v6 v1)
hdial $NP $V1 80
hdial $NP $V1 81
hdial $NS $V1 80
cdial v1 $P6 90
cleanup
stopd
teardown_ns
