/**
 * The control socket's wire format. One request per datagram, one reply per
 * request, sent back to the sender's address when it has one.
 *
 * Requests (at most 4096 bytes, UTF-8, one trailing "\n" or "\r\n" ignored):
 *
 * | Datagram                                                    | Meaning                                  |
 * |-------------------------------------------------------------|------------------------------------------|
 * | `/run/app.sock`                                             | subscribe a filesystem socket, defaults  |
 * | `@app` or `\0app`                                           | subscribe an abstract socket, defaults   |
 * | `{"op":"subscribe","path":P}`                               | same as a bare path                      |
 * | `{"op":"subscribe","path":P,"policy":"drop"}`               | … with policy `block`, `drop` or `evict` |
 * | `{"op":"subscribe","path":P,"policy":"evict","evictAfterMs":N}` | … evicted after stalling N ms        |
 * | `{"op":"subscribe","path":P,"framing":"coalesced"}`         | … several messages per datagram (frame v1) |
 * | `{"op":"subscribe","path":P,"header":true}`                 | … each message after its 12-byte header  |
 * | `{"op":"unsubscribe","path":P}`                             | remove the sink at P                     |
 * | `{"op":"stats"}`                                            | counters for the daemon and each sink    |
 * | `{"op":"attach"}`                                           | a reader slot in the shared-memory ring  |
 * | `{"op":"attach","policy":"drop","start":"earliest"}`        | … with a policy (and evictAfterMs) and where to start, `latest` (default) or `earliest` |
 *
 * A path is a filesystem socket (`/…`, at most 107 bytes: sun_path holds 108
 * with its NUL) or an abstract name (`@name` or a leading NUL, at most 107
 * name bytes, no trailing NUL). Control characters are refused in paths.
 * Replies always spell abstract names with `@`.
 *
 * Replies (JSON, one datagram): `{"ok":true, ...}` or
 * `{"ok":false,"error":{"code":C,"message":M}}` with C one of:
 *
 * | Code                           | When                                                        |
 * |--------------------------------|-------------------------------------------------------------|
 * | `ERR_MSGMUX_REQUEST_TOO_LARGE` | the datagram exceeds 4096 bytes                             |
 * | `ERR_MSGMUX_BAD_REQUEST`       | empty, not UTF-8, neither a path nor a JSON object, bad JSON, a missing, unknown or ill-typed field |
 * | `ERR_MSGMUX_UNKNOWN_OP`        | `op` is not subscribe, unsubscribe or stats                 |
 * | `ERR_MSGMUX_PATH_TOO_LONG`     | the path does not fit in sun_path                           |
 * | `ERR_MSGMUX_SINK_LIMIT`        | (daemon) maxSinks sinks are already registered              |
 * | `ERR_MSGMUX_UNREACHABLE`       | (daemon) nothing listens at the path (ENOENT, ECONNREFUSED) |
 * | `ERR_MSGMUX_NOT_SUBSCRIBED`    | (daemon) unsubscribe of a path that is not a sink           |
 * | `ERR_MSGMUX_NO_SHM`            | (daemon) attach, but the ring is not in shared memory       |
 * | `ERR_MSGMUX_NOT_ALLOWED`       | (daemon) attach (or subscribe) from a uid that is not admitted |
 * | `ERR_MSGMUX_SHM_SLOTS`         | (daemon) attach, but every process slot is taken            |
 *
 * API:
 *   parseControlRequest(datagram: Uint8Array): ControlRequest      throws MsgmuxError (codes above)
 *   encodeReply(reply: ControlReply): Uint8Array
 *   errorReply(err: unknown): ControlReply
 *
 * Address syntax (normalizeAddress, socketAddressProblem) is src/address.ts's.
 */
import { normalizeAddress, socketAddressProblem } from './address';
import { ErrorCode, MsgmuxError } from './errors';
import { SINK_FRAMINGS, SINK_POLICIES, type SinkFraming, type SinkPolicy } from './sink/spec';

export const MAX_REQUEST_BYTES = 4096;

export const CONTROL_ERROR = Object.freeze({
  REQUEST_TOO_LARGE: ErrorCode.REQUEST_TOO_LARGE,
  BAD_REQUEST: ErrorCode.BAD_REQUEST,
  UNKNOWN_OP: ErrorCode.UNKNOWN_OP,
  PATH_TOO_LONG: ErrorCode.PATH_TOO_LONG,
  SINK_LIMIT: ErrorCode.SINK_LIMIT,
  UNREACHABLE: ErrorCode.UNREACHABLE,
  NOT_SUBSCRIBED: ErrorCode.NOT_SUBSCRIBED,
  NO_SHM: ErrorCode.NO_SHM,
  NOT_ALLOWED: ErrorCode.NOT_ALLOWED,
  SHM_SLOTS: ErrorCode.SHM_SLOTS,
});

export const ATTACH_STARTS = ['latest', 'earliest'] as const;

export type ControlRequest =
  | { op: 'subscribe'; path: string; policy?: SinkPolicy; evictAfterMs?: number; framing?: SinkFraming; header?: boolean }
  | { op: 'unsubscribe'; path: string }
  | { op: 'stats' }
  | { op: 'attach'; policy?: SinkPolicy; evictAfterMs?: number; start?: (typeof ATTACH_STARTS)[number] };

export type ControlReply =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message: string } };

const POLICIES: readonly string[] = SINK_POLICIES;
const FRAMINGS: readonly string[] = SINK_FRAMINGS;
/** Fields each op accepts besides `op`; `path` is required where listed. */
const OP_FIELDS: Record<ControlRequest['op'], readonly string[]> = {
  subscribe: ['path', 'policy', 'evictAfterMs', 'framing', 'header'],
  unsubscribe: ['path'],
  stats: [],
  attach: ['policy', 'evictAfterMs', 'start'],
};

const fail = (code: string, message: string): never => {
  throw new MsgmuxError(code, message);
};

function checkedPath(path: unknown): string {
  if (typeof path !== 'string') return fail(CONTROL_ERROR.BAD_REQUEST, `"path" must be a string (got ${JSON.stringify(path) ?? 'nothing'})`);
  const problem = socketAddressProblem(path);
  if (problem) fail(problem.code, `path ${JSON.stringify(normalizeAddress(path))} ${problem.message}`);
  return normalizeAddress(path);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(datagram: Uint8Array): string {
  if (datagram.byteLength > MAX_REQUEST_BYTES) {
    fail(CONTROL_ERROR.REQUEST_TOO_LARGE, `request is ${datagram.byteLength} bytes; the limit is ${MAX_REQUEST_BYTES} (fixed by the protocol: a request names one path and a few options, so it never needs more)`);
  }
  let text: string;
  try {
    text = utf8.decode(datagram);
  } catch {
    return fail(CONTROL_ERROR.BAD_REQUEST, 'request is not UTF-8 text');
  }
  text = text.replace(/\r?\n$/, '');
  if (text.length === 0) fail(CONTROL_ERROR.BAD_REQUEST, 'request is empty');
  return text;
}

function parseJsonRequest(text: string): ControlRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return fail(CONTROL_ERROR.BAD_REQUEST, `request is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(CONTROL_ERROR.BAD_REQUEST, 'request must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  if (!('op' in fields)) fail(CONTROL_ERROR.BAD_REQUEST, 'request has no "op"');
  const op = fields.op;
  if (typeof op !== 'string' || !Object.hasOwn(OP_FIELDS, op)) {
    fail(CONTROL_ERROR.UNKNOWN_OP, `unknown op ${JSON.stringify(op)}; expected subscribe, unsubscribe, stats or attach`);
  }
  const allowed = OP_FIELDS[op as ControlRequest['op']];
  const extra = Object.keys(fields).filter((k) => k !== 'op' && !allowed.includes(k));
  if (extra.length > 0) {
    fail(CONTROL_ERROR.BAD_REQUEST, `"${op}" does not take ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  if (op === 'stats') return { op };
  if (op === 'attach') {
    const request: ControlRequest = { op, ...readerFields(fields) };
    if (fields.start !== undefined) {
      if (!(ATTACH_STARTS as readonly unknown[]).includes(fields.start)) {
        fail(CONTROL_ERROR.BAD_REQUEST, `"start" must be one of ${ATTACH_STARTS.join(', ')} (got ${JSON.stringify(fields.start)})`);
      }
      request.start = fields.start as (typeof ATTACH_STARTS)[number];
    }
    return request;
  }
  const path = checkedPath(fields.path);
  if (op === 'unsubscribe') return { op, path };
  return { op: 'subscribe', path, ...readerFields(fields), ...deliveryFields(fields) };
}

/** `policy` and `evictAfterMs`, as subscribe and attach take them. */
function readerFields(fields: Record<string, unknown>): { policy?: SinkPolicy; evictAfterMs?: number } {
  const out: { policy?: SinkPolicy; evictAfterMs?: number } = {};
  if (fields.policy !== undefined) {
    if (typeof fields.policy !== 'string' || !POLICIES.includes(fields.policy)) {
      fail(CONTROL_ERROR.BAD_REQUEST, `"policy" must be one of ${POLICIES.join(', ')} (got ${JSON.stringify(fields.policy)})`);
    }
    out.policy = fields.policy as SinkPolicy;
  }
  if (fields.evictAfterMs !== undefined) {
    const ms = fields.evictAfterMs;
    if (!Number.isSafeInteger(ms) || (ms as number) < 1) {
      fail(CONTROL_ERROR.BAD_REQUEST, `"evictAfterMs" must be a positive integer (got ${JSON.stringify(ms)})`);
    }
    if (out.policy !== undefined && out.policy !== 'evict') {
      fail(CONTROL_ERROR.BAD_REQUEST, `"evictAfterMs" only applies to policy "evict" (got policy "${out.policy}")`);
    }
    out.evictAfterMs = ms as number;
  }
  return out;
}

/** `framing` and `header`, as subscribe takes them. */
function deliveryFields(fields: Record<string, unknown>): { framing?: SinkFraming; header?: boolean } {
  const out: { framing?: SinkFraming; header?: boolean } = {};
  if (fields.framing !== undefined) {
    if (typeof fields.framing !== 'string' || !FRAMINGS.includes(fields.framing)) {
      fail(CONTROL_ERROR.BAD_REQUEST, `"framing" must be one of ${FRAMINGS.join(', ')} (got ${JSON.stringify(fields.framing)})`);
    }
    out.framing = fields.framing as SinkFraming;
  }
  if (fields.header !== undefined) {
    if (typeof fields.header !== 'boolean') fail(CONTROL_ERROR.BAD_REQUEST, `"header" must be true or false (got ${JSON.stringify(fields.header)})`);
    out.header = fields.header as boolean;
  }
  return out;
}

/** Parses one control datagram; throws MsgmuxError with a code from CONTROL_ERROR. */
export function parseControlRequest(datagram: Uint8Array): ControlRequest {
  const text = decode(datagram);
  if (text.trimStart().startsWith('{')) return parseJsonRequest(text);
  if (!/^[/@\0]/.test(text)) {
    fail(CONTROL_ERROR.BAD_REQUEST, 'request must be a socket path (/path, @name, leading NUL) or a JSON object');
  }
  return { op: 'subscribe', path: checkedPath(text) };
}

/** Encodes a reply as one JSON datagram. */
export function encodeReply(reply: ControlReply): Uint8Array {
  return Buffer.from(JSON.stringify(reply));
}

/** The reply for a failed request: the error's own code (ERR_MSGMUX_… or an errno name) when it has one. */
export function errorReply(err: unknown): ControlReply {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    ok: false,
    error: { code: typeof code === 'string' ? code : ErrorCode.INTERNAL, message },
  };
}
