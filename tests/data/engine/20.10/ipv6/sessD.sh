. ${IPV6X:-/tmp/ipv6x}/lib.sh
echo "== D (main engine, ip6tables off): enable_icc=false over IPv6 $(date -u)"
fwd
run docker network create $L --ipv6 --subnet fd12:3456:9::/64 -o com.docker.network.bridge.enable_icc=false x6noicc
ctr n1 --network x6noicc
ctr n2 --network x6noicc
N2_6=$(docker inspect n2 --format '{{.NetworkSettings.Networks.x6noicc.GlobalIPv6Address}}')
N2_4=$(docker inspect n2 --format '{{.NetworkSettings.Networks.x6noicc.IPAddress}}')
cdial n1 $N2_6
cdial n1 $N2_4
run sysctl net.bridge.bridge-nf-call-ip6tables net.bridge.bridge-nf-call-iptables
run ip6tables -S
cleanup
run docker network ls --filter label=netsim.explore=1
fwd
