/* idsrv: tiny static identity server/probe for netsim engine experiments.
 *   idsrv serve tcp|udp PORT NAME   -> answers every TCP connection / UDP datagram
 *                                      with "NAME saw SRCIP:SRCPORT\n" (forks per TCP conn)
 *   idsrv probe tcp|udp IP PORT [TIMEOUT_MS]
 *                                   -> prints the answer, or "TIMEOUT"/"REFUSED"/"ERR <msg>"
 *   exit 0 only if an answer was received.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int serve(int udp, int port, const char *name) {
  int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = INADDR_ANY;
  if (bind(s, (void*)&a, sizeof a) < 0) { perror("bind"); return 1; }
  signal(SIGCHLD, SIG_IGN);
  char buf[512], out[600];
  if (udp) {
    for (;;) {
      struct sockaddr_in p; socklen_t pl = sizeof p;
      if (recvfrom(s, buf, sizeof buf, 0, (void*)&p, &pl) < 0) continue;
      int n = snprintf(out, sizeof out, "%s saw %s:%d\n", name, inet_ntoa(p.sin_addr), ntohs(p.sin_port));
      sendto(s, out, n, 0, (void*)&p, pl);
    }
  }
  listen(s, 64);
  for (;;) {
    struct sockaddr_in p; socklen_t pl = sizeof p;
    int c = accept(s, (void*)&p, &pl); if (c < 0) continue;
    int n = snprintf(out, sizeof out, "%s saw %s:%d\n", name, inet_ntoa(p.sin_addr), ntohs(p.sin_port));
    (void)write(c, out, n); close(c);
  }
}

static int probe(int udp, const char *ip, int port, int ms) {
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port);
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) { printf("ERR bad ip\n"); return 2; }
  int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  fcntl(s, F_SETFL, O_NONBLOCK);
  int r = connect(s, (void*)&a, sizeof a);
  if (r < 0 && errno != EINPROGRESS) { printf("ERR %s\n", strerror(errno)); return 1; }
  struct pollfd pf = { s, POLLOUT, 0 };
  if (!udp) {
    r = poll(&pf, 1, ms);
    if (r == 0) { printf("TIMEOUT\n"); return 1; }
    int e = 0; socklen_t el = sizeof e; getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el);
    if (e == ECONNREFUSED) { printf("REFUSED\n"); return 1; }
    if (e) { printf("ERR %s\n", strerror(e)); return 1; }
  } else {
    if (send(s, "ping\n", 5, 0) < 0) { printf("ERR %s\n", strerror(errno)); return 1; }
  }
  pf.events = POLLIN;
  r = poll(&pf, 1, ms);
  if (r == 0) { printf("TIMEOUT\n"); return 1; }
  char buf[600]; int n = recv(s, buf, sizeof buf - 1, 0);
  if (n < 0) { printf(errno == ECONNREFUSED ? "REFUSED\n" : "ERR %s\n", strerror(errno)); return 1; }
  buf[n] = 0; fputs(buf, stdout); if (n == 0) printf("EMPTY\n");
  return n > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 5 && !strcmp(argv[1], "serve")) return serve(!strcmp(argv[2], "udp"), atoi(argv[3]), argv[4]);
  if (argc >= 5 && !strcmp(argv[1], "probe")) return probe(!strcmp(argv[2], "udp"), argv[3], atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 1000);
  fprintf(stderr, "usage: idsrv serve tcp|udp PORT NAME | idsrv probe tcp|udp IP PORT [TIMEOUT_MS]\n");
  return 2;
}
