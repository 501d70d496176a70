/**
 * What a sink is, as configured and as run. How each kind delivers is in
 * kinds.ts; this file only names them.
 *
 * Kinds:
 *   static:  a filesystem socket from the config, kept and retried while absent.
 *   mq:      a POSIX message queue per long-lived client: nothing lost across restarts.
 *   dynamic: registered over the control socket, removed when it goes away.
 *   multicast: a UDP multicast group (`225.4.5.6:5000`): one datagram per message, to other hosts.
 *
 * Policies (what a slow sink costs, the ring reader's policy):
 *   block: gates the ring, nothing is lost;  drop: never gates, counts what it lost;
 *   evict: gates until stalled longer than its budget, then is cut loose.
 */
import type { MulticastSendOptions } from '../native/udp';

export const SINK_POLICIES = ['block', 'drop', 'evict'] as const;
export type SinkPolicy = (typeof SINK_POLICIES)[number];

/** plain: one message per datagram; coalesced: several per datagram in a msgmux frame (src/wire/frame.ts). */
export const SINK_FRAMINGS = ['plain', 'coalesced'] as const;
export type SinkFraming = (typeof SINK_FRAMINGS)[number];

/** Kinds a config file or a flag may name. */
export const CONFIGURED_SINK_KINDS = ['static', 'mq', 'multicast'] as const;
export type ConfiguredSinkKind = (typeof CONFIGURED_SINK_KINDS)[number];
/** Every kind the daemon runs: the configured ones and those registered at run time. */
export type SinkKind = ConfiguredSinkKind | 'dynamic';

/** A configured sink after resolution: policy and budget are filled from the defaults. */
export interface SinkSpec {
  path: string;
  kind: ConfiguredSinkKind;
  policy: SinkPolicy;
  evictAfterMs: number;
  /** multicast sinks: the send options (config.multicast, overridden per sink). */
  multicast?: MulticastSendOptions;
  framing: SinkFraming;
  /** Each message carries the 12-byte header: ring sequence number and ingest stamp (src/wire/header.ts). */
  header: boolean;
}

/** A sink as the daemon runs it: a configured sink, or one registered at run time. */
export interface Sink extends Omit<SinkSpec, 'kind'> {
  kind: SinkKind;
}
