/** The ingest thread: queue -> ring until the daemon says stop (src/daemon/ingest.ts), then one report. */
import { parentPort, workerData } from 'node:worker_threads';
import { INGEST_READY, ingest, type IngestTask } from '../src/daemon/ingest';

parentPort!.postMessage(ingest(workerData as IngestTask, () => parentPort!.postMessage(INGEST_READY)));
