/* Redis PUBLISH over a unix socket with hiredis, pipelined: replies are read every WINDOW commands. */
#include "bench.h"
#include <hiredis/hiredis.h>

#define WINDOW 256

typedef struct { redisContext *c; const char *channel; int pending; } pub_t;

static void drain(pub_t *p) {
  for (; p->pending > 0; p->pending--) {
    void *reply;
    if (redisGetReply(p->c, &reply) != REDIS_OK) fail("redis", p->c->errstr);
    freeReplyObject(reply);
  }
}

static void publish(void *ctx, const uint8_t *msg, size_t len) {
  pub_t *p = ctx;
  redisAppendCommand(p->c, "PUBLISH %s %b", p->channel, msg, len);
  if (++p->pending >= WINDOW) drain(p);
  /* hiredis writes appended commands only when a reply is read: at a fixed rate, write each now. */
  for (int done = !paced; !done;)
    if (redisBufferWrite(p->c, &done) != REDIS_OK) fail("redis write", p->c->errstr);
}

static void flush(void *ctx) { drain(ctx); }

int main(int argc, char **argv) {
  pub_t p = { redisConnectUnix(arg(argc, argv, "socket", NULL)), arg(argc, argv, "channel", "bench"), 0 };
  if (!p.c || p.c->err) fail("redis connect", p.c ? p.c->errstr : NULL);
  publish_phases(argc, argv, &p, publish, flush);
  redisFree(p.c);
  return 0;
}
