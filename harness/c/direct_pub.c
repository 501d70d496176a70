/* No broker: the publisher sends every message to every sink's socket itself (blocking sends, so nothing is lost). */
#include "bench.h"
#include "dgram.h"

typedef struct { int fds[256]; int n; } sinks_t;

static void send_all(void *ctx, const uint8_t *msg, size_t len) {
  sinks_t *s = ctx;
  for (int i = 0; i < s->n; i++)
    while (send(s->fds[i], msg, len, 0) < 0) if (errno != EINTR) die("send");
}

int main(int argc, char **argv) {
  sinks_t s = { .n = 0 };
  char *list = strdup(arg(argc, argv, "to", NULL));
  for (char *name = strtok(list, ","); name && s.n < 256; name = strtok(NULL, ",")) {
    s.fds[s.n] = dgram_socket();
    dgram_connect(s.fds[s.n++], name);
  }
  publish_phases(argc, argv, &s, send_all, NULL);
  return 0;
}
