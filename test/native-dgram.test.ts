/**
 * DgramSocket against real AF_UNIX sockets: abstract and filesystem
 * addresses, errors with their codes, back-pressure (EAGAIN, then a poll in a
 * worker that wakes on drain), a 1,000-record sendmmsg from a
 * SharedArrayBuffer (sendBatch, and sendBatchWaiting, which waits for room
 * itself and ends on a doorbell or its time), and peer credentials.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { clearDoorbell, DgramSocket, Doorbell, isSyscallError } from '../src/native';
import { abstractName, checkRecord, Cleanup, fillRecord, startWorker } from './helpers/native';

const BATCH_RECORDS = 1000;

type WorkerTask =
  | { role: 'fill-then-poll'; peer: string }
  | { role: 'send-batch'; peer: string; buffer: SharedArrayBuffer; offsets: Int32Array; lengths: Int32Array; waiting: boolean };

/** Worker side: runs in its own thread with its own instance of the addon. */
function runWorkerTask(task: WorkerTask): void {
  const port = parentPort!;
  if (task.role === 'fill-then-poll') {
    const sock = new DgramSocket({ nonBlocking: true });
    sock.connect(task.peer);
    let sent = 0;
    let code = '';
    for (;;) {
      try {
        sock.send(Uint8Array.of(sent & 0xff));
        sent++;
      } catch (err) {
        code = (err as { code?: string }).code ?? String(err);
        break;
      }
    }
    port.postMessage({ stage: 'full', sent, code });
    // The peer is full: wait (blocking this thread) until the receiver drains it.
    // poll may report writable while the peer is still full; retry until a send lands.
    let wokeWritable = false;
    for (let attempt = 0; attempt < 100; attempt++) {
      const ready = sock.poll({ writable: true }, 30_000);
      wokeWritable ||= ready.writable;
      try {
        sock.send(Uint8Array.of(0xee));
        port.postMessage({ result: { sent, code, wokeWritable } });
        sock.close();
        return;
      } catch (err) {
        if (!isSyscallError(err, 'EAGAIN')) throw err;
      }
    }
    throw new Error('never became writable');
  }
  if (task.waiting) {
    // One call, non-blocking socket: it waits for room itself, as long as it takes (no doorbell, no limit).
    const sock = new DgramSocket({ nonBlocking: true });
    sock.connect(task.peer);
    const ended = Int32Array.of(-1);
    const sent = sock.sendBatchWaiting(task.buffer, task.offsets, task.lengths, BATCH_RECORDS, -1, -1, ended);
    sock.close();
    port.postMessage({ result: { sent, ended: ended[0] } });
    return;
  }
  const sock = new DgramSocket();
  sock.connect(task.peer);
  let total = 0;
  while (total < BATCH_RECORDS) {
    // sendBatch may stop short; send the rest from where it stopped.
    total += sock.sendBatch(
      task.buffer, task.offsets.subarray(total), task.lengths.subarray(total), BATCH_RECORDS - total,
    );
  }
  sock.close();
  port.postMessage({ result: { sent: total } });
}

if (!isMainThread) {
  runWorkerTask(workerData as WorkerTask);
} else {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  const buf = () => new Uint8Array(256);

  test('abstract addresses: "@name" and "\\0name" are the same socket, and recv reports the sender', () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket());
    const sender = cleanup.closes(new DgramSocket());
    receiver.bind(name);
    const senderName = abstractName();
    sender.bind('\0' + senderName.slice(1));
    assert.equal(sender.send(Buffer.from('hello'), '\0' + name.slice(1)), 5);
    const into = buf();
    const got = receiver.recv(into);
    assert.equal(got.length, 5);
    assert.equal(Buffer.from(into.subarray(0, got.length)).toString(), 'hello');
    assert.equal(got.from, senderName);
    assert.equal(got.cred, undefined);
  });

  test('filesystem addresses, a connected sender, and an unbound sender reported as null', () => {
    const dir = cleanup.tempDir();
    const receiverPath = path.join(dir, 'receiver.sock');
    const senderPath = path.join(dir, 'sender.sock');
    const receiver = cleanup.closes(new DgramSocket());
    receiver.bind(receiverPath);
    const sender = cleanup.closes(new DgramSocket());
    sender.bind(senderPath);
    sender.connect(receiverPath);
    assert.equal(sender.remoteAddress, receiverPath);
    sender.send(Buffer.from('one'));
    const anonymous = cleanup.closes(new DgramSocket());
    anonymous.send(Buffer.from('two'), receiverPath);
    const into = buf();
    assert.deepEqual(receiver.recv(into), { length: 3, from: senderPath });
    assert.deepEqual(receiver.recv(into), { length: 3, from: null });
  });

  test('ECONNREFUSED once the peer has closed, for send and sendBatch, with address and syscall', () => {
    const name = abstractName();
    const receiver = new DgramSocket();
    receiver.bind(name);
    const sender = cleanup.closes(new DgramSocket());
    sender.connect(name);
    sender.send(Uint8Array.of(1));
    receiver.close();
    receiver.close(); // idempotent
    assert.equal(receiver.fd, -1);
    assert.throws(() => sender.send(Uint8Array.of(2)), {
      name: 'Error', code: 'ECONNREFUSED', syscall: 'sendto', address: name,
      message: `sendto ${name}: ECONNREFUSED (Connection refused)`,
    });
    const unconnected = cleanup.closes(new DgramSocket());
    const region = new SharedArrayBuffer(8);
    assert.throws(() => unconnected.sendBatch(region, Int32Array.of(0), Int32Array.of(8), 1, name), {
      code: 'ECONNREFUSED', syscall: 'sendmmsg', message: `sendmmsg ${name}: ECONNREFUSED (Connection refused)`,
    });
    assert.throws(() => unconnected.send(Uint8Array.of(1), name), (err) => isSyscallError(err, 'ECONNREFUSED'));
  });

  test('ENOENT for a missing filesystem socket, ENOTCONN without an address, EADDRINUSE, EINVAL, EBADF', () => {
    const dir = cleanup.tempDir();
    const sock = cleanup.closes(new DgramSocket());
    const missing = path.join(dir, 'absent.sock');
    assert.throws(() => sock.send(Uint8Array.of(1), missing), { code: 'ENOENT', syscall: 'sendto', address: missing });
    assert.throws(() => sock.connect(missing), { code: 'ENOENT', syscall: 'connect' });
    assert.throws(() => sock.send(Uint8Array.of(1)), { code: 'ENOTCONN', syscall: 'sendto' });
    const name = abstractName();
    sock.bind(name);
    const other = cleanup.closes(new DgramSocket());
    assert.throws(() => other.bind(name), { code: 'EADDRINUSE', syscall: 'bind', errno: 98 });
    assert.throws(() => sock.bind(abstractName()), { code: 'EINVAL', syscall: 'bind' });
    other.close();
    assert.throws(() => other.send(Uint8Array.of(1), name), { code: 'EBADF' });
    assert.throws(() => other.recv(buf()), { code: 'EBADF', syscall: 'recvmsg' });
  });

  test('EMSGSIZE for a datagram larger than the send buffer allows; recv reports truncation', () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket());
    receiver.bind(name);
    const sender = cleanup.closes(new DgramSocket());
    sender.setSendBufferSize(4096);
    assert.ok(sender.getSendBufferSize() >= 4096, 'the kernel keeps at least what was asked');
    assert.throws(() => sender.send(new Uint8Array(256 * 1024), name), { code: 'EMSGSIZE', syscall: 'sendto' });
    sender.send(new Uint8Array(100).fill(7), name);
    const small = new Uint8Array(10);
    const got = receiver.recv(small);
    assert.equal(got.length, 100, 'the real size, so the caller sees it was truncated');
    assert.deepEqual([...small], new Array(10).fill(7));
    receiver.setRecvBufferSize(65536);
    assert.ok(receiver.getRecvBufferSize() >= 65536);
  });

  test('non-blocking: EAGAIN on an empty socket; recvBatch returns 0; poll times out not readable', () => {
    const sock = cleanup.closes(new DgramSocket({ nonBlocking: true }));
    sock.bind(abstractName());
    assert.throws(() => sock.recv(buf()), { code: 'EAGAIN', syscall: 'recvmsg' });
    assert.equal(sock.recvBatch(new Uint8Array(64), 16, 4, new Int32Array(4)), 0);
    assert.deepEqual(sock.poll({ readable: true }, 0), { readable: false, writable: false, hangup: false, error: false });
    sock.setNonBlocking(false);
    sock.setNonBlocking(true);
    assert.throws(() => sock.recv(buf()), { code: 'EAGAIN' });
  });

  test('EAGAIN when the peer is full (non-blocking), then a blocking poll in a worker wakes when it drains', async () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket({ nonBlocking: true }));
    receiver.bind(name);
    const run = startWorker<{ sent: number; code: string; wokeWritable: boolean }>(__filename, {
      role: 'fill-then-poll', peer: name,
    });
    const full = new Promise<{ sent: number; code: string }>((resolve) => {
      run.onStage((stage) => resolve(stage as unknown as { sent: number; code: string }));
    });
    const { sent, code } = await full;
    assert.equal(code, 'EAGAIN');
    assert.ok(sent > 0);
    // Everything sent before EAGAIN is queued, in order; taking it wakes the worker.
    const into = buf();
    const drained: number[] = [];
    for (let i = 0; i < sent; i++) {
      receiver.recv(into);
      drained.push(into[0]!);
    }
    assert.deepEqual(drained, Array.from({ length: sent }, (_, i) => i & 0xff));
    const result = await run.result;
    assert.equal(result.wokeWritable, true);
    assert.ok(receiver.poll({ readable: true }, 30_000).readable);
    assert.deepEqual(receiver.recv(into), { length: 1, from: null });
    assert.equal(into[0], 0xee);
  });

  for (const waiting of [false, true]) test(`${waiting ? 'sendBatchWaiting' : 'sendmmsg'}: ${BATCH_RECORDS} records out of a SharedArrayBuffer, sent from a worker, arrive intact and in order`, async () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket());
    receiver.bind(name);
    const offsets = new Int32Array(new SharedArrayBuffer(4 * BATCH_RECORDS));
    const lengths = new Int32Array(new SharedArrayBuffer(4 * BATCH_RECORDS));
    let size = 0;
    for (let i = 0; i < BATCH_RECORDS; i++) {
      offsets[i] = size;
      lengths[i] = 8 + (i % 57);
      size += lengths[i]! + (i % 3); // gaps between records: only the regions go out
    }
    const shared = new SharedArrayBuffer(size);
    for (let i = 0; i < BATCH_RECORDS; i++) fillRecord(new Uint8Array(shared, offsets[i], lengths[i]), i);

    const run = startWorker<{ sent: number }>(__filename, { role: 'send-batch', peer: name, buffer: shared, offsets, lengths, waiting });
    // Drain concurrently: the kernel queues only max_dgram_qlen datagrams per socket.
    const SLOT = 128;
    const slots = new Uint8Array(SLOT * 64);
    const got = new Int32Array(64);
    const seen: number[] = [];
    while (seen.length < BATCH_RECORDS) {
      if (!receiver.poll({ readable: true }, 30_000).readable) break;
      const n = receiver.recvBatch(slots, SLOT, 64, got);
      for (let i = 0; i < n; i++) {
        const index = checkRecord(slots.subarray(i * SLOT, i * SLOT + got[i]!));
        assert.equal(got[i], lengths[index]);
        seen.push(index);
      }
    }
    assert.deepEqual(await run.result, waiting ? { sent: BATCH_RECORDS, ended: 0 } : { sent: BATCH_RECORDS });
    assert.deepEqual(seen, Array.from({ length: BATCH_RECORDS }, (_, i) => i));
  });

  test('sendBatchWaiting to a peer that does not read: sends what fits, then ends on its time, or at once on a rung doorbell, which it leaves rung', () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket({ nonBlocking: true }));
    receiver.bind(name);
    const sender = cleanup.closes(new DgramSocket({ nonBlocking: true }));
    sender.connect(name);
    const records = 200;
    const shared = new SharedArrayBuffer(records * 8);
    const offsets = Int32Array.from({ length: records }, (_, i) => i * 8);
    const lengths = new Int32Array(records).fill(8);
    for (let i = 0; i < records; i++) fillRecord(new Uint8Array(shared, i * 8, 8), i);
    const ended = Int32Array.of(-1);
    const fitted = sender.sendBatchWaiting(shared, offsets, lengths, records, -1, 20, ended);
    assert.ok(fitted > 0 && fitted < records, `the peer's queue took some (${fitted}), not all`);
    assert.equal(ended[0], 2, 'timed out');
    const bell = cleanup.closes(new Doorbell());
    bell.ring();
    ended[0] = -1;
    assert.equal(sender.sendBatchWaiting(shared, offsets.subarray(fitted), lengths.subarray(fitted), records - fitted, bell.fd, -1, ended), 0);
    assert.equal(ended[0], 1, 'the doorbell ended the wait');
    assert.equal(clearDoorbell(bell.fd), true, 'still rung: clearing it is the caller\'s');
    // What went is queued in order and intact; nothing else.
    const into = new Uint8Array(64);
    for (let i = 0; i < fitted; i++) {
      const got = receiver.recv(into);
      assert.equal(checkRecord(into.subarray(0, got.length)), i);
    }
    assert.throws(() => receiver.recv(into), { code: 'EAGAIN' });
    // A peer that is gone: the error, as sendBatch throws it.
    receiver.close();
    assert.throws(() => sender.sendBatchWaiting(shared, offsets, lengths, 1, -1, -1, ended), { code: 'ECONNREFUSED', syscall: 'sendmmsg' });
  });

  test('recvBatch reports each sender; sendBatch from an ArrayBuffer and a view', () => {
    const name = abstractName();
    const receiver = cleanup.closes(new DgramSocket());
    receiver.bind(name);
    const a = cleanup.closes(new DgramSocket());
    const aName = abstractName();
    a.bind(aName);
    const b = cleanup.closes(new DgramSocket());
    const plain = new Uint8Array([1, 2, 3, 4, 5, 6]);
    assert.equal(a.sendBatch(plain.buffer, Int32Array.of(0, 3), Int32Array.of(3, 3), 2, name), 2);
    assert.equal(b.sendBatch(plain.subarray(2), Int32Array.of(0), Int32Array.of(4), 1, name), 1);
    const from: (string | null)[] = [];
    const lengths = new Int32Array(8);
    const into = new Uint8Array(8 * 8);
    assert.equal(receiver.recvBatch(into, 8, 8, lengths, from), 3);
    assert.deepEqual([...lengths.subarray(0, 3)], [3, 3, 4]);
    assert.deepEqual(from, [aName, aName, null]);
    assert.deepEqual([...into.subarray(16, 20)], [3, 4, 5, 6]);
  });

  test('SO_PASSCRED: the receiver sees the sender\'s pid, uid and gid', () => {
    const dir = cleanup.tempDir();
    const receiver = cleanup.closes(new DgramSocket());
    receiver.setPassCred(true);
    receiver.bind(path.join(dir, 'cred.sock'));
    const sender = cleanup.closes(new DgramSocket());
    sender.send(Uint8Array.of(1), path.join(dir, 'cred.sock'));
    const got = receiver.recv(buf());
    assert.deepEqual(got.cred, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  });
}
