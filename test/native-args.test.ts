/**
 * Argument errors, from the wrapper and from the addon itself (called
 * directly, past the wrapper): wrong types, regions outside the buffer and
 * oversized addresses throw TypeError/RangeError with a Node-style code, and
 * nothing reaches the kernel.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue } from '../src/native';
import { nativeBinding } from '../src/native/binding';
import { abstractName, Cleanup, queueName, unlinkQuietly } from './helpers/native';

const SIZE = 64;
const cleanup = new Cleanup();
after(() => cleanup.run());
const text = (s: string) => Buffer.from(s);

test('argument errors: wrong types, regions outside the buffer, oversized addresses, checked in C too', () => {
  const name = abstractName();
  const receiver = cleanup.closes(new DgramSocket({ nonBlocking: true }));
  receiver.bind(name);
  const sock = cleanup.closes(new DgramSocket());
  const region = new SharedArrayBuffer(16);
  assert.throws(() => sock.send('text' as unknown as Uint8Array, name), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => sock.sendBatch(region, Int32Array.of(8), Int32Array.of(9), 1, name), {
    name: 'RangeError', code: 'ERR_OUT_OF_RANGE',
  });
  assert.throws(() => sock.sendBatch(region, Int32Array.of(0, -1), Int32Array.of(1, 1), 2, name), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => sock.sendBatch(region, Int32Array.of(0), Int32Array.of(1), 2, name), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => sock.sendBatch(region, new Uint32Array(1) as unknown as Int32Array, Int32Array.of(1), 1, name), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
  assert.throws(() => receiver.recvBatch(new Uint8Array(100), 64, 2, new Int32Array(2)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => receiver.recvBatch(new Uint8Array(64 * 2000), 64, 2000, new Int32Array(2000)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => sock.poll({ readable: true }, -2), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => sock.send(Uint8Array.of(1), '@' + 'x'.repeat(200)), {
    name: 'RangeError', code: 'ERR_MSGMUX_ADDRESS_TOO_LONG',
  });
  assert.throws(() => sock.send(Uint8Array.of(1), ''), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => sock.bind('@'), { code: 'ERR_INVALID_ARG_VALUE' });

  // The addon is the last line of defence: call it directly, past the wrapper.
  const raw = nativeBinding();
  const handle = raw.dgramOpen(false);
  try {
    const view = new Uint8Array(region);
    const dest = Buffer.from('\0' + name.slice(1));
    assert.throws(() => raw.dgramSendBatch(handle, view, Int32Array.of(2 ** 31 - 1), Int32Array.of(2 ** 31 - 1), 1, dest, name), {
      code: 'ERR_OUT_OF_RANGE',
    });
    assert.throws(() => raw.dgramSendBatch(handle, view, Int32Array.of(0, 0), Int32Array.of(16, 17), 2, dest, name), {
      code: 'ERR_OUT_OF_RANGE',
    });
    assert.throws(() => raw.dgramSend(handle, view, Buffer.alloc(109, 0x61), undefined), { code: 'ERR_MSGMUX_ADDRESS_TOO_LONG' });
    assert.throws(() => raw.dgramSend({} as never, view, dest, undefined), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => raw.close({} as never), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(receiver.recvBatch(new Uint8Array(64), 16, 4, new Int32Array(4)), 0, 'a rejected batch sends nothing');
  } finally {
    raw.close(handle);
  }
});

test('argument errors: priorities out of range, regions outside the buffer, wrong handle kinds', () => {
  const name = queueName();
  cleanup.defer(unlinkQuietly(MessageQueue.unlink, name));
  const q = cleanup.closes(MessageQueue.open(name, { create: true, exclusive: true, depth: 10, messageSize: SIZE }));
  assert.throws(() => q.send(text('x'), 32768), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.send(text('x'), -1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.send('x' as unknown as Uint8Array), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  const lengths = new Int32Array(4);
  assert.throws(() => q.receiveBatch(new SharedArrayBuffer(SIZE * 4), 1, SIZE, 4, lengths, null, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => q.receiveBatch(new SharedArrayBuffer(SIZE * 8), 0, SIZE, 8, lengths, null, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => MessageQueue.open(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => MessageQueue.open('/' + 'q'.repeat(300)), { code: 'ERR_OUT_OF_RANGE' });
  const raw = nativeBinding();
  const socket = raw.dgramOpen(false);
  try {
    assert.throws(() => raw.mqSend(socket, text('x'), 0, -1, undefined), { code: 'ERR_INVALID_ARG_TYPE' });
  } finally {
    raw.close(socket);
  }
});
