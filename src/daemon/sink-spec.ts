import type { SinkKind, SinkSpec } from '../config';

/**
 * static:  a filesystem socket from the config, kept and retried while absent.
 * mq:      a POSIX message queue per long-lived client: nothing lost across restarts.
 * dynamic: registered over the control socket, removed when it goes away.
 */
export type SinkKindName = SinkKind | 'dynamic';

/** A sink as the daemon runs it: a configured sink, or one registered at run time. */
export interface Sink extends Omit<SinkSpec, 'kind'> {
  kind: SinkKindName;
}
