/**
 * Asks the daemon something over its control socket and waits for the
 * reply. The request goes from a socket bound to a unique abstract name, so
 * the daemon has an address to answer. The main thread must not block, so
 * the reply is polled for on a short timer, and the wait is bounded.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MsgmuxError, hasCode } from './errors';
import { DgramSocket } from './native';
import type { ControlReply } from './control-protocol';

/** Re-exported for the package's public API; defined in defaults.ts. */
export { DEFAULT_CONTROL } from './defaults';
const REPLY_BYTES = 1 << 20; // a stats reply lists every sink

export const uniqueAbstractName = (role: string): string => `@msgmux/${role}-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Sends one request (a JSON object, or raw bytes) and resolves with the daemon's reply. */
export async function controlRequest(
  control: string,
  request: object | Uint8Array,
  { timeoutMs = 5000 }: { timeoutMs?: number } = {},
): Promise<ControlReply> {
  const socket = new DgramSocket({ nonBlocking: true });
  try {
    socket.bind(uniqueAbstractName('client'));
    const bytes = request instanceof Uint8Array ? request : Buffer.from(JSON.stringify(request));
    try {
      socket.send(bytes, control);
    } catch (err) {
      if (hasCode(err, 'ECONNREFUSED') || hasCode(err, 'ENOENT')) {
        throw new MsgmuxError(ErrorCode.NO_DAEMON, `nothing listens on the control socket ${control}: is msgmux running?`, { cause: err });
      }
      throw err;
    }
    const buffer = Buffer.alloc(REPLY_BYTES);
    const deadline = Date.now() + timeoutMs;
    for (let wait = 1; Date.now() < deadline; wait = Math.min(wait * 2, 20)) {
      try {
        const got = socket.recv(buffer);
        return JSON.parse(buffer.subarray(0, got.length).toString('utf8')) as ControlReply;
      } catch (err) {
        if (!hasCode(err, 'EAGAIN')) throw err;
      }
      await sleep(wait);
    }
    throw new MsgmuxError(ErrorCode.CONTROL_TIMEOUT, `no reply from ${control} within ${timeoutMs} ms`);
  } finally {
    socket.close();
  }
}

/** Like controlRequest, but an `ok: false` reply becomes a thrown MsgmuxError with the daemon's code. */
export async function controlCall(control: string, request: object, options?: { timeoutMs?: number }): Promise<Record<string, unknown>> {
  const reply = await controlRequest(control, request, options);
  if (!reply.ok) throw new MsgmuxError(reply.error.code, reply.error.message);
  return reply;
}
