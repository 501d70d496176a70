/** A Publisher's sending thread (src/publisher-sender.ts): drains the Publisher's local ring into the queue. */
import { parentPort, workerData } from 'node:worker_threads';
import { sendForPublisher } from '../src/publisher-sender';
import type { PublisherEvent, PublisherTask } from '../src/publisher-task';

sendForPublisher(workerData as PublisherTask, (event: PublisherEvent) => parentPort!.postMessage(event));
