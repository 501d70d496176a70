/** What the registry hands a sink worker (one piscina task per sink), and what the worker returns when it ends. */
import type { Sink } from './spec';
import type { QueueShape } from './target';

export interface SinkTask {
  ring: SharedArrayBuffer;
  /** The daemon's SharedState buffer. */
  shared: SharedArrayBuffer;
  index: number;
  sink: Sink;
  queueShape: QueueShape;
  /** Where each ring record came from (src/source/origins.ts); null when the daemon has no network source. */
  origins: SharedArrayBuffer | null;
}

export interface SinkOutcome {
  reason: 'stopped' | 'gone' | 'evicted' | 'failed';
  error?: { code: string; message: string };
}
