/**
 * Doorbells (eventfd) with pollEach: a wait on a full socket that a ring
 * from another thread ends, and the socket's own writability seen in the
 * same poll. This is what lets the daemon's threads wait without timeouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { clearDoorbell, DgramSocket, Doorbell, pollEach } from '../src/native';
import { boundPair } from './helpers/native';

const NATIVE = path.join(__dirname, '..', 'src', 'native');
/** Long enough for any loaded machine; only reached when the wait was never ended. */
const HANG_MS = 20_000;

/** A connected non-blocking sender whose peer never reads, filled until the kernel refuses more. */
function fullSocket(t: { after(fn: () => void): void }): { tx: DgramSocket; rx: DgramSocket } {
  const { rx, tx, address } = boundPair(t, { nonBlocking: true });
  tx.connect(address);
  const message = Buffer.alloc(64);
  for (;;) {
    try {
      tx.send(message);
    } catch (err) {
      if ((err as { code?: string }).code === 'EAGAIN') break;
      throw err;
    }
  }
  return { tx, rx };
}

test('a doorbell rung by another thread ends a poll on a full socket that has no timeout; cleared, it is quiet again', async (t) => {
  const { tx, rx } = fullSocket(t);
  const bell = new Doorbell();
  t.after(() => bell.close());
  const fds = Int32Array.of(tx.fd, bell.fd);
  const events = Int32Array.of(2, 1);
  const revents = new Int32Array(2);
  assert.equal(pollEach(fds, events, 2, 0, revents), 0, 'neither the full socket nor the quiet bell is ready');

  // The worker waits forever (-1) on the socket and the bell; only the ring can end it.
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { pollEach } = require(workerData.native);
     const revents = new Int32Array(2);
     parentPort.postMessage('waiting');
     const ready = pollEach(Int32Array.of(workerData.socket, workerData.bell), Int32Array.of(2, 1), 2, -1, revents);
     parentPort.postMessage({ ready, revents: [...revents] });`,
    { eval: true, workerData: { native: NATIVE, socket: tx.fd, bell: bell.fd } },
  );
  t.after(() => void worker.terminate());
  const messages: unknown[] = [];
  const woken = new Promise<unknown>((resolve, reject) => {
    worker.on('message', (m) => (messages.push(m), messages.length === 2 && resolve(m)));
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve)); // 'waiting'
  bell.ring();
  // Without the ring the worker would wait for good: fail rather than hang.
  const hung = new Promise((resolve) => setTimeout(resolve, HANG_MS, 'still waiting').unref());
  assert.deepEqual(await Promise.race([woken, hung]), { ready: 1, revents: [0, 1] }, 'the bell, not the socket, ended the wait');

  assert.equal(clearDoorbell(bell.fd), true, 'it had been rung');
  assert.equal(pollEach(fds, events, 2, 0, revents), 0, 'cleared, the bell is quiet');
  assert.equal(clearDoorbell(bell.fd), false);

  // The peer reads: the same poll now reports the socket writable.
  const into = Buffer.alloc(64 * 1024);
  while (rx.recvBatch(into, 64, 1024, new Int32Array(1024)) > 0);
  assert.equal(pollEach(fds, events, 2, 1000, revents), 1);
  assert.deepEqual([...revents], [2, 0]);
});

test('a closed doorbell ignores ring(), so a late stop request never writes to a reused descriptor', () => {
  const bell = new Doorbell();
  bell.close();
  assert.equal(bell.fd, -1);
  assert.doesNotThrow(() => bell.ring());
});
