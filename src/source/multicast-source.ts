/**
 * A multicast group as a source: the daemon joins the group and every
 * datagram sent to it becomes one message on the bus. Datagrams longer than
 * the bus's message size are counted and skipped (the ring and every sink
 * are sized for it). Loss on this leg is the network's: UDP has no
 * retransmission, and a full socket buffer drops datagrams in the kernel.
 */
import { parseGroupAddress } from '../inet-address';
import { UdpSocket } from '../native';

export interface MulticastSourceSpec {
  /** `GROUP:PORT`, e.g. 225.4.5.7:5001. */
  address: string;
  /** IPv4 address of the interface to join on; 0.0.0.0 lets the routing table choose. */
  interface: string;
}

/**
 * Binds the group's port (shared with other receivers: SO_REUSEADDR) on the
 * group address, so only that group's datagrams arrive, and joins it.
 * Throws the syscall's error (EADDRINUSE, ENODEV, ...) naming the address.
 */
export function openMulticastSocket(spec: MulticastSourceSpec): UdpSocket {
  const parsed = parseGroupAddress(spec.address);
  if ('problem' in parsed) throw new TypeError(`multicast source ${spec.address} ${parsed.problem}`);
  const socket = new UdpSocket({ nonBlocking: true });
  try {
    socket.bind(parsed.group, parsed.port, { reuseAddress: true });
    socket.join(parsed.group, spec.interface);
    return socket;
  } catch (err) {
    socket.close();
    throw err;
  }
}

/** Ingest's side: takes what the socket holds, never waiting. */
export class MulticastSource {
  private readonly socket: UdpSocket;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  private readonly raw: Int32Array;
  readonly bytes: Uint8Array;

  constructor(
    spec: MulticastSourceSpec,
    private readonly slot: number,
    private readonly max: number,
  ) {
    this.socket = openMulticastSocket(spec);
    // One byte more than a message may be: a datagram that fills it was longer than allowed.
    this.bytes = new Uint8Array(max * (slot + 8));
    this.offsets = Int32Array.from({ length: max }, (_, k) => k * (slot + 8));
    this.lengths = new Int32Array(max);
    this.raw = new Int32Array(max);
  }

  get fd(): number {
    return this.socket.fd;
  }

  /** Receives what is queued; returns [kept, tooLarge]. Kept records are at offsets[0 … kept). */
  take(): [number, number] {
    const n = this.socket.recvBatch(this.bytes, this.slot + 8, this.max, this.raw);
    let kept = 0;
    for (let k = 0; k < n; k++) {
      if (this.raw[k] > this.slot) continue;
      this.offsets[kept] = k * (this.slot + 8);
      this.lengths[kept++] = this.raw[k];
    }
    return [kept, n - kept];
  }

  close(): void {
    this.socket.close();
  }
}
