/**
 * Packed publishing: a publisher may put several messages into one queue
 * message, so one mq_send (and one wake-up of the daemon) carries many.
 *
 * The signal holds by construction: packed messages go to a queue of their
 * own, `<queue>.packed` (`/msgmux.packed` for the default `/msgmux`), which
 * the daemon creates beside the bus queue with the same shape and mode.
 * Everything on the bus queue is delivered verbatim, whatever it looks like;
 * everything on the packed queue is a msgmux frame (frame.ts, flags 0: no
 * per-message headers), and each message in it is delivered on its own.
 * A daemon that packs says so in its stats reply:
 * `"packing": {"queue": "/msgmux.packed", "frameVersion": 1}` (null when off).
 *
 * A packed queue message that is not a valid frame is dropped whole and counted.
 */
import { FRAME_VERSION } from './frame';

export const PACKED_QUEUE_SUFFIX = '.packed';

export const packedQueueName = (queue: string): string => queue + PACKED_QUEUE_SUFFIX;

export interface PackingInfo {
  queue: string;
  frameVersion: number;
}

export const packingInfo = (queue: string): PackingInfo => ({ queue: packedQueueName(queue), frameVersion: FRAME_VERSION });
