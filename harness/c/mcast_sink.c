/* UDP multicast sink: joins --group on --port with a large receive buffer, and counts what arrives. */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

int main(int argc, char **argv) {
  sink_t s;
  sink_init(&s, argc, argv);
  int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, rcvbuf = 8 << 20;
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg(argc, argv, "port", NULL))) };
  struct ip_mreq join = { .imr_interface.s_addr = htonl(INADDR_ANY) };
  if (inet_pton(AF_INET, arg(argc, argv, "group", NULL), &join.imr_multiaddr) != 1) fail("bad --group", NULL);
  a.sin_addr = join.imr_multiaddr;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) < 0) die("IP_ADD_MEMBERSHIP");
  struct timeval tv = { 0, TICK_MS * 1000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sink_ready(&s);
  static uint8_t buf[65536];
  for (int done = 0; !done;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) die("recv");
      done = sink_tick(&s);
    } else done = sink_message(&s, buf, (size_t)n);
  }
  sink_done();
  return 0;
}
