/* ZeroMQ SUB socket connected to --endpoint, every topic, no high-water mark. */
#include "bench.h"
#include <zmq.h>

int main(int argc, char **argv) {
  sink_t s;
  sink_init(&s, argc, argv);
  void *ctx = zmq_ctx_new();
  void *sub = zmq_socket(ctx, ZMQ_SUB);
  int zero = 0, tick = TICK_MS;
  zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
  zmq_setsockopt(sub, ZMQ_RCVTIMEO, &tick, sizeof tick);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
  if (zmq_connect(sub, arg(argc, argv, "endpoint", NULL)) < 0) fail("zmq_connect", zmq_strerror(errno));
  sink_ready(&s);
  static uint8_t buf[65536];
  for (int done = 0; !done;) {
    int n = zmq_recv(sub, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail("zmq_recv", zmq_strerror(errno));
      done = sink_tick(&s);
    } else done = sink_message(&s, buf, (size_t)n);
  }
  sink_done();
  zmq_close(sub);
  zmq_ctx_term(ctx);
  return 0;
}
