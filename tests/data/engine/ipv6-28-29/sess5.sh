# Session 5: daemon-level settings that are refused or change IPv6 (icc=false with ip6tables=false; ip6tables without ipv6 networks).
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S5 $V $(date -u)"
setup_ns
startd '"ipv6": true, "ip6tables": false, "icc": false'
tail -2 $X/dockerd-$V.log | cut -c1-400
stopd
startd '"ip6tables": false, "icc": false'
echo "-- ipv6 off for the default bridge, ip6tables off, icc off: a user-defined --ipv6 network with icc off"
run $D network create $L --ipv6 --subnet fd12:3456:9::/64 x6a
run $D network create $L --ipv6 --subnet fd12:3456:8::/64 -o com.docker.network.bridge.enable_icc=false x6noicc
cleanup
stopd
startd '"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/64"'
run $D network inspect bridge --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
ctr d1
ctr d2
addrs d1 d2
cleanup
stopd
teardown_ns
