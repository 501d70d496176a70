/**
 * Scale: with the default maxSinks, 256 sinks join one daemon and each
 * gets what is published. They all belong to one uid here, so the per-uid
 * quota and registration rate (trust guards, meant for many users) are raised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { DEFAULT_CONFIG } from '../src/config';
import { cleanup, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';

const SINKS = 256;
/** Subscribes in flight at once: the control socket's queue holds only ~10 datagrams. */
const CONCURRENT = 8;

test('256 sinks join a daemon with the default maxSinks, and every one receives each message', async (t) => {
  assert.ok(DEFAULT_CONFIG.maxSinks >= SINKS, `the default maxSinks (${DEFAULT_CONFIG.maxSinks}) admits ${SINKS}`);
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const sockets: DgramSocket[] = [];
  t.after(() => {
    for (const socket of sockets) socket.close();
    cleanup(procs, [queue]);
  });
  const daemon = await startDaemon(queue, control, ['--max-sinks-per-uid', String(SINKS), '--registrations-per-second', '100000']);
  procs.push(daemon);

  const names = Array.from({ length: SINKS }, () => `@${uniqueName('sink')}`);
  for (const name of names) {
    const socket = new DgramSocket({ nonBlocking: true });
    socket.bind(name);
    sockets.push(socket);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      for (let i; (i = next++) < SINKS; ) {
        const reply = await controlCall(control, { op: 'subscribe', path: names[i] }, { timeoutMs: 120_000 });
        assert.equal(reply.ok, true, `sink ${i} joined`);
      }
    }),
  );
  assert.equal((await statsWhen(control, 'every sink listed', (s) => s.sinks.length === SINKS)).sinks.length, SINKS);

  const q = MessageQueue.open(queue, { read: false, write: true });
  for (const text of ['first', 'second']) q.send(Buffer.from(text));
  q.close();
  await statsWhen(control, 'both messages delivered to every sink', (s) => s.sinks.every((sink) => sink.delivered === 2), );
  const buffer = new Uint8Array(256);
  for (const [i, socket] of sockets.entries()) {
    const got = [0, 1].map(() => Buffer.from(buffer.subarray(0, socket.recv(buffer).length)).toString());
    assert.deepEqual(got, ['first', 'second'], `sink ${i}`);
  }
  assert.equal(await daemon.stop(), 0);
});
