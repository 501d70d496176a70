/* Redis SUBSCRIBE over a unix socket with hiredis; polls the socket itself so a quiet phase can time out. */
#include "bench.h"
#include <hiredis/hiredis.h>
#include <poll.h>

int main(int argc, char **argv) {
  sink_t s;
  sink_init(&s, argc, argv);
  redisContext *c = redisConnectUnix(arg(argc, argv, "socket", NULL));
  if (!c || c->err) fail("redis connect", c ? c->errstr : NULL);
  redisReply *r = redisCommand(c, "SUBSCRIBE %s", arg(argc, argv, "channel", "bench"));
  if (!r) fail("subscribe", c->errstr);
  freeReplyObject(r);
  sink_ready(&s);
  for (int done = 0; !done;) {
    void *reply = NULL;
    if (redisGetReplyFromReader(c, &reply) != REDIS_OK) fail("redis", c->errstr);
    if (reply) {
      redisReply *m = reply; /* ["message", channel, payload] */
      if (m->type == REDIS_REPLY_ARRAY && m->elements == 3)
        done = sink_message(&s, (const uint8_t *)m->element[2]->str, m->element[2]->len);
      freeReplyObject(reply);
      continue;
    }
    struct pollfd p = { c->fd, POLLIN, 0 };
    int ready = poll(&p, 1, TICK_MS);
    if (ready < 0 && errno != EINTR) die("poll");
    if (ready <= 0) { done = sink_tick(&s); continue; }
    if (redisBufferRead(c) != REDIS_OK) fail("redis read", c->errstr);
  }
  sink_done();
  return 0;
}
