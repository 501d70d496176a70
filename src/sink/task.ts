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
  /** Each ring record's origin and ingest stamp (src/source/record-meta.ts). */
  recordMeta: SharedArrayBuffer;
}

export interface SinkOutcome {
  reason: 'stopped' | 'gone' | 'evicted' | 'failed';
  error?: { code: string; message: string };
}
