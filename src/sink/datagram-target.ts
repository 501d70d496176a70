/**
 * A sink that is an AF_UNIX datagram socket: sendmmsg straight out of the
 * given regions, waiting for room within the same native call (the loop's
 * RoomWait lends it the doorbell and the time). A sink reading one datagram
 * at a time fills its queue (net.unix.max_dgram_qlen, 10 by default) again
 * and again; a wait per fill taken in JS, with an EAGAIN error and a poll
 * call each time, cost a gating sink's thread more than its sends did.
 */
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
    return wait.within((doorbell, timeoutMs, ended) => socket.sendBatchWaiting(source, offsets, lengths, count, doorbell, timeoutMs, ended));
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
