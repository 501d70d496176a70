/**
 * The control socket's receiver, on the main thread's event loop: no thread
 * of its own. A ReadableWatcher calls it when datagrams are queued; it takes
 * every one that is, never waiting, and hands each, with the sender's address
 * and kernel-checked credentials, to `onRequest`, which parses, decides and
 * replies. Input is never trusted here.
 *
 *   const receiver = ControlReceiver.listen(address);   // throws when it cannot listen
 *   receiver.onRequest = (request) => ...;
 *   receiver.close();                                   // nothing is received after it
 */
import { unlinkSync } from 'node:fs';
import { MAX_REQUEST_BYTES } from '../control-protocol';
import { ErrorCode, hasCode, MsgmuxError } from '../errors';
import { DgramSocket, ReadableWatcher, type PeerCredentials } from '../native';

export interface ControlDatagram {
  /** At most MAX_REQUEST_BYTES + 1 bytes: one more means it was larger than a request may be. */
  data: Uint8Array;
  /** The sender's address, or null when it is unbound (then there is nobody to answer). */
  from: string | null;
  cred: PeerCredentials | null;
}

/** Binds, replacing a filesystem socket that nobody listens on any more (left by a crash). */
function bindControl(address: string): DgramSocket {
  const socket = new DgramSocket();
  try {
    socket.bind(address);
  } catch (err) {
    if (!hasCode(err, 'EADDRINUSE') || !address.startsWith('/')) throw err;
    const probe = new DgramSocket();
    try {
      probe.connect(address);
      throw err; // somebody answers there: another daemon owns it
    } catch (probeErr) {
      if (probeErr === err || !hasCode(probeErr, 'ECONNREFUSED')) throw err;
    } finally {
      probe.close();
    }
    unlinkSync(address);
    socket.bind(address);
  }
  socket.setPassCred(true);
  return socket;
}

export class ControlReceiver {
  /** Called with each datagram received, in order. */
  onRequest: (request: ControlDatagram) => void = () => undefined;
  /** Called once if receiving fails; the receiver has then closed. */
  onFailure: (err: Error) => void = () => undefined;
  // One byte more than a request may be, so an oversized datagram is seen as such, not truncated to fit.
  private readonly buffer = new Uint8Array(MAX_REQUEST_BYTES + 1);
  private readonly watcher: ReadableWatcher;
  private closed = false;

  private constructor(
    private readonly address: string,
    private readonly socket: DgramSocket,
  ) {
    this.watcher = new ReadableWatcher(socket.fd, (err) => (err ? this.fail(err) : this.drain()));
  }

  /** Binds `address` and receives from it from the next turn of the loop; a MsgmuxError with the cause's code when it cannot. */
  static listen(address: string): ControlReceiver {
    let socket: DgramSocket | null = null;
    try {
      socket = bindControl(address);
      return new ControlReceiver(address, socket);
    } catch (err) {
      socket?.close();
      const { code = ErrorCode.CONTROL, message = String(err) } = err as { code?: string; message?: string };
      throw new MsgmuxError(code, `cannot listen on the control socket ${address}: ${message}`, { cause: err });
    }
  }

  /** Stops receiving at once, closes the socket, and removes a filesystem socket's file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close(); // before the descriptor goes: libuv must stop polling it first
    this.socket.close();
    if (!this.address.startsWith('/')) return;
    try {
      unlinkSync(this.address);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err; // somebody removed it already
    }
  }

  /** Everything queued now; what arrives meanwhile makes the socket readable again. */
  private drain(): void {
    let got;
    try {
      while (!this.closed && (got = this.socket.tryRecv(this.buffer)) !== null) {
        const data = this.buffer.slice(0, Math.min(got.length, this.buffer.length));
        this.onRequest({ data, from: got.from, cred: got.cred ?? null });
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    try {
      this.close();
    } finally {
      this.onFailure(err);
    }
  }
}
