. ${IPV6X:-/tmp/ipv6x}/lib2.sh
echo "== C7 macvlan with IPv6 $(date -u)"
startd '{}'
run $D network create $L -d macvlan -o parent=lan0 --ipv6 --subnet 10.250.0.0/24 --gateway 10.250.0.1 --ip-range 10.250.0.64/26 --subnet fd12:3456:ee::/64 --ip-range fd12:3456:ee::100/120 mv6
run $D network inspect mv6 --format '{{json .IPAM.Config}}'
ctr v1 --network mv6 -p 8085:80
ctr v2 --network mv6
addrs v1 v2
run $D exec v1 ip -6 route
hdial nsx6p $(v6 v1) 80
hdial nsx6p $(v6 v2) 81
hdial nsx6 $(v6 v1) 80
cdial v1 $(v6 v2) 80
cdial v1 fd12:3456:ee::2 80
run ip netns exec nsx6 ss -ltn
cleanup; stopd
