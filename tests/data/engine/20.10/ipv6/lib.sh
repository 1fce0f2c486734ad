L="--label netsim.explore=1"
IMG=netsim-probe:1
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }
# start a probe container: name, then docker run args
ctr() { n=$1; shift; run docker run -d $L --dns 127.0.0.1 --name $n -e NAME=$n -v ${IPV6X:-/tmp/ipv6x}/www:/w:ro "$@" $IMG sh -c 'httpd -p 80 -h /w; exec nc -ll -p 81 -e ident' >/dev/null; }
safe() { # refuse any address routed out of eth0
  r=$(ip -6 route get "$1" 2>&1 || ip route get "$1" 2>&1); echo "  route: $r" | head -1
  case "$r" in *"dev eth0"*|*"unreachable"*) echo "  REFUSED to dial $1 (eth0/unreachable)"; return 1;; esac; return 0; }
# host dial: http to cgi (shows who answered and which source it saw)
hdial() { a=$1; p=${2:-80}; h=$a; case $a in *:*) h="[$a]";; esac
  safe "$a" || return; echo "\$ curl -s -m 3 http://$h:$p/cgi-bin/i"; curl -s -m 3 -g "http://$h:$p/cgi-bin/i"; echo "[rc=$?]"; }
# container dial: from container c to address a port p
cdial() { c=$1; a=$2; p=${3:-80}; safe "$a" || return
  echo "\$ docker exec $c sh -c 'printf \"GET /cgi-bin/i HTTP/1.0\\r\\n\\r\\n\" | nc -w 2 $a $p | tail -1'"
  timeout 6 docker exec $c sh -c "printf 'GET /cgi-bin/i HTTP/1.0\r\n\r\n' | nc -w 2 $a $p 2>&1 | tail -1"; echo "[rc=$?]"; }
fwd() { sysctl net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding net.ipv6.conf.eth0.forwarding; }
cleanup() { docker ps -aq --filter label=netsim.explore=1 | xargs -r docker rm -f >/dev/null; docker network ls -q --filter label=netsim.explore=1 | xargs -r docker network rm >/dev/null; }
