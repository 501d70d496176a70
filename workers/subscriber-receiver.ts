/** A Subscriber's receiving thread (src/subscriber-receiver.ts): binds, receives, posts batches to the owner. */
import { parentPort, workerData } from 'node:worker_threads';
import { receiveForSubscriber } from '../src/subscriber-receiver';
import type { SubscriberEvent, SubscriberTask } from '../src/subscriber-protocol';

receiveForSubscriber(workerData as SubscriberTask, (event: SubscriberEvent, transfer?: ArrayBuffer[]) => parentPort!.postMessage(event, transfer));
