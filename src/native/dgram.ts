import { normalizeAddress } from '../address';
import { decodeAddress, encodeAddress } from './address';
import { nativeBinding, NativeHandle } from './binding';
import { argumentError, NativeErrorCode } from './errors';

export interface DgramSocketOptions {
  /** O_NONBLOCK: sends/receives that would wait throw EAGAIN instead. Default false. */
  nonBlocking?: boolean;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface ReceivedDatagram {
  /** The datagram's real size; larger than the buffer means it was truncated. */
  length: number;
  /** Sender's address (`@name` or a path), or null when the sender is unbound. */
  from: string | null;
  /** Present when setPassCred(true) is on: the sender's credentials, checked by the kernel. */
  cred?: PeerCredentials;
}

export interface PollEvents {
  readable?: boolean;
  writable?: boolean;
}

export interface PollResult {
  readable: boolean;
  writable: boolean;
  hangup: boolean;
  error: boolean;
}

const POLL_READABLE = 1;
const POLL_WRITABLE = 2;
const POLL_HANGUP = 4;
const POLL_ERROR = 8;

/** Region arguments may be a whole (Shared)ArrayBuffer or a view; the addon takes views. */
export function byteView(buffer: SharedArrayBuffer | ArrayBuffer | ArrayBufferView): ArrayBufferView {
  if (ArrayBuffer.isView(buffer)) return buffer;
  if (buffer instanceof ArrayBuffer || buffer instanceof SharedArrayBuffer) return new Uint8Array(buffer);
  throw argumentError('type', NativeErrorCode.invalidArgType, 'Expected a SharedArrayBuffer, ArrayBuffer or TypedArray');
}

/**
 * An AF_UNIX SOCK_DGRAM socket (close-on-exec). Blocking calls block the
 * calling thread, by design: use it from a dedicated worker, or non-blocking.
 */
export class DgramSocket {
  readonly #native = nativeBinding();
  readonly #handle: NativeHandle;
  #local: string | undefined;
  #peer: string | undefined;

  constructor(opts: DgramSocketOptions = {}) {
    this.#handle = this.#native.dgramOpen(opts.nonBlocking === true);
  }

  /** The descriptor number, or -1 after close(). */
  get fd(): number {
    return this.#native.fd(this.#handle);
  }

  /** Address this socket is bound to, as given to bind(). */
  get localAddress(): string | undefined {
    return this.#local;
  }

  /** Address this socket is connected to, as given to connect(). */
  get remoteAddress(): string | undefined {
    return this.#peer;
  }

  bind(address: string): void {
    this.#native.dgramBind(this.#handle, encodeAddress(address), normalizeAddress(address));
    this.#local = normalizeAddress(address);
  }

  connect(address: string): void {
    this.#native.dgramConnect(this.#handle, encodeAddress(address), normalizeAddress(address));
    this.#peer = normalizeAddress(address);
  }

  /** Sends one datagram to `address`, or to the connected peer. Returns bytes sent. */
  send(data: ArrayBufferView, address?: string): number {
    return this.#native.dgramSend(this.#handle, data, this.#address(address), this.#target(address));
  }

  /**
   * sendmmsg straight out of `buffer`: record i is bytes [offsets[i], offsets[i] + lengths[i]).
   * Every region is bounds-checked before anything is sent. Returns how many
   * were sent, possibly fewer than `count`; throws when none could be sent.
   */
  sendBatch(
    buffer: SharedArrayBuffer | ArrayBuffer | ArrayBufferView,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
    address?: string,
  ): number {
    return this.#native.dgramSendBatch(
      this.#handle, byteView(buffer), offsets, lengths, count, this.#address(address), this.#target(address),
    );
  }

  /**
   * sendBatch to the connected peer (on a non-blocking socket) that waits for
   * room within the call: when the peer takes no more it polls this socket and
   * `doorbellFd` (-1: none) for up to `timeoutMs` in all (-1: no limit), and
   * goes on. Returns how many went, once all did, or the doorbell is readable
   * (`ended[0]` = 1; not cleared), or the time ran out (2), or a poll said
   * writable and the next send still took nothing (0, as when all went).
   * One call, where sendBatch and poll from JS would make one round trip (and
   * an EAGAIN error) each time the peer's queue fills.
   */
  sendBatchWaiting(
    buffer: SharedArrayBuffer | ArrayBuffer | ArrayBufferView,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
    doorbellFd: number,
    timeoutMs: number,
    ended: Int32Array,
  ): number {
    return this.#native.dgramSendBatchWaiting(
      this.#handle, byteView(buffer), offsets, lengths, count, doorbellFd, timeoutMs, ended, this.#target(undefined),
    );
  }

  /** Receives one datagram into `into` (blocking unless non-blocking; then EAGAIN when empty). */
  recv(into: ArrayBufferView): ReceivedDatagram {
    return this.#received(this.#native.dgramRecv(this.#handle, into, this.#local, false)!);
  }

  /** Receives one datagram if one is queued, never waiting (MSG_DONTWAIT, in either mode); null when none is. */
  tryRecv(into: ArrayBufferView): ReceivedDatagram | null {
    const got = this.#native.dgramRecv(this.#handle, into, this.#local, true);
    return got === null ? null : this.#received(got);
  }

  /**
   * recvmmsg into fixed slots: datagram i lands at into[i * slotSize] and its
   * real size goes to lengths[i] (larger than slotSize means truncated). Waits
   * for the first datagram (blocking mode), then takes only what is queued.
   * Returns the count; 0 when non-blocking and nothing is queued. With `from`,
   * from[i] is set to the sender of datagram i.
   */
  recvBatch(into: ArrayBufferView, slotSize: number, max: number, lengths: Int32Array, from?: (string | null)[]): number {
    const raw: (Uint8Array | null)[] | null = from ? [] : null;
    const n = this.#native.dgramRecvBatch(this.#handle, into, slotSize, max, lengths, raw, this.#local);
    if (from && raw) for (let i = 0; i < n; i++) from[i] = decodeAddress(raw[i] ?? null);
    return n;
  }

  /** poll(2) on this socket; timeoutMs -1 waits forever. Blocks the calling thread. */
  poll(events: PollEvents, timeoutMs: number): PollResult {
    const wanted = (events.readable ? POLL_READABLE : 0) | (events.writable ? POLL_WRITABLE : 0);
    const got = this.#native.dgramPoll(this.#handle, wanted, timeoutMs, this.#peer ?? this.#local);
    return {
      readable: (got & POLL_READABLE) !== 0,
      writable: (got & POLL_WRITABLE) !== 0,
      hangup: (got & POLL_HANGUP) !== 0,
      error: (got & POLL_ERROR) !== 0,
    };
  }

  setNonBlocking(on: boolean): void {
    this.#native.dgramSetNonBlocking(this.#handle, on);
  }

  /** The kernel doubles the value set (bookkeeping overhead); get*() reports what it uses. */
  setSendBufferSize(bytes: number): void {
    this.#native.dgramSetOption(this.#handle, this.#native.SO_SNDBUF, bytes);
  }

  getSendBufferSize(): number {
    return this.#native.dgramGetOption(this.#handle, this.#native.SO_SNDBUF);
  }

  setRecvBufferSize(bytes: number): void {
    this.#native.dgramSetOption(this.#handle, this.#native.SO_RCVBUF, bytes);
  }

  getRecvBufferSize(): number {
    return this.#native.dgramGetOption(this.#handle, this.#native.SO_RCVBUF);
  }

  /** SO_PASSCRED: recv() then reports the sender's pid/uid/gid. */
  setPassCred(on: boolean): void {
    this.#native.dgramSetOption(this.#handle, this.#native.SO_PASSCRED, on ? 1 : 0);
  }

  /** Idempotent. */
  close(): void {
    this.#native.close(this.#handle);
  }

  #received(got: { length: number; from: Uint8Array | null; cred?: PeerCredentials }): ReceivedDatagram {
    const result: ReceivedDatagram = { length: got.length, from: decodeAddress(got.from) };
    if (got.cred) result.cred = got.cred;
    return result;
  }

  #address(address: string | undefined): Buffer | null {
    return address === undefined ? null : encodeAddress(address);
  }

  #target(address: string | undefined): string | undefined {
    return address === undefined ? this.#peer : normalizeAddress(address);
  }
}
