L="--label netsim.explore=1"
IMG=netsim-probe:1
D="docker -H unix:///run/nsx6/docker.sock"
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }
ctr() { n=$1; shift; echo "\$ docker run -d --name $n $*"; $D run -d $L --dns 127.0.0.1 --name $n -e NAME=$n -v ${IPV6X:-/tmp/ipv6x}/www:/w:ro "$@" $IMG sh -c 'httpd -p 80 -h /w; exec nc -ll -p 81 -e ident' 2>&1 | grep -v "^Run 'docker run --help'" | cut -c1-400; }
hdial() { ns=$1; a=$2; p=${3:-80}; h=$a; case $a in *:*) h="[$a]";; esac
  echo "\$ ($ns) curl -s -m 3 http://$h:$p/cgi-bin/i"; ip netns exec $ns curl -s -m 3 --http0.9 -g "http://$h:$p/cgi-bin/i"; echo "[rc=$?]"; }
cdial() { c=$1; a=$2; p=${3:-80}
  echo "\$ docker exec $c: GET http://[$a]:$p/cgi-bin/i via nc -w 2"
  timeout 6 $D exec $c sh -c "printf 'GET /cgi-bin/i HTTP/1.0\r\n\r\n' | nc -w 2 $a $p 2>&1 | tail -1"; echo "[rc=$?]"; }
fwd() { ip netns exec nsx6 sysctl net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding net.ipv6.conf.lan0.forwarding net.ipv4.ip_forward; }
v6() { $D inspect $1 --format "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}"; }
v4() { $D inspect $1 --format "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"; }
addrs() { for c in "$@"; do $D inspect $c --format "$c {{range \$k,\$v := .NetworkSettings.Networks}}{{\$k}} v4={{\$v.IPAddress}} v6={{\$v.GlobalIPv6Address}}/{{\$v.GlobalIPv6PrefixLen}} gw6={{\$v.IPv6Gateway}} mac={{\$v.MacAddress}} {{end}}" 2>&1; done; }
startd() { cfg=$1; echo "== start dockerd in netns nsx6 with daemon.json: $cfg"; echo "$cfg" > /run/nsx6/daemon.json
  (setsid nsenter --net=/run/netns/nsx6 dockerd --config-file /run/nsx6/daemon.json --data-root /var/lib/nsx6 --exec-root /run/nsx6/x --pidfile /run/nsx6/docker.pid -H unix:///run/nsx6/docker.sock --containerd-namespace nsx6 --containerd-plugins-namespace nsx6-plugins --cgroup-parent /nsx6 --dns 127.0.0.1 >> ${IPV6X:-/tmp/ipv6x}/dockerd-nsx6.log 2>&1 < /dev/null &)
  for i in $(seq 1 60); do $D version >/dev/null 2>&1 && break; sleep 0.5; done; $D version --format 'server {{.Server.Version}}' 2>&1 | tail -1; }
stopd() { p=$(cat /run/nsx6/docker.pid 2>/dev/null); [ -n "$p" ] && kill $p; for i in $(seq 1 60); do [ -e /proc/$p ] || break; sleep 0.5; done; echo "dockerd $p stopped"; }
cleanup() { $D ps -aq | xargs -r $D rm -f >/dev/null; $D network ls -q --filter label=netsim.explore=1 | xargs -r $D network rm >/dev/null; }
