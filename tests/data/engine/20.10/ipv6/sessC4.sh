. ${IPV6X:-/tmp/ipv6x}/lib2.sh
echo "== C4 again $(date -u): docker0 in the namespace deleted first"
run ip -n nsx6 -6 addr show dev docker0
ip -n nsx6 link del docker0
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/120"}'
ctr d1
ctr d2
ctr d3 
addrs d1 d2 d3
run $D network inspect bridge --format '{{json .IPAM.Config}}'
cleanup; stopd
