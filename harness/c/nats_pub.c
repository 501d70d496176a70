/* NATS publish with libnats (core NATS: at most once). */
#include "bench.h"
#include <nats/nats.h>

typedef struct { natsConnection *nc; const char *subject; } pub_t;

static void publish(void *ctx, const uint8_t *msg, size_t len) {
  pub_t *p = ctx;
  natsStatus st = natsConnection_Publish(p->nc, p->subject, msg, (int)len);
  if (st != NATS_OK) fail("nats publish", natsStatus_GetText(st));
}

static void flush(void *ctx) {
  natsStatus st = natsConnection_FlushTimeout(((pub_t *)ctx)->nc, 30000);
  if (st != NATS_OK) fail("nats flush", natsStatus_GetText(st));
}

int main(int argc, char **argv) {
  pub_t p = { NULL, arg(argc, argv, "subject", "bench") };
  natsStatus st = natsConnection_ConnectTo(&p.nc, arg(argc, argv, "url", NULL));
  if (st != NATS_OK) fail("nats connect", natsStatus_GetText(st));
  publish_phases(argc, argv, &p, publish, flush);
  natsConnection_Destroy(p.nc);
  return 0;
}
