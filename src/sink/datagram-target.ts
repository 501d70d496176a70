/** A sink that is an AF_UNIX datagram socket: sendmmsg straight out of the given regions. */
import { hasCode } from '../errors';
import { DgramSocket } from '../native';
import { isGone, type RoomWait, type SinkTarget } from './target';

export class DatagramTarget implements SinkTarget {
  private socket: DgramSocket | null = null;

  constructor(readonly address: string) {}

  connect(): void {
    this.close();
    const socket = new DgramSocket({ nonBlocking: true });
    try {
      socket.connect(this.address);
    } catch (err) {
      socket.close();
      throw err;
    }
    this.socket = socket;
  }

  /**
   * A fresh connect to the address on a throwaway socket: ECONNREFUSED at
   * once when nobody holds an abstract name or a socket file any more,
   * ENOENT when the file is gone. The sending socket stays connected to the
   * peer it was connected to: a name taken over by someone else since is
   * not followed (sends to the old peer fail, and the sink is gone).
   */
  probe(): void {
    const probe = new DgramSocket({ nonBlocking: true });
    try {
      probe.connect(this.address);
    } finally {
      probe.close();
    }
  }

  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, wait: RoomWait): number {
    const socket = this.socket!;
    try {
      return socket.sendBatch(source, offsets, lengths, count);
    } catch (err) {
      if (!hasCode(err, 'EAGAIN')) throw err;
    }
    // poll can say writable while the peer's queue is still full: one retry, then report no room.
    wait.forWritable(socket.fd);
    try {
      return socket.sendBatch(source, offsets, lengths, count);
    } catch (err) {
      if (hasCode(err, 'EAGAIN')) return 0;
      throw err;
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

/** Whether someone still holds `address` (a fresh connect succeeds); false only when it is gone (see isGone). */
export function isReachable(address: string): boolean {
  try {
    new DatagramTarget(address).probe();
    return true;
  } catch (err) {
    return !isGone(err);
  }
}
