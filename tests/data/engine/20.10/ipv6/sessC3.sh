. ${IPV6X:-/tmp/ipv6x}/lib2.sh
S=/run/nsx6/docker.sock
echo "== C3 $(date -u)"
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/64"}'
echo "-- raw API (v1.41) create with Config.MacAddress on the default bridge"
run curl -s --unix-socket $S -H 'Content-Type: application/json' -X POST 'http://x/v1.41/containers/create?name=d3' -d '{"Image":"netsim-probe:1","Cmd":["sleep","300"],"MacAddress":"02:42:ac:11:00:99","Labels":{"netsim.explore":"1"},"HostConfig":{"Dns":["127.0.0.1"]}}'
run $D start d3
ctr d1
addrs d3 d1
run $D exec d3 ip -6 addr show dev eth0
cleanup; stopd
echo "== C4: fixed-cidr-v6 /120 (more than 80 prefix bits: no MAC derivation)"
startd '{"ipv6": true, "fixed-cidr-v6": "fd12:3456:ff::/120"}'
ctr d1
ctr d2
addrs d1 d2
run $D network inspect bridge --format '{{json .IPAM.Config}}'
cleanup; stopd
echo "== C5: ipv6 without fixed-cidr-v6"
startd '{"ipv6": true}'
sleep 1; grep -i 'fixed-cidr-v6\|failed to start' ${IPV6X:-/tmp/ipv6x}/dockerd-nsx6.log | tail -2
pgrep -f 'dockerd --config-file /run/nsx6/daemon.json' || echo "no nsx6 dockerd running"
echo "== C6: fixed-cidr-v6 with ipv6 false"
startd '{"fixed-cidr-v6": "fd12:3456:ff::/64"}'
ctr d1
addrs d1
run $D network inspect bridge --format '{{json .IPAM.Config}} ipv6={{.EnableIPv6}}'
cleanup; stopd
