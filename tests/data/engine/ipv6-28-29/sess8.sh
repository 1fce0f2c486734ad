# Session 8: "allow-direct-routing": true over IPv6.
. ${V6X:-/tmp/v6x}/lib.sh
echo "== S8 $V $(date -u)"
setup_ns
startd '"allow-direct-routing": true'
run $D network create $L --ipv6 --subnet fd12:3456:1::/64 x6a
ctr a1 --network x6a -p 8080:80
ctr a2 --network x6a -p [::1]:8081:80
ctr a3 --network x6a
addrs a1 a2 a3
tables
sleep 1
hdial $NP fd12:3456:1::2 80
hdial $NP fd12:3456:1::2 81
hdial $NP fd12:3456:1::3 80
hdial $NP fd12:3456:1::4 80
cleanup
stopd
teardown_ns
