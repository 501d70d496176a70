/** The control socket's receiving thread (src/daemon/control-receiver.ts): every datagram goes to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { receiveControl, type ControlEvent, type ControlTask } from '../src/daemon/control-receiver';

receiveControl(workerData as ControlTask, (event: ControlEvent) => parentPort!.postMessage(event));
