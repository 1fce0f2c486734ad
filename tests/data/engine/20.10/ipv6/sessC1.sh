. ${IPV6X:-/tmp/ipv6x}/lib2.sh
echo "== C1 $(date -u)"; fwd
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/64"}'
fwd
$D load -i ${IPV6X:-/tmp/ipv6x}/probe.tar | tail -1
run $D network inspect bridge --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}} {{json .Options}}'
run ip -n nsx6 -6 addr show dev docker0
run ip -n nsx6 -6 route
ctr d1
ctr d2
ctr d3 --mac-address 02:42:ac:11:00:99
ctr d4 --ip6 fd12:3456:ff::10
ctr d5 -p 8090:80
addrs d1 d2 d3 d4 d5
run $D exec d1 ip -6 addr show dev eth0
run $D exec d1 ip -6 route
run ip netns exec nsx6 ip6tables -S
run ip netns exec nsx6 ip6tables -t nat -S
ps -eo args | grep '[d]ocker-proxy.*8090'
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
run $D network create $L --ipv6 --subnet fd12:3456::/32 x6over32
run $D network create $L --ipv6 --subnet fd12:3456:5::/127 x6s127
ctr a1 --network x6a -p 8080:80
ctr abad --network x6a --ip6 fd12:3456:77::5
ctr s2 --network x6s127
ctr dfl --network x6a --ip6 fd12:3456:1::/64
addrs a1 s2
D1=$(v6 d1); D5=$(v6 d5); A1=$(v6 a1); A14=$(v4 a1); D14=$(v4 d1)
echo "-- peer httpd"
ip netns exec nsx6p /bin/busybox httpd -f -p 90 -h ${IPV6X:-/tmp/ipv6x}/www & PEERPID=$!; sleep 0.5
echo "-- dials, ip6tables off"
hdial nsx6 ::1 8090
hdial nsx6 fd12:3456:ee::2 8090
hdial nsx6 $D5 80
hdial nsx6p fd12:3456:ee::2 8090
hdial nsx6p fd12:3456:ee::2 8080
hdial nsx6p $D1 80
hdial nsx6p $D1 81
hdial nsx6p $A1 80
hdial nsx6p $A1 81
hdial nsx6p $A14 80
hdial nsx6p $A14 81
hdial nsx6p $D14 80
cdial d1 $A1 80
cdial a1 $D1 80
cdial a1 fd12:3456:ee::3 90
cdial d1 fd12:3456:ee::3 90
cdial a1 10.250.0.3 90
kill $PEERPID
echo "== cleanup C1"
cleanup; run $D network ls
fwd
stopd
fwd
run ip netns exec nsx6 ip6tables -S
run ip -n nsx6 -6 addr show dev docker0
echo "== C1x: ip6tables without experimental"
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/64", "ip6tables": true}'
sleep 2; tail -3 ${IPV6X:-/tmp/ipv6x}/dockerd-nsx6.log
pgrep -f 'dockerd --config-file /run/nsx6/daemon.json' || echo "no nsx6 dockerd running"
