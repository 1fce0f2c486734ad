. ${IPV6X:-/tmp/ipv6x}/lib2.sh
echo "== C2 $(date -u)"; fwd
run ip netns exec nsx6 ip6tables -S
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/64", "experimental": true, "ip6tables": true}'
fwd
echo "-- ip6tables right after start (default bridge has IPv6)"
run ip netns exec nsx6 ip6tables -S
run ip netns exec nsx6 ip6tables -t nat -S
echo "-- error cases (CLI 28.2.2 against 20.10.24)"
ctr d3 --mac-address 02:42:ac:11:00:99
ctr d4 --ip6 fd12:3456:ff::10
run $D network create $L --ipv6 --subnet fd12:3456:5::/127 x6s127
ctr s2 --network x6s127
ctr s3 --network x6s127 --ip6 fd12:3456:5::1
echo "-- networks"
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
ctr abad --network x6a --ip6 fd12:3456:77::5
run $D network create $L --ipv6 --subnet 2001:db8:1::/64 x6b
run $D network create $L --internal --ipv6 --subnet fd12:3456:8::/64 x6int
run $D network create $L --ipv6 --subnet fd12:3456:9::/64 -o com.docker.network.bridge.enable_icc=false x6noicc
ctr a1 --network x6a -p 8080:80
ctr a2 --network x6a -p [::1]:8081:80
ctr a3 --network x6a --ip6 fd12:3456:1::99
ctr a4 --network x6a
ctr b1 --network x6b
ctr i1 --network x6int -p 8083:80
ctr n1 --network x6noicc
ctr n2 --network x6noicc
ctr d1 -p 8090:80
ctr d2
addrs d1 d2 d3 d4 a1 a2 a3 a4 abad b1 i1 n1 n2 s2 s3
run $D ps -a --format '{{.Names}} {{.Status}} {{.Ports}}'
echo "-- ip6tables with networks and containers"
run ip netns exec nsx6 ip6tables -S
run ip netns exec nsx6 ip6tables -t nat -S
run ip netns exec nsx6 iptables -t nat -S
ps -eo args | grep '[d]ocker-proxy.*80[89]' 
run ip netns exec nsx6 ss -ltn
sleep 2
A1=$(v6 a1); A2=$(v6 a2); A14=$(v4 a1); B1=$(v6 b1); I1=$(v6 i1); N1=$(v6 n1); N2=$(v6 n2); D1=$(v6 d1); D2=$(v6 d2); A3=$(v6 a3)
ip netns exec nsx6p /bin/busybox httpd -f -p 90 -h ${IPV6X:-/tmp/ipv6x}/www & PEERPID=$!; sleep 0.5
echo "-- host (netns nsx6) dials"
hdial nsx6 ::1 8080
hdial nsx6 127.0.0.1 8080
hdial nsx6 fd12:3456:ee::2 8080
hdial nsx6 ::1 8081
hdial nsx6 fd12:3456:ee::2 8081
hdial nsx6 $A1 80
hdial nsx6 $A1 81
hdial nsx6 $I1 80
hdial nsx6 ::1 8083
echo "-- LAN peer (routed to the container subnets via the host) dials"
hdial nsx6p fd12:3456:ee::2 8080
hdial nsx6p fd12:3456:ee::2 8081
hdial nsx6p fd12:3456:ee::2 8090
hdial nsx6p $A1 80
hdial nsx6p $A1 81
hdial nsx6p $A2 80
hdial nsx6p $A3 80
hdial nsx6p $D1 80
hdial nsx6p $D2 80
hdial nsx6p $I1 80
hdial nsx6p $A14 80
hdial nsx6p $A14 81
echo "-- container dials"
cdial a1 $A2 80
cdial a1 $B1 80
cdial b1 $A1 80
cdial d1 $A1 80
cdial a1 $D2 80
cdial i1 $A1 80
cdial a1 $I1 80
cdial n1 $N2 80
cdial n2 $N1 80
cdial b1 fd12:3456:1::1 8080
cdial i1 fd12:3456:8::1 8083
cdial a1 fd12:3456:ee::3 90
cdial d1 fd12:3456:ee::3 90
cdial i1 fd12:3456:ee::3 90
cdial a1 10.250.0.3 90
run ip netns exec nsx6 ip6tables -L -v -n
kill $PEERPID
echo "== cleanup C2"
cleanup; run $D network ls
fwd
run ip netns exec nsx6 ip6tables -S
run ip netns exec nsx6 ip6tables -t nat -S
stopd
run ip netns exec nsx6 ip6tables -S
run ip netns exec nsx6 ip6tables -t nat -S
fwd
