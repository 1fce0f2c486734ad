/* nsagent: netsim's probe-container helper (static, no libc name service).
 *
 *   nsagent serve NAME SPEC...     SPEC = tcp:PORT | udp:PORT | dnsstub.  One process, poll
 *                                  loop: every TCP connection / UDP datagram is answered with
 *                                  "NAME saw SRCIP:SRCPORT\n" ("[SRCIP6]:PORT" over IPv6).  Each
 *                                  port is bound on 0.0.0.0 and on :: (IPv6 only, when the
 *                                  namespace has IPv6).  Without SPEC it just waits.
 *                                  dnsstub: 127.0.0.1:53/udp answers every DNS query NXDOMAIN
 *                                  (the upstream Docker's embedded DNS forwards unknown names
 *                                  to, since netsim sets --dns 127.0.0.1: they fail at once
 *                                  instead of timing out, and never leave the namespace).
 *   nsagent probe TIMEOUT_MS       reads lines "ID tcp|udp IP PORT" on stdin (IP: IPv4 or IPv6), dials them all
 *                                  concurrently and prints one line per probe:
 *                                  "ID OK <answer>" | "ID REFUSED" | "ID TIMEOUT" |
 *                                  "ID EMPTY" (connected, nothing said) | "ID ERR <text>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAXP 4096

static long now_ms(void) {
  struct timeval tv; gettimeofday(&tv, 0);
  return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

/* "ADDR:PORT", an IPv6 address in brackets */
static void peer_text(const struct sockaddr_storage *p, char *out, size_t len) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (p->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const void *)p;
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    snprintf(out, len, "[%s]:%d", ip, ntohs(a->sin6_port));
  } else {
    const struct sockaddr_in *a = (const void *)p;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, len, "%s:%d", ip, ntohs(a->sin_port));
  }
}

/* a socket bound to PORT on every address of one family; -1 when it can't be (no IPv6 here) */
static int bound(int family, int is_udp, int port) {
  int one = 1, s = socket(family, is_udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (s < 0) return -1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int r;
  if (family == AF_INET6) {
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6; a.sin6_port = htons(port); a.sin6_addr = in6addr_any;
    r = bind(s, (void *)&a, sizeof a);
  } else {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = INADDR_ANY;
    r = bind(s, (void *)&a, sizeof a);
  }
  if (r < 0 || (!is_udp && listen(s, 128) < 0)) { close(s); return -1; }
  return s;
}

static int serve(const char *name, int n, char **specs) {
  struct pollfd pf[512]; int udp[512], count = 0, one = 1;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN);  /* as PID 1, reap orphans left by docker exec */
  int stub[512] = {0};
  for (int i = 0; i < n && count < 510; i++) {
    if (!strcmp(specs[i], "dnsstub")) {
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      struct sockaddr_in a = {0};
      a.sin_family = AF_INET; a.sin_port = htons(53); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(s, (void *)&a, sizeof a) < 0) { fprintf(stderr, "nsagent: bind dnsstub: %s\n", strerror(errno)); close(s); continue; }
      pf[count].fd = s; pf[count].events = POLLIN; stub[count] = 1; udp[count++] = 1;
      continue;
    }
    int is_udp = !strncmp(specs[i], "udp:", 4);
    int port = atoi(strchr(specs[i], ':') ? strchr(specs[i], ':') + 1 : specs[i]);
    int s = bound(AF_INET, is_udp, port);
    if (s < 0) { fprintf(stderr, "nsagent: bind %s: %s\n", specs[i], strerror(errno)); continue; }
    pf[count].fd = s; pf[count].events = POLLIN; udp[count++] = is_udp;
    int s6 = bound(AF_INET6, is_udp, port);  /* no IPv6 in the namespace: IPv4 only */
    if (s6 >= 0) { pf[count].fd = s6; pf[count].events = POLLIN; udp[count++] = is_udp; }
  }
  if (count == 0) for (;;) pause();
  char buf[512], out[600], who[80];
  for (;;) {
    if (poll(pf, count, -1) < 0) continue;
    for (int i = 0; i < count; i++) {
      if (!(pf[i].revents & POLLIN)) continue;
      struct sockaddr_storage p; socklen_t pl = sizeof p;
      if (stub[i]) {
        int r = recvfrom(pf[i].fd, buf, sizeof buf, MSG_DONTWAIT, (void *)&p, &pl);
        if (r < 12) continue;
        buf[2] = (char)(0x80 | (buf[2] & 0x79));  /* QR=1, keep opcode and RD */
        buf[3] = (char)(0x80 | 3);                /* RA=1, RCODE=NXDOMAIN */
        memset(buf + 6, 0, 6);                    /* no answer/authority/additional */
        sendto(pf[i].fd, buf, r, MSG_DONTWAIT, (void *)&p, pl);
        continue;
      }
      if (udp[i]) {
        if (recvfrom(pf[i].fd, buf, sizeof buf, MSG_DONTWAIT, (void *)&p, &pl) < 0) continue;
        peer_text(&p, who, sizeof who);
        int m = snprintf(out, sizeof out, "%s saw %s\n", name, who);
        sendto(pf[i].fd, out, m, MSG_DONTWAIT, (void *)&p, pl);
      } else {
        int c = accept(pf[i].fd, (void *)&p, &pl);
        if (c < 0) continue;
        peer_text(&p, who, sizeof who);
        int m = snprintf(out, sizeof out, "%s saw %s\n", name, who);
        (void)!write(c, out, m);
        close(c);
      }
    }
  }
  return 0;
}

struct pr { char id[64]; int udp, fd, state; long t0; };  /* state 0 connecting, 1 reading, 2 done */

static void finish(struct pr *p, const char *status, const char *detail) {
  printf("%s %s%s%s\n", p->id, status, detail ? " " : "", detail ? detail : "");
  if (p->fd >= 0) close(p->fd);
  p->fd = -1; p->state = 2;
}

static int probe(int timeout_ms) {
  static struct pr ps[MAXP]; static struct pollfd pf[MAXP]; static int idx[MAXP];
  int n = 0; char line[512];
  signal(SIGPIPE, SIG_IGN);
  while (n < MAXP && fgets(line, sizeof line, stdin)) {
    char id[64], proto[8], ip[64]; int port; struct sockaddr_storage a = {0}; socklen_t al;
    if (sscanf(line, "%63s %7s %63s %d", id, proto, ip, &port) != 4) continue;
    struct pr *p = &ps[n++];
    snprintf(p->id, sizeof p->id, "%s", id);
    p->udp = !strcmp(proto, "udp"); p->fd = -1; p->state = 0; p->t0 = now_ms();
    if (strchr(ip, ':')) {
      struct sockaddr_in6 *a6 = (void *)&a; al = sizeof *a6;
      a6->sin6_family = AF_INET6; a6->sin6_port = htons(port);
      if (inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1) { finish(p, "ERR", "bad-address"); continue; }
    } else {
      struct sockaddr_in *a4 = (void *)&a; al = sizeof *a4;
      a4->sin_family = AF_INET; a4->sin_port = htons(port);
      if (inet_pton(AF_INET, ip, &a4->sin_addr) != 1) { finish(p, "ERR", "bad-address"); continue; }
    }
    p->fd = socket(a.ss_family, p->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (p->fd < 0) { finish(p, "ERR", strerror(errno)); continue; }
    fcntl(p->fd, F_SETFL, O_NONBLOCK);
    int r = connect(p->fd, (void *)&a, al);
    if (r < 0 && errno != EINPROGRESS) { finish(p, errno == ECONNREFUSED ? "REFUSED" : "ERR", errno == ECONNREFUSED ? 0 : strerror(errno)); continue; }
    if (p->udp) {
      if (send(p->fd, "netsim\n", 7, 0) < 0) { finish(p, errno == ECONNREFUSED ? "REFUSED" : "ERR", errno == ECONNREFUSED ? 0 : strerror(errno)); continue; }
      p->state = 1;
    } else if (r == 0) p->state = 1;
  }
  fflush(stdout);
  for (;;) {
    int m = 0; long t = now_ms();
    for (int i = 0; i < n; i++) {
      struct pr *p = &ps[i];
      if (p->state == 2) continue;
      if (t - p->t0 >= timeout_ms) { finish(p, "TIMEOUT", 0); continue; }
      pf[m].fd = p->fd; pf[m].events = p->state == 0 ? POLLOUT : POLLIN; pf[m].revents = 0; idx[m++] = i;
    }
    if (m == 0) break;
    poll(pf, m, 50);
    for (int k = 0; k < m; k++) {
      struct pr *p = &ps[idx[k]];
      if (!pf[k].revents) continue;
      if (p->state == 0) {
        int e = 0; socklen_t el = sizeof e;
        getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e == ECONNREFUSED) finish(p, "REFUSED", 0);
        else if (e) finish(p, "ERR", strerror(e));
        else p->state = 1;
        continue;
      }
      char buf[600];
      int r = recv(p->fd, buf, sizeof buf - 1, 0);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (r < 0) { finish(p, errno == ECONNREFUSED ? "REFUSED" : "ERR", errno == ECONNREFUSED ? 0 : strerror(errno)); continue; }
      if (r == 0) { finish(p, "EMPTY", 0); continue; }
      buf[r] = 0;
      char *nl = strchr(buf, '\n'); if (nl) *nl = 0;
      finish(p, "OK", buf);
    }
    fflush(stdout);
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "serve")) return serve(argv[2], argc - 3, argv + 3);
  if (argc >= 2 && !strcmp(argv[1], "probe")) return probe(argc > 2 ? atoi(argv[2]) : 1000);
  fprintf(stderr, "usage: nsagent serve NAME [tcp:PORT|udp:PORT]... | nsagent probe [TIMEOUT_MS] < probes\n");
  return 2;
}
