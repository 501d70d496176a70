/** What a Subscriber and its receiving thread share: the task, the events, and the flag words. */

export interface SubscriberTask {
  name: string;
  maxMessage: number;
  /** [STOP]: stop flag; [IN_FLIGHT]: batches posted and not yet consumed. */
  flags: Int32Array;
}

export type SubscriberEvent =
  | { type: 'bound' }
  | { type: 'messages'; messages: Uint8Array[]; truncated: number }
  | { type: 'failed'; code: string; message: string };

export const STOP = 0;
export const IN_FLIGHT = 1;
/** Batches the receiver may post ahead of the consumer before it stops receiving. */
export const MAX_IN_FLIGHT = 16;
