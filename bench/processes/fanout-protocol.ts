/**
 * What the daemon fanout benchmark's publisher and sink processes share with
 * it: the message layout — a little-endian u32 sequence number (per
 * publisher, from 0) in bytes 0-3, the publisher's index in byte 4, filler up
 * to the size — and the JSON lines they exchange.
 */
export const SEQUENCE_OFFSET = 0;
export const PUBLISHER_OFFSET = 4;
/** The smallest message that holds the header. */
export const HEADER_BYTES = 5;

/** What a publisher reports for one command. */
export interface PublishReport {
  sent: number;
  /** process.hrtime (CLOCK_MONOTONIC, the same clock in every process) in ns, around the sends. */
  startedNs: number;
  endedNs: number;
  /** `fill` only: whether the last send timed out, i.e. the queue stayed full. */
  queueFull?: boolean;
}

/** Commands a publisher takes on stdin. */
export type PublishCommand = { cmd: 'publish'; count: number } | { cmd: 'fill'; timeoutMs: number; max: number };

/** What a sink reports at the end of each round. */
export interface SinkRoundReport {
  round: number;
  received: number;
  /** Receive times (CLOCK_MONOTONIC ns) of the round's first and last batch. */
  firstNs: number;
  lastNs: number;
  /** Messages skipped over (a sequence number jumped ahead), per the sink's own count. */
  missing: number;
  /** Messages at or behind a sequence number already seen: duplicates or reordering. */
  outOfOrder: number;
  /** Messages of the wrong size (truncated or foreign). */
  wrongLength: number;
  /** True when nothing arrived for the stall timeout before the round was complete. */
  stalled: boolean;
}

export const nowNs = (): number => Number(process.hrtime.bigint());
