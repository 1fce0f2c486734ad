# Helpers for the IPv6 experiments on dockerd 28.5.2 / 29.7.2 built from source (docs/confirmed-rules.md §18l–18x).
# Usage: V=29.7.2 . lib.sh ; each session script: setup_ns; startd '<extra daemon.json keys>'; ...; stopd; teardown_ns
# A daemon in namespace nsv6 (no uplink, no default route): lan0 10.250.0.2/24, fd12:3456:ee::2/64 <-veth->
# peer namespace nsv6p: lanp0 10.250.0.3/24, fd12:3456:ee::3/64, routes to 172.16/12, 192.168/16, 10/8, fd00::/8,
# 2001:db8::/32 via the host. Neither namespace has a default route.
V=${V:?set V=28.5.2 or 29.7.2}
E=${ENGINES:-/work/engines}
X=${V6X:-/tmp/v6x}
NS=nsv6; NP=nsv6p; H4=10.250.0.2; H6=fd12:3456:ee::2; P4=10.250.0.3; P6=fd12:3456:ee::3
L="--label netsim.explore=1"
IMG=netsim-probe:1
D="docker -H unix:///run/nsv6/docker.sock"
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }
setup_ns() {
  ip netns add $NS; ip netns add $NP
  ip -n $NS link set lo up; ip -n $NP link set lo up
  ip -n $NS link add lan0 type veth peer name lanp0 netns $NP
  ip -n $NS addr add $H4/24 dev lan0; ip -n $NS addr add $H6/64 dev lan0 nodad
  ip -n $NP addr add $P4/24 dev lanp0; ip -n $NP addr add $P6/64 dev lanp0 nodad
  ip -n $NS link set lan0 up; ip -n $NP link set lanp0 up
  for r in 172.16.0.0/12 192.168.0.0/16 10.0.0.0/8; do ip -n $NP route add $r via $H4; done
  for r in fd00::/8 2001:db8::/32; do ip -n $NP -6 route add $r via $H6; done
  ip netns exec $NS sysctl -qw net.ipv4.ip_forward=0
  mkdir -p /run/nsv6 /var/lib/nsv6
  echo "== namespaces: $NS (lan0 $H4 $H6), $NP (lanp0 $P4 $P6); default routes:"; ip -n $NS route show default; ip -n $NS -6 route show default; ip -n $NP -6 route show default
}
teardown_ns() { ip netns del $NP 2>/dev/null; ip netns del $NS 2>/dev/null; echo "== namespaces removed"; }
fwd() { ip netns exec $NS sysctl net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding net.ipv6.conf.lan0.forwarding net.ipv4.ip_forward net.ipv6.conf.lan0.accept_ra; }
startd() { extra=$1
  cfg="{\"features\": {\"containerd-snapshotter\": false}, \"default-runtime\": \"runc151\", \"runtimes\": {\"runc151\": {\"path\": \"$E/runc/runc\"}}, \"userland-proxy-path\": \"$E/$V/docker-proxy\"${extra:+, $extra}}"
  mkdir -p /run/nsv6 /var/lib/nsv6; echo "== start dockerd $V in netns $NS with daemon.json: $cfg"; echo "$cfg" > /run/nsv6/daemon.json
  (setsid nsenter --net=/run/netns/$NS $E/$V/dockerd --config-file /run/nsv6/daemon.json --data-root /var/lib/nsv6 --exec-root /run/nsv6/x --pidfile /run/nsv6/docker.pid -H unix:///run/nsv6/docker.sock --containerd-namespace nsv6 --containerd-plugins-namespace nsv6-plugins --cgroup-parent /nsv6 --dns 127.0.0.1 >> $X/dockerd-$V.log 2>&1 < /dev/null &)
  for i in $(seq 1 80); do $D version >/dev/null 2>&1 && break; sleep 0.5; done
  $D version --format 'server {{.Server.Version}} api {{.Server.APIVersion}}' 2>&1 | tail -1
  $D import $X/probe-rootfs.tar $IMG >/dev/null 2>&1; $D image ls --format "image {{.Repository}}:{{.Tag}}" ; }
stopd() { p=$(cat /run/nsv6/docker.pid 2>/dev/null); [ -n "$p" ] && kill $p; for i in $(seq 1 60); do [ -e /proc/$p ] || break; sleep 0.5; done; echo "dockerd $p stopped"
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E '^/(var/lib|run)/nsv6' | sort -r); do umount -l $m; done
  rm -rf /var/lib/nsv6 /run/nsv6
  for c in /sys/fs/cgroup/nsv6 /sys/fs/cgroup/*/nsv6; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done; true; }
ctr() { n=$1; shift; echo "\$ docker run -d --name $n $*"; $D run -d $L --dns 127.0.0.1 --name $n -e NAME=$n -v $X/www:/w:ro "$@" $IMG sh -c 'httpd -p 80 -h /w; exec nc -ll -p 81 -e ident' 2>&1 | grep -v "^Run 'docker run --help'" | cut -c1-300 | grep -v '^[0-9a-f]\{64\}$'; }
# refuse anything the namespace would route elsewhere than our veths / bridges / lo
safe() { ns=$1; a=$2; r=$(ip -n $ns route get "$a" 2>&1); case $a in *:*) r=$(ip -n $ns -6 route get "$a" 2>&1);; esac
  case "$r" in *" dev lan0 "*|*" dev lanp0 "*|*" dev lo "*|*" dev docker0 "*|*" dev br-"*|"local "*) return 0;; esac
  echo "  REFUSED to dial $a from $ns: $r"; return 1; }
hdial() { ns=$1; a=$2; p=${3:-80}; h=$a; case $a in *:*) h="[$a]";; esac; safe $ns $a || return
  echo "\$ ($ns) curl http://$h:$p/cgi-bin/i"; ip netns exec $ns curl -s -m 3 --http0.9 -g "http://$h:$p/cgi-bin/i" 2>&1; echo "[rc=$?]"; }
cdial() { c=$1; a=$2; p=${3:-80}
  echo "\$ ($c) nc $a $p GET /cgi-bin/i"
  timeout 6 $D exec $c sh -c "printf 'GET /cgi-bin/i HTTP/1.0\r\n\r\n' | nc -w 2 $a $p 2>&1 | tail -1"; echo "[rc=$?]"; }
v6() { $D inspect $1 --format "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}"; }
v4() { $D inspect $1 --format "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"; }
addrs() { for c in "$@"; do $D inspect $c --format "$c {{range \$k,\$v := .NetworkSettings.Networks}}{{\$k}} v4={{\$v.IPAddress}} v6={{\$v.GlobalIPv6Address}}/{{\$v.GlobalIPv6PrefixLen}} gw6={{\$v.IPv6Gateway}} mac={{\$v.MacAddress}} {{end}}" 2>&1; done; }
tables() { for t in filter nat raw; do run ip netns exec $NS ip6tables -t $t -S; done; }
proxies() { echo "-- docker-proxy processes"; ps -eo args | grep "[d]ocker-proxy" | sed "s|$E/||" | sort; }
cleanup() { $D ps -aq | xargs -r $D rm -f >/dev/null; $D network ls -q --filter label=netsim.explore=1 | xargs -r $D network rm >/dev/null; }
peerhttpd() { ip netns exec $NP /bin/busybox httpd -f -p 90 -h $X/www & PEERPID=$!; sleep 0.5; }
ula() { id=$(cat /var/lib/nsv6/engine-id); echo "engine-id $id"; python3 -c "
import hashlib,sys,ipaddress
s=hashlib.sha256(sys.argv[1].encode()).digest(); g=int.from_bytes(s[:8],'big')&((1<<40)-1)
print('expected ULA base (deriveULABaseNetwork):', ipaddress.IPv6Network((int(ipaddress.IPv6Address('fd00::'))+(g<<80),48)))" "$id"; }
