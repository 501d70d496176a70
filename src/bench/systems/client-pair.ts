/**
 * A brokered system in its two flavours: the same broker fed and drained by
 * its npm client (Node scripts under clients/) or by its C library (programs
 * under harness/c). One description makes both adapters, so they differ only
 * in the clients.
 */
import { compiled } from '../cc';
import { nodeClient, requireClient, type GroupContext, type ProcessSystem } from '../system';

export interface ClientPair {
  /** Key prefix: "nats" makes nats-node and nats-c. */
  key: string;
  system: string;
  lossless: boolean;
  onePublisher: string | null;
  start: ProcessSystem['start'];
  /** Checks the broker can run here, before either flavour checks its clients. */
  requires?(): void;
  subscriberArgs(context: GroupContext): string[];
  publisherArgs(context: GroupContext): string[];
  /** npm package, the label its clients carry, and the client scripts' names. */
  node: { package: string; label: string; subscriber: string; publisher: string };
  /** The C library's label, the programs' names in harness/c and their link flags. */
  c: { label: string; subscriber: string; publisher: string; libs: string[] };
}

export function clientPair(pair: ClientPair): [node: ProcessSystem, c: ProcessSystem] {
  const base = { system: pair.system, kind: 'process' as const, lossless: pair.lossless, onePublisher: pair.onePublisher, start: pair.start };
  const node: ProcessSystem = {
    ...base,
    key: `${pair.key}-node`,
    clients: 'node',
    prepare: async () => {
      pair.requires?.();
      requireClient(pair.node.package);
    },
    group: (context) => ({
      subscribers: Array.from({ length: context.subscribers }, (_, k) =>
        nodeClient(`${pair.node.label} subscriber ${k}`, pair.node.subscriber, pair.subscriberArgs(context))),
      publisher: nodeClient(`${pair.node.label} publisher`, pair.node.publisher, pair.publisherArgs(context)),
    }),
  };
  let sub = '';
  let pub = '';
  const c: ProcessSystem = {
    ...base,
    key: `${pair.key}-c`,
    clients: 'c',
    async prepare() {
      pair.requires?.();
      [sub, pub] = await Promise.all([compiled(pair.c.subscriber, pair.c.libs), compiled(pair.c.publisher, pair.c.libs)]);
    },
    group: (context) => ({
      subscribers: Array.from({ length: context.subscribers }, (_, k) =>
        ({ label: `${pair.c.label} subscriber ${k}`, file: sub, args: pair.subscriberArgs(context) })),
      publisher: { label: `${pair.c.label} publisher`, file: pub, args: pair.publisherArgs(context) },
    }),
  };
  return [node, c];
}
