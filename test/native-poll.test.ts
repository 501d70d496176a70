/**
 * pollReadable over several descriptors of different kinds, and the UDP
 * socket's argument checks. Multicast traffic itself is tested inside a
 * private network namespace (multicast.test.ts); this file sends nothing on
 * any IP interface.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue, pollReadable, UdpSocket } from '../src/native';
import { abstractName } from './helpers/native';

test('pollReadable reports which of a socket and a queue is readable, and times out when none is', (t) => {
  const name = `/${abstractName().slice(1)}-poll`;
  const queue = MessageQueue.open(name, { create: true, depth: 2, messageSize: 64, read: true, write: true });
  const rx = new DgramSocket({ nonBlocking: true });
  const tx = new DgramSocket();
  const address = abstractName();
  rx.bind(address);
  t.after(() => {
    for (const handle of [queue, rx, tx]) handle.close();
    MessageQueue.unlink(name);
  });
  const fds = Int32Array.of(queue.fd, rx.fd);
  const revents = new Int32Array(2);
  assert.equal(pollReadable(fds, 2, 0, revents), 0);
  assert.deepEqual([...revents], [0, 0]);

  tx.send(Buffer.from('x'), address);
  assert.equal(pollReadable(fds, 2, 1000, revents), 1);
  assert.deepEqual([...revents], [0, 1]);

  queue.send(Buffer.from('y'));
  assert.equal(pollReadable(fds, 2, 1000, revents), 2);
  assert.deepEqual([...revents], [1, 1]);
});

test('pollReadable and UdpSocket refuse bad arguments before any syscall', (t) => {
  assert.throws(() => pollReadable(new Int32Array(1), 2, 0, new Int32Array(2)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => pollReadable(new Int32Array(65), 65, 0, new Int32Array(65)), { code: 'ERR_OUT_OF_RANGE' });
  const socket = new UdpSocket();
  t.after(() => socket.close());
  assert.throws(() => socket.connect('300.1.1.1', 5000), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => socket.connect('127.0.0.1', 70000), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => socket.setMulticastOptions({ ttl: 256, interface: '0.0.0.0', loopback: true }), { code: 'ERR_OUT_OF_RANGE' });
  socket.close();
  assert.throws(() => socket.connect('127.0.0.1', 5000), { code: 'EBADF' });
});
