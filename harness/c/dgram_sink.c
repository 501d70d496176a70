/*
 * A plain datagram sink: binds --bind (usually @abstract), optionally
 * registers it by sending its own path to --register (a control socket that
 * answers {"ok":true...}), then counts what arrives.
 */
#include "bench.h"
#include "dgram.h"
#include <sys/time.h>

int main(int argc, char **argv) {
  sink_t s;
  sink_init(&s, argc, argv);
  const char *name = arg(argc, argv, "bind", NULL);
  const char *control = arg(argc, argv, "register", "");
  int fd = dgram_socket();
  struct sockaddr_un a;
  socklen_t len = unix_addr(name, &a);
  if (bind(fd, (struct sockaddr *)&a, len) < 0) die(name);
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct timeval tv = { 5, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static uint8_t buf[65536];
  if (*control) {
    struct sockaddr_un c;
    socklen_t clen = unix_addr(control, &c);
    if (sendto(fd, name, strlen(name), 0, (struct sockaddr *)&c, clen) < 0) die(control);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) die("no reply from the control socket");
    buf[n] = 0;
    if (!strstr((char *)buf, "\"ok\":true")) fail("registration refused", (char *)buf);
  }
  tv.tv_sec = 0;
  tv.tv_usec = TICK_MS * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sink_ready(&s);
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) die("recv");
      if (sink_tick(&s)) break;
    } else if (sink_message(&s, buf, (size_t)n)) break;
  }
  sink_done();
  return 0;
}
