/*
 * ZeroMQ publisher: an XPUB socket bound to --endpoint (ipc://), no high-water
 * mark (unlimited queue: nothing is dropped), ready once --subscribers
 * subscriptions have arrived, so no subscriber misses the start.
 */
#include "bench.h"
#include <zmq.h>

static void publish(void *socket, const uint8_t *msg, size_t len) {
  while (zmq_send(socket, msg, len, 0) < 0) if (errno != EINTR) fail("zmq_send", zmq_strerror(errno));
}

int main(int argc, char **argv) {
  void *ctx = zmq_ctx_new();
  void *pub = zmq_socket(ctx, ZMQ_XPUB);
  int zero = 0, one = 1;
  zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof zero);
  zmq_setsockopt(pub, ZMQ_XPUB_VERBOSE, &one, sizeof one);
  if (zmq_bind(pub, arg(argc, argv, "endpoint", NULL)) < 0) fail("zmq_bind", zmq_strerror(errno));
  for (int subs = atoi(arg(argc, argv, "subscribers", NULL)); subs > 0;) {
    uint8_t frame[256];
    int n = zmq_recv(pub, frame, sizeof frame, 0);
    if (n > 0 && frame[0] == 1) subs--;
  }
  publish_phases(argc, argv, pub, (send_fn)publish, NULL);
  int linger = 10000;
  zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(pub);
  zmq_ctx_term(ctx);
  return 0;
}
