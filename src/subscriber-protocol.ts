/** What a Subscriber and its receiving thread share: the task, the events, and the flag words. */
import type { SinkFraming } from './sink/spec';
import type { MessageBatchData } from './message-batch';

export interface SubscriberTask {
  name: string;
  maxMessage: number;
  framing: SinkFraming;
  header: boolean;
  /** [STOP]: stop flag; [IN_FLIGHT]: batches posted and not yet consumed. */
  flags: Int32Array;
}

export type SubscriberEvent =
  | { type: 'bound' }
  | { type: 'batch'; batch: MessageBatchData; truncated: number; badFrames: number }
  | { type: 'failed'; code: string; message: string };

export const STOP = 0;
export const IN_FLIGHT = 1;
/** Batches the receiver may post ahead of the consumer before it stops receiving. */
export const MAX_IN_FLIGHT = 16;
