# Session 6: forwarding already on before dockerd starts; DOCKER-USER over IPv6 (DNAT vs docker-proxy 6->4);
# another network's container to a published port through the gateway address (proxy on).
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S6 $V $(date -u)"
setup_ns
ip netns exec $NS sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1
echo "-- IPv6 forwarding set to 1 before dockerd starts"; fwd
startd ''
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
run $D network create $L --ipv6 --subnet 2001:db8:1::/64 x6b
run $D network create $L x4
ctr a1 --network x6a -p 8080:80
ctr b1 --network x6b
ctr f1 --network x4 -p 8085:80
addrs a1 b1 f1
fwd
run ip netns exec $NS ip6tables -S
sleep 2
cdial b1 fd12:3456:1::1 8080
cdial b1 fd12:3456:1::1 8085
echo "-- DOCKER-USER in ip6tables: drop the LAN peer"
run ip netns exec $NS ip6tables -I DOCKER-USER -s $P6 -j DROP
hdial $NP $H6 8080
hdial $NP $H6 8085
run ip netns exec $NS ip6tables -L DOCKER-USER -v -n
run ip netns exec $NS ip6tables -D DOCKER-USER -s $P6 -j DROP
hdial $NP $H6 8080
cleanup
stopd
teardown_ns
