. ${IPV6X:-/tmp/ipv6x}/lib.sh
echo "== B (main engine, ip6tables off) $(date -u)"
fwd
echo "-- put forwarding back to 0 (left at 1 by session A's networks; no IPv6 network exists now)"
run docker network ls
sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.forwarding=0; fwd
run docker network create $L --subnet fd12:3456:1::/64 x6noflag
fwd
run docker network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
fwd
run docker network create $L --subnet 10.201.7.0/24 aa-m4
run docker network create $L --ipv6 --subnet fd12:3456:4::/64 --subnet 10.201.8.0/24 zz-m6
ctr m1 --network zz-m6
echo "-- m1 on zz-m6 only"; docker exec m1 ip -6 route | grep default; docker exec m1 ip -4 route | grep default
run docker network connect aa-m4 m1
echo "-- m1 after connecting aa-m4 (v4-only, sorts first)"; docker exec m1 ip -6 route; docker exec m1 ip -4 route | grep default
run docker restart m1
echo "-- m1 after restart"; docker exec m1 ip -6 route; docker exec m1 ip -4 route | grep default
docker inspect m1 --format '{{range $k,$v := .NetworkSettings.Networks}}{{$k}} gw4={{$v.Gateway}} gw6={{$v.IPv6Gateway}} v6={{$v.GlobalIPv6Address}}; {{end}}'
run docker network disconnect aa-m4 m1
echo "-- m1 after disconnecting aa-m4"; docker exec m1 ip -6 route | grep default; docker exec m1 ip -4 route | grep default
cleanup
run docker network ls --filter label=netsim.explore=1
echo "-- after removing every IPv6 network"; fwd
run sysctl net.ipv6.conf.eth0.accept_ra
run ip6tables -L OUTPUT -v -n
