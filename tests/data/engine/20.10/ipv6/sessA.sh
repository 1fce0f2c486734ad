. ${IPV6X:-/tmp/ipv6x}/lib.sh
echo "== A: daemon default (no daemon.json: ipv6 off, ip6tables off) $(date -u)"
fwd
echo "== 1. networks"
run docker network create $L --ipv6 x6nosub
run docker network inspect x6nosub --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
fwd
run docker network create $L --subnet fd12:3456:2::/64 x6noflag
run docker network inspect x6noflag --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
run docker network create $L --subnet 10.201.0.0/24 --subnet fd12:3456:3::/64 x6noflag2
run docker network inspect x6noflag2 --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
fwd
run docker network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
fwd
run docker network inspect x6a --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}} {{.Id}}'
BR=br-$(docker network inspect x6a --format '{{.Id}}' | cut -c1-12)
run ip -6 addr show dev $BR
run ip -6 route show dev $BR
run sysctl net.ipv6.conf.$BR.forwarding net.ipv6.conf.$BR.disable_ipv6
run docker network create $L --ipv6 --subnet fd12:3456:1::/64 x6dup
run docker network create $L --ipv6 --subnet fd12:3456:1:0:1::/80 x6over
run docker network create $L --ipv6 --subnet fd12:3456::/48 x6over2
run docker network create $L --ipv6 --subnet fd12:3456:5::1/128 x6s128
run docker network create $L --ipv6 --subnet fd12:3456:5::/128 x6s128b
run docker network create $L --ipv6 --subnet fd12:3456:5::/127 x6s127
run docker network create $L --ipv6 --subnet fd12:3456:5:1::/120 x6s120
run docker network create $L --ipv6 --subnet fd12:3456:6::/64 --ip-range fd12:3456:6::100/120 x6range
run docker network create $L --ipv6 --subnet fd12:3456:7::/64 --gateway fd12:3456:7::fe x6gw
run docker network create $L --ipv6 --subnet fd12:3456:7a::/64 --ip-range fd12:3456:99::/120 x6rangeout
run docker network create $L --ipv6 --subnet 2001:db8:1::/64 x6b
run docker network create $L --internal --ipv6 --subnet fd12:3456:8::/64 x6int
run docker network ls --filter label=netsim.explore=1
for n in x6range x6gw x6rangeout x6b x6int x6s120 x6s127 x6over x6over2; do run docker network inspect $n --format "$n {{json .IPAM.Config}} ipv6={{.EnableIPv6}}"; done
echo "== containers"
ctr a1 --network x6a -p 8080:80
ctr a2 --network x6a -p [::1]:8081:80
ctr a3 --network x6a --ip6 fd12:3456:1::99
ctr a4 --network x6a
ctr abad --network x6a --ip6 fd12:3456:77::5
ctr r1 --network x6range
ctr g1 --network x6gw
ctr ro1 --network x6rangeout
ctr b1 --network x6b -p 8082:80
ctr i1 --network x6int
ctr n1 --network x6noflag
ctr n2 --network x6nosub
ctr s1 --network x6s120
ctr s2 --network x6s127
run docker ps -a --filter label=netsim.explore=1 --format '{{.Names}} {{.Status}} {{.Ports}}'
for c in a1 a2 a3 a4 r1 g1 ro1 b1 i1 n1 n2 s1 s2; do docker inspect $c --format "$c {{range \$k,\$v := .NetworkSettings.Networks}}{{\$k}} v4={{\$v.IPAddress}} v6={{\$v.GlobalIPv6Address}}/{{\$v.GlobalIPv6PrefixLen}} gw6={{\$v.IPv6Gateway}} mac={{\$v.MacAddress}} {{end}}" 2>&1; done
for c in a1 i1 g1; do echo "-- $c"; docker exec $c ip -6 addr; docker exec $c ip -6 route; docker exec $c ip -4 route; done
run docker exec a1 netstat -ltn
run docker exec a1 sysctl net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.eth0.disable_ipv6
echo "== 3. DNS"
run docker exec a1 nslookup -type=AAAA a2 127.0.0.11
run docker exec a1 nslookup -type=A a2 127.0.0.11
run docker exec a1 nslookup a2 127.0.0.11
run docker exec a1 nslookup -type=AAAA b1 127.0.0.11
A1_4=$(docker inspect a1 --format '{{.NetworkSettings.Networks.x6a.IPAddress}}')
A1_6=$(docker inspect a1 --format '{{.NetworkSettings.Networks.x6a.GlobalIPv6Address}}')
A2_6=$(docker inspect a2 --format '{{.NetworkSettings.Networks.x6a.GlobalIPv6Address}}')
A2_4=$(docker inspect a2 --format '{{.NetworkSettings.Networks.x6a.IPAddress}}')
B1_6=$(docker inspect b1 --format '{{.NetworkSettings.Networks.x6b.GlobalIPv6Address}}')
B1_4=$(docker inspect b1 --format '{{.NetworkSettings.Networks.x6b.IPAddress}}')
I1_6=$(docker inspect i1 --format '{{.NetworkSettings.Networks.x6int.GlobalIPv6Address}}')
I1_4=$(docker inspect i1 --format '{{.NetworkSettings.Networks.x6int.IPAddress}}')
echo "== 4. published ports"
run ss -ltnp '( sport = :8080 or sport = :8081 or sport = :8082 )'
ps -eo args | grep '[d]ocker-proxy' 
run ip6tables -S
run ip6tables -t nat -S
run iptables -t nat -S DOCKER
hdial ::1 8080
hdial 127.0.0.1 8080
hdial ::1 8081
hdial 127.0.0.1 8081
hdial fd00::2 8080
hdial $A1_6 80
hdial $A1_4 80
hdial $A2_6 80
hdial $B1_6 80
hdial $I1_6 80
hdial $I1_4 80
echo "-- ICC / isolation over IPv6 (ip6tables off)"
cdial a1 $A2_6
cdial a1 $B1_6
cdial a1 $B1_4
cdial b1 $A1_6
cdial b1 $A1_4
cdial i1 $A1_6
cdial i1 $A1_4
cdial a1 $I1_6
cdial a1 $I1_4
cdial a1 fd12:3456:1::1 8080
cdial b1 fd12:3456:1::1 8080
cdial a1 ::1 80
echo "== 5. sysctls after removal"
fwd
cleanup
run docker network ls --filter label=netsim.explore=1
fwd
run ip6tables -S
run ip6tables -t nat -S
run ip6tables -L OUTPUT -v -n
