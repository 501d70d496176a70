/* UDP multicast publisher: one sendto per message to --group:--port (inside a private network namespace). */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct { int fd; struct sockaddr_in to; } pub_t;

static void publish(void *ctx, const uint8_t *msg, size_t len) {
  pub_t *p = ctx;
  while (sendto(p->fd, msg, len, 0, (struct sockaddr *)&p->to, sizeof p->to) < 0)
    if (errno != EINTR && errno != ENOBUFS) die("sendto");
}

int main(int argc, char **argv) {
  pub_t p = { socket(AF_INET, SOCK_DGRAM, 0), { .sin_family = AF_INET } };
  if (p.fd < 0) die("socket");
  p.to.sin_port = htons((uint16_t)atoi(arg(argc, argv, "port", NULL)));
  if (inet_pton(AF_INET, arg(argc, argv, "group", NULL), &p.to.sin_addr) != 1) fail("bad --group", NULL);
  int sndbuf = 4 << 20;
  setsockopt(p.fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  publish_phases(argc, argv, &p, publish, NULL);
  return 0;
}
