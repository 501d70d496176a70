/**
 * The control socket's receiver. It blocks in poll(2), so it cannot also
 * serve its own event loop: it only receives and forwards each datagram,
 * with the sender's address and kernel-checked credentials, to the main
 * thread, which parses, decides and replies. Input is never trusted here.
 * Runs in its own thread (workers/control-receiver.ts), started by the
 * daemon with a ControlTask; its first event is `listening` or `failed`.
 */
import { unlinkSync } from 'node:fs';
import { MAX_REQUEST_BYTES } from '../control-protocol';
import { ErrorCode, hasCode } from '../errors';
import { clearDoorbell, DgramSocket, pollEach } from '../native';
import { SharedState } from './shared-state';

export interface ControlTask {
  /** The daemon's SharedState buffer. */
  shared: SharedArrayBuffer;
  address: string;
}

export type ControlEvent =
  | { type: 'listening' }
  | { type: 'request'; data: Uint8Array; from: string | null; cred: { pid: number; uid: number; gid: number } | null }
  | { type: 'failed'; code: string; message: string };

/** Without a doorbell (a state not made by its owner) a stop is only seen by looking, this often. */
const POLL_WITHOUT_DOORBELL_MS = 100;

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

/** Receives until SharedState.requestControlStop(), posting each datagram; the stop's doorbell ends the wait. */
export function receiveControl(task: ControlTask, post: (event: ControlEvent) => void): void {
  const shared = new SharedState(task.shared);
  let socket: DgramSocket;
  try {
    socket = bindControl(task.address);
  } catch (err) {
    const { code = ErrorCode.CONTROL, message = String(err) } = err as { code?: string; message?: string };
    return post({ type: 'failed', code, message });
  }
  post({ type: 'listening' });
  // One byte more than a request may be, so an oversized datagram is seen as such, not truncated to fit.
  const buffer = new Uint8Array(MAX_REQUEST_BYTES + 1);
  const doorbell = shared.controlDoorbellFd;
  const fds = Int32Array.of(socket.fd, doorbell);
  const events = Int32Array.of(1, 1);
  const revents = new Int32Array(2);
  try {
    while (!shared.controlStopRequested) {
      pollEach(fds, events, 2, doorbell < 0 ? POLL_WITHOUT_DOORBELL_MS : -1, revents);
      if (revents[1] !== 0) clearDoorbell(doorbell);
      if ((revents[0] & 1) === 0) continue;
      const got = socket.recv(buffer);
      post({ type: 'request', data: buffer.slice(0, Math.min(got.length, buffer.length)), from: got.from, cred: got.cred ?? null });
    }
  } finally {
    socket.close();
    if (task.address.startsWith('/')) unlinkSync(task.address);
  }
}
