/**
 * An AF_INET UDP socket for multicast, and poll(2) over several descriptors.
 * Sending and receiving go through the same sendmmsg/recvmmsg as DgramSocket;
 * this class adds what IPv4 needs: bind to a port, connect to a group, join it,
 * and the multicast send options. Blocking calls block the calling thread.
 *
 *   const tx = new UdpSocket({ nonBlocking: true });
 *   tx.setMulticastOptions({ ttl: 1, interface: '0.0.0.0', loopback: true });
 *   tx.connect('225.4.5.6', 5000);
 *   tx.sendBatch(ring, offsets, lengths, count);     // one datagram per record
 *
 *   const rx = new UdpSocket();
 *   rx.bind('225.4.5.6', 5000, { reuseAddress: true });
 *   rx.join('225.4.5.6', '0.0.0.0');
 *   rx.recvBatch(into, slot, 64, lengths);            // lengths[i] > slot: truncated
 */
import { parseIp4 } from '../inet-address';
import { nativeBinding, type NativeHandle } from './binding';
import { byteView } from './dgram';
import { argumentError, NativeErrorCode } from './errors';

export interface MulticastSendOptions {
  /** Hops a datagram may take: 1 (the default) stays on the local network. */
  ttl: number;
  /** IPv4 address of the interface to send on; 0.0.0.0 lets the routing table choose. */
  interface: string;
  /** Whether this host's own group members receive what it sends. */
  loopback: boolean;
}

function ip4(text: string): Uint8Array {
  const bytes = parseIp4(text);
  if (!bytes) throw argumentError('type', NativeErrorCode.invalidArgValue, `not an IPv4 address: ${JSON.stringify(text)}`);
  return bytes;
}

export class UdpSocket {
  readonly #native = nativeBinding();
  readonly #handle: NativeHandle;
  #name: string | undefined;

  constructor(opts: { nonBlocking?: boolean } = {}) {
    this.#handle = this.#native.udpOpen(opts.nonBlocking === true);
  }

  get fd(): number {
    return this.#native.fd(this.#handle);
  }

  bind(address: string, port: number, opts: { reuseAddress?: boolean } = {}): void {
    this.#name = `${address}:${port}`;
    this.#native.udpBind(this.#handle, ip4(address), port, opts.reuseAddress === true, this.#name);
  }

  connect(address: string, port: number): void {
    this.#name = `${address}:${port}`;
    this.#native.udpConnect(this.#handle, ip4(address), port, this.#name);
  }

  setMulticastOptions(opts: MulticastSendOptions): void {
    this.#native.udpMulticastOptions(this.#handle, opts.ttl, ip4(opts.interface), opts.loopback, this.#name);
  }

  /** IP_ADD_MEMBERSHIP on the given interface (0.0.0.0: the one the routing table picks). */
  join(group: string, iface: string): void {
    this.#native.udpJoin(this.#handle, ip4(group), ip4(iface), this.#name ?? group);
  }

  /** sendmmsg to the connected group; see DgramSocket.sendBatch. */
  sendBatch(buffer: ArrayBufferView | SharedArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number): number {
    return this.#native.dgramSendBatch(this.#handle, byteView(buffer), offsets, lengths, count, null, this.#name);
  }

  /** recvmmsg into fixed slots; see DgramSocket.recvBatch. 0 when non-blocking and nothing is queued. */
  recvBatch(into: ArrayBufferView, slotSize: number, max: number, lengths: Int32Array): number {
    return this.#native.dgramRecvBatch(this.#handle, into, slotSize, max, lengths, null, this.#name);
  }

  /** Waits until writable (or timeoutMs), like DgramSocket.poll. */
  waitWritable(timeoutMs: number): void {
    this.#native.dgramPoll(this.#handle, 2, timeoutMs, this.#name);
  }

  close(): void {
    this.#native.close(this.#handle);
  }
}

/** Most descriptors pollReadable takes at once. */
export const POLL_MAX = 64;

/**
 * poll(2) for readability on `fds[0 … count)` (sockets or queues); revents[i]
 * gets 1 readable, 4 hangup, 8 error. Returns how many are ready (0 on timeout).
 */
export function pollReadable(fds: Int32Array, count: number, timeoutMs: number, revents: Int32Array): number {
  return nativeBinding().pollMany(fds, count, timeoutMs, revents);
}

/**
 * poll(2) on `fds[0 … count)` for what `events[i]` asks: 1 readable, 2
 * writable, 3 both. revents[i] gets 1 readable, 2 writable, 4 hangup, 8
 * error. Returns how many are ready (0 on timeout); timeoutMs -1 waits forever.
 */
export function pollEach(fds: Int32Array, events: Int32Array, count: number, timeoutMs: number, revents: Int32Array): number {
  return nativeBinding().pollMany(fds, count, timeoutMs, revents, events);
}
