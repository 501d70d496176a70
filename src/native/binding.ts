import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeMissingError } from './errors';

/** An opaque wrapper object owning one descriptor inside the addon. */
export type NativeHandle = { readonly __msgmuxNativeHandle: unique symbol };

/** Byte views the addon reads or writes in place (never copied). */
type Bytes = ArrayBufferView;
/** Human-readable address or queue name, read by C only to word an error. */
type Target = string | undefined;

interface RawDatagram {
  length: number;
  from: Uint8Array | null;
  cred?: { pid: number; uid: number; gid: number };
}

/** A libuv poll handle on the calling thread's loop (watch.c). */
export type NativeWatcher = { readonly __msgmuxNativeWatcher: unique symbol };

/** The raw addon: one function per syscall. The classes in dgram.ts / mq.ts are the public face. */
export interface NativeBinding {
  close(h: NativeHandle): void;
  fd(h: NativeHandle): number;

  dgramOpen(nonBlocking: boolean): NativeHandle;
  dgramBind(h: NativeHandle, address: Bytes, target: Target): void;
  dgramConnect(h: NativeHandle, address: Bytes, target: Target): void;
  dgramSend(h: NativeHandle, data: Bytes, address: Bytes | null, target: Target): number;
  dgramSendBatch(
    h: NativeHandle, buffer: Bytes, offsets: Int32Array, lengths: Int32Array, count: number,
    address: Bytes | null, target: Target,
  ): number;
  dgramSendBatchWaiting(
    h: NativeHandle, buffer: Bytes, offsets: Int32Array, lengths: Int32Array, count: number,
    doorbellFd: number, timeoutMs: number, ended: Int32Array, target: Target,
  ): number;
  /** dontWait: MSG_DONTWAIT, and null instead of EAGAIN when nothing is queued. */
  dgramRecv(h: NativeHandle, into: Bytes, target: Target, dontWait: boolean): RawDatagram | null;
  dgramRecvBatch(
    h: NativeHandle, into: Bytes, slotSize: number, max: number, lengths: Int32Array,
    from: (Uint8Array | null)[] | null, target: Target,
  ): number;
  /** events: 1 readable, 2 writable; result adds 4 hangup, 8 error. */
  dgramPoll(h: NativeHandle, events: number, timeoutMs: number, target: Target): number;
  dgramSetNonBlocking(h: NativeHandle, on: boolean): void;
  dgramSetOption(h: NativeHandle, option: number, value: number): void;
  dgramGetOption(h: NativeHandle, option: number): number;
  readonly SO_SNDBUF: number;
  readonly SO_RCVBUF: number;
  readonly SO_PASSCRED: number;
  /** Most datagrams one sendmmsg/recvmmsg moves (UIO_MAXIOV). */
  readonly BATCH_MAX: number;

  mqOpen(name: string, oflag: number, mode: number, depth: number, messageSize: number): NativeHandle;
  mqUnlink(name: string): void;
  mqSend(h: NativeHandle, data: Bytes, priority: number, timeoutMs: number, target: Target): boolean;
  mqReceive(h: NativeHandle, into: Bytes, timeoutMs: number, target: Target): { length: number; priority: number } | null;
  mqReceiveBatch(
    h: NativeHandle, into: Bytes, offset: number, slotSize: number, max: number, lengths: Int32Array,
    priorities: Int32Array | null, timeoutMs: number, target: Target,
  ): number;
  mqAttributes(h: NativeHandle, target: Target): { depth: number; messageSize: number; current: number; nonBlocking: boolean };
  mqSetNonBlocking(h: NativeHandle, on: boolean, target: Target): void;
  mqStat(h: NativeHandle, target: Target): { mode: number; uid: number; gid: number };
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NONBLOCK: number;

  // AF_INET UDP (udp.c): sockets are socket handles, so the dgram* send/recv/poll calls serve them too.
  udpOpen(nonBlocking: boolean): NativeHandle;
  udpBind(h: NativeHandle, ip: Bytes, port: number, reuseAddress: boolean, target: Target): void;
  udpConnect(h: NativeHandle, ip: Bytes, port: number, target: Target): void;
  udpMulticastOptions(h: NativeHandle, ttl: number, iface: Bytes, loopback: boolean, target: Target): void;
  udpJoin(h: NativeHandle, group: Bytes, iface: Bytes, target: Target): void;
  /** poll(2) on fds[0 … count) for events[i] (1 readable, 2 writable; null: readable); revents: 1 readable, 2 writable, 4 hangup, 8 error. */
  pollMany(fds: Int32Array, count: number, timeoutMs: number, revents: Int32Array, events?: Int32Array | null): number;
  readonly POLL_MAX: number;

  // eventfd(2) (eventfd.c): a doorbell. The handle rings it; a waiting thread polls and clears it by number.
  eventfdOpen(): NativeHandle;
  eventfdSignal(h: NativeHandle): void;
  /** Resets the counter; returns whether it had been signalled. */
  eventfdClear(fd: number): boolean;

  // A readable watcher (watch.c): calls callback(null) on this thread's loop whenever fd is readable,
  // callback(error) once if libuv reports an error (it has then stopped). watchClose is idempotent.
  watchOpen(fd: number, callback: (error: Error | null) => void): NativeWatcher;
  watchClose(w: NativeWatcher): void;
}

/** The package root is the nearest ancestor holding binding.gyp (works from src/ and dist/src/). */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '../../..');
  }
}

export function bindingPath(addon = 'msgmux_native'): string {
  return path.join(packageRoot(), 'build', 'Release', `${addon}.node`);
}

let loaded: NativeBinding | undefined;

/** Loads the addon once per thread (each worker gets its own, context-aware instance). */
export function nativeBinding(): NativeBinding {
  if (loaded) return loaded;
  const file = bindingPath();
  try {
    loaded = require(file) as NativeBinding;
  } catch (err) {
    throw nativeMissingError(file, err);
  }
  return loaded;
}
