/**
 * msgmux native binding: AF_UNIX datagram sockets and POSIX message queues
 * for worker threads. A context-aware N-API addon (one instance per thread);
 * it holds syscalls only — retries, backoff and address policy live in TS.
 *
 * Public API (stable names):
 *
 *   class DgramSocket                               // AF_UNIX SOCK_DGRAM, CLOEXEC
 *     constructor(opts?: { nonBlocking?: boolean })
 *     readonly fd: number                           // -1 after close()
 *     readonly localAddress / remoteAddress: string | undefined
 *     bind(address: string): void                   // '/fs/path', '@abstract' or '\0abstract'
 *     connect(address: string): void
 *     send(data: ArrayBufferView, address?: string): number
 *     sendBatch(buffer: SharedArrayBuffer | ArrayBuffer | ArrayBufferView,
 *               offsets: Int32Array, lengths: Int32Array, count: number, address?: string): number
 *     sendBatchWaiting(buffer, offsets, lengths, count, doorbellFd: number, timeoutMs: number,
 *                      ended: Int32Array): number // polls for room (and the doorbell) within the call
 *     recv(into: ArrayBufferView): { length: number; from: string | null; cred?: { pid; uid; gid } }
 *     tryRecv(into: ArrayBufferView): the same, or null when nothing is queued (MSG_DONTWAIT)
 *     recvBatch(into: ArrayBufferView, slotSize: number, max: number, lengths: Int32Array,
 *               from?: (string | null)[]): number   // max <= 1024
 *     poll(events: { readable?; writable? }, timeoutMs: number)
 *       : { readable: boolean; writable: boolean; hangup: boolean; error: boolean }   // -1 = forever
 *     setNonBlocking(on: boolean): void
 *     setSendBufferSize(n) / getSendBufferSize() / setRecvBufferSize(n) / getRecvBufferSize()
 *     setPassCred(on: boolean): void                // recv() then reports cred
 *     close(): void                                 // idempotent
 *
 *   class MessageQueue
 *     static open(name: string, opts?: { create?; exclusive?; depth?; messageSize?; mode?;
 *                                        nonBlocking?; read?; write? }): MessageQueue
 *     static unlink(name: string): void
 *     readonly name: string; readonly fd: number
 *     send(data: ArrayBufferView, priority?: number): void
 *     timedSend(data: ArrayBufferView, priority: number, timeoutMs: number): boolean   // false: timed out
 *     receive(into: ArrayBufferView): { length: number; priority: number }
 *     timedReceive(into: ArrayBufferView, timeoutMs: number): { length; priority } | null
 *     receiveBatch(into: SharedArrayBuffer | ArrayBuffer | ArrayBufferView, offset: number,
 *                  slotSize: number, max: number, lengths: Int32Array,
 *                  priorities: Int32Array | null, timeoutMs: number): number
 *     attributes(): { depth: number; messageSize: number; current: number; nonBlocking: boolean }
 *     setNonBlocking(on: boolean): void
 *     close(): void                                 // idempotent
 *
 *   class UdpSocket                                 // AF_INET SOCK_DGRAM, CLOEXEC: for multicast
 *     constructor(opts?: { nonBlocking?: boolean })
 *     readonly fd: number
 *     bind(ip: string, port: number, opts?: { reuseAddress? }): void
 *     connect(ip: string, port: number): void       // sendBatch then goes there
 *     setMulticastOptions({ ttl, interface, loopback }): void   // IP_MULTICAST_TTL / _IF / _LOOP
 *     join(group: string, iface: string): void      // IP_ADD_MEMBERSHIP
 *     sendBatch(...) / recvBatch(...)               // as DgramSocket (sendmmsg / recvmmsg)
 *     waitWritable(timeoutMs: number): void
 *     close(): void
 *
 *   pollReadable(fds: Int32Array, count: number, timeoutMs: number, revents: Int32Array): number
 *                                                   // poll(2) for POLLIN on sockets and queues, count <= POLL_MAX
 *   pollEach(fds, events, count, timeoutMs, revents) // the same with per-fd events (1 readable, 2 writable)
 *   new Doorbell() .fd .ring() .close(); clearDoorbell(fd) // eventfd(2): ends another thread's poll
 *   new ReadableWatcher(fd, onReadable) .close()   // libuv poll on this thread's loop: onReadable(null)
 *                                                   // whenever fd is readable, onReadable(err) on an error
 *
 * Errors: a failed syscall throws an Error with `code` (errno name, e.g.
 * 'ECONNREFUSED', 'EAGAIN'), `errno`, `syscall`, `address`, and a message like
 * `sendmmsg @msgmux/x: ECONNREFUSED (Connection refused)`. Bad arguments throw
 * TypeError/RangeError with `code` ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE,
 * ERR_OUT_OF_RANGE or ERR_MSGMUX_ADDRESS_TOO_LONG. A missing build throws
 * ERR_MSGMUX_NATIVE_MISSING on first use.
 *
 * Threads and lifetime: create objects in the thread that uses them. A
 * descriptor closes on close(), when its object is garbage-collected, or when
 * its thread exits. Blocking calls block the calling thread and cannot be
 * interrupted by worker.terminate(): give poll/timed calls a timeout and check
 * a stop flag between calls. EINTR never reaches JS: the binding retries, and
 * timed calls keep their original deadline.
 */
export { DgramSocket } from './dgram';
export type { DgramSocketOptions, PeerCredentials, PollEvents, PollResult, ReceivedDatagram } from './dgram';
export { MessageQueue } from './mq';
export { POLL_MAX, pollEach, pollReadable, UdpSocket } from './udp';
export { clearDoorbell, Doorbell } from './doorbell';
export { ReadableWatcher } from './watcher';
export type { MulticastSendOptions } from './udp';
export type { MessageQueueOpenOptions, QueueAttributes, ReceivedMessage } from './mq';
export { decodeAddress, encodeAddress } from './address';
export { isAbstractAddress, normalizeAddress, SUN_PATH_BYTES } from '../address';
export { isSyscallError, NativeErrorCode } from './errors';
export type { SyscallError } from './errors';
