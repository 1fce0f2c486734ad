#!/bin/sh
# Builds netsim-exp-probe:latest from the host's static busybox (+ optional static idsrv helper).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(mktemp -d)
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/www"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
# identity script for busybox nc -e (TCP): prints $NAME (falls back to hostname)
printf '#!/bin/sh\necho "${NAME:-$(hostname)}"\n' > "$R/bin/ident"; chmod +x "$R/bin/ident"
if command -v gcc >/dev/null; then gcc -O2 -static -o "$R/bin/idsrv" "$HERE/idsrv.c" 2>/dev/null; fi
echo 'root:x:0:0:root:/:/bin/sh' > "$R/etc/passwd"; echo 'root:x:0:' > "$R/etc/group"
tar -C "$R" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - netsim-exp-probe:latest
rm -rf "$R"
