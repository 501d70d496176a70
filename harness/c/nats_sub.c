/* NATS subscriber with libnats: a synchronous subscription with no client-side pending limit. */
#include "bench.h"
#include <nats/nats.h>

int main(int argc, char **argv) {
  sink_t s;
  sink_init(&s, argc, argv);
  natsConnection *nc = NULL;
  natsSubscription *sub = NULL;
  natsStatus st = natsConnection_ConnectTo(&nc, arg(argc, argv, "url", NULL));
  if (st == NATS_OK) st = natsConnection_SubscribeSync(&sub, nc, arg(argc, argv, "subject", "bench"));
  if (st == NATS_OK) st = natsSubscription_SetPendingLimits(sub, -1, -1);
  if (st == NATS_OK) st = natsConnection_Flush(nc); /* the server has the subscription */
  if (st != NATS_OK) fail("nats subscribe", natsStatus_GetText(st));
  sink_ready(&s);
  for (int done = 0; !done;) {
    natsMsg *m = NULL;
    st = natsSubscription_NextMsg(&m, sub, TICK_MS);
    if (st == NATS_TIMEOUT) { done = sink_tick(&s); continue; }
    if (st != NATS_OK) fail("nats receive", natsStatus_GetText(st));
    done = sink_message(&s, (const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
  }
  sink_done();
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return 0;
}
