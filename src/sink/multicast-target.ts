/**
 * A sink that is a UDP multicast group: one datagram per record, sendmmsg
 * straight out of the given regions to the connected group. Any receiver in
 * any language that joined the group gets each message as one datagram;
 * whether it arrives is the network's business (UDP: no retransmission).
 *
 * Records that came from a network source (another host) are skipped, so two
 * buses joined both ways never echo a message back (see src/source/record-meta.ts).
 */
import { hasCode } from '../errors';
import { parseGroupAddress } from '../inet-address';
import { UdpSocket, type MulticastSendOptions } from '../native';
import type { RecordMeta } from '../source/record-meta';
import type { RoomWait, SinkTarget } from './target';

export class MulticastTarget implements SinkTarget {
  private socket: UdpSocket | null = null;
  private readonly group: string;
  private readonly port: number;

  constructor(
    readonly address: string,
    private readonly options: MulticastSendOptions,
    private readonly recordMeta: RecordMeta | null,
  ) {
    const parsed = parseGroupAddress(address);
    if ('problem' in parsed) throw new TypeError(`multicast sink ${address} ${parsed.problem}`);
    this.group = parsed.group;
    this.port = parsed.port;
  }

  connect(): void {
    this.close();
    const socket = new UdpSocket({ nonBlocking: true });
    try {
      socket.setMulticastOptions(this.options);
      socket.connect(this.group, this.port);
    } catch (err) {
      socket.close();
      throw err;
    }
    this.socket = socket;
  }

  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, wait: RoomWait, recordNumbers?: Int32Array): number {
    const local = this.recordMeta && recordNumbers ? this.recordMeta.localPrefix(recordNumbers, count) : count;
    if (local === 0) return this.recordMeta!.networkPrefix(recordNumbers!, count); // skipped: counted as taken
    const socket = this.socket!;
    try {
      return socket.sendBatch(source, offsets, lengths, local);
    } catch (err) {
      // ECONNREFUSED: an ICMP error from an earlier datagram; multicast has no peer to lose.
      if (hasCode(err, 'ECONNREFUSED')) return socket.sendBatch(source, offsets, lengths, local);
      if (!hasCode(err, 'EAGAIN') && !hasCode(err, 'ENOBUFS')) throw err;
    }
    wait.forWritable(socket.fd);
    try {
      return socket.sendBatch(source, offsets, lengths, local);
    } catch (err) {
      if (hasCode(err, 'EAGAIN') || hasCode(err, 'ENOBUFS')) return 0;
      throw err;
    }
  }

  /** A group has no holder to lose: nothing to check. */
  probe(): void {}

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

