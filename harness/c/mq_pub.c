/* Publishes to a POSIX message queue with plain mq_send: what any foreign publisher does. */
#include "bench.h"
#include <fcntl.h>
#include <mqueue.h>

static void send_mq(void *ctx, const uint8_t *msg, size_t len) {
  if (mq_send(*(mqd_t *)ctx, (const char *)msg, len, 0) < 0) die("mq_send");
}

int main(int argc, char **argv) {
  mqd_t q = mq_open(arg(argc, argv, "queue", NULL), O_WRONLY);
  if (q == (mqd_t)-1) die("mq_open");
  publish_phases(argc, argv, &q, send_mq, NULL);
  mq_close(q);
  return 0;
}
