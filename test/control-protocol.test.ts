import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CONTROL_ERROR,
  MAX_REQUEST_BYTES,
  encodeReply,
  errorReply,
  parseControlRequest,
} from '../src/control-protocol';
import { normalizeAddress } from '../src/address';
import { MsgmuxError } from '../src/errors';

const parse = (text: string | Uint8Array) => parseControlRequest(typeof text === 'string' ? Buffer.from(text) : text);
const rejects = (input: string | Uint8Array, code: string, message?: RegExp) =>
  assert.throws(() => parse(input), (err: Error & { code?: string }) => {
    assert.ok(err instanceof MsgmuxError, `a MsgmuxError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });

test('a bare path subscribes with defaults: filesystem, @abstract, leading NUL', () => {
  assert.deepEqual(parse('/run/x.sock'), { op: 'subscribe', path: '/run/x.sock' });
  assert.deepEqual(parse('/run/x.sock\n'), { op: 'subscribe', path: '/run/x.sock' });
  assert.deepEqual(parse('/run/x.sock\r\n'), { op: 'subscribe', path: '/run/x.sock' });
  assert.deepEqual(parse('@app/sink'), { op: 'subscribe', path: '@app/sink' });
  assert.deepEqual(parse('\0app/sink'), { op: 'subscribe', path: '@app/sink' });
});

test('the longest paths that fit in sun_path are accepted, one byte more is not', () => {
  const fsPath = '/' + 'a'.repeat(106); // 107 bytes + NUL = 108
  assert.deepEqual(parse(fsPath), { op: 'subscribe', path: fsPath });
  rejects(fsPath + 'a', CONTROL_ERROR.PATH_TOO_LONG, /108 bytes.*at most 107/);
  const name = 'b'.repeat(107);
  assert.deepEqual(parse('@' + name), { op: 'subscribe', path: '@' + name });
  assert.deepEqual(parse('\0' + name), { op: 'subscribe', path: '@' + name });
  rejects('@' + name + 'b', CONTROL_ERROR.PATH_TOO_LONG);
  rejects('\0' + name + 'b', CONTROL_ERROR.PATH_TOO_LONG);
  rejects('/' + 'é'.repeat(54), CONTROL_ERROR.PATH_TOO_LONG); // 109 bytes in 55 characters
  rejects(JSON.stringify({ op: 'subscribe', path: '@' + name + 'b' }), CONTROL_ERROR.PATH_TOO_LONG);
});

test('each JSON op', () => {
  assert.deepEqual(parse('{"op":"subscribe","path":"@s"}'), { op: 'subscribe', path: '@s' });
  assert.deepEqual(parse('{"op":"subscribe","path":"/tmp/s","policy":"drop"}'), { op: 'subscribe', path: '/tmp/s', policy: 'drop' });
  assert.deepEqual(parse('{"op":"subscribe","path":"\\u0000s","policy":"evict","evictAfterMs":250}\n'), {
    op: 'subscribe',
    path: '@s',
    policy: 'evict',
    evictAfterMs: 250,
  });
  assert.deepEqual(parse('{"op":"subscribe","path":"@s","evictAfterMs":250}'), { op: 'subscribe', path: '@s', evictAfterMs: 250 });
  assert.deepEqual(parse('{"op":"unsubscribe","path":"@s"}'), { op: 'unsubscribe', path: '@s' });
  assert.deepEqual(parse(' {"op":"stats"}'), { op: 'stats' });
});

// Random and generated inputs: control-protocol-fuzz.test.ts.
test('bytes that are not UTF-8 are a bad request', () => {
  rejects(Buffer.from([0x80, 0x41]), CONTROL_ERROR.BAD_REQUEST, /not UTF-8/); // a continuation byte cannot start text
  rejects(Buffer.from([0x2f, 0xff, 0xfe]), CONTROL_ERROR.BAD_REQUEST, /not UTF-8/); // "/" then invalid UTF-8
});

test('malformed requests, each with its code', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['', CONTROL_ERROR.BAD_REQUEST, /empty/],
    ['\n', CONTROL_ERROR.BAD_REQUEST, /empty/],
    ['hello', CONTROL_ERROR.BAD_REQUEST, /socket path .* or a JSON object/],
    ['run/x.sock', CONTROL_ERROR.BAD_REQUEST, /socket path/],
    ['@', CONTROL_ERROR.BAD_REQUEST, /after "@"/],
    ['/tmp/a\nb', CONTROL_ERROR.BAD_REQUEST, /control characters/],
    ['{"op":"subscribe",', CONTROL_ERROR.BAD_REQUEST, /not valid JSON/],
    ['[1,2]', CONTROL_ERROR.BAD_REQUEST, /not a path|socket path/],
    ['{"path":"@s"}', CONTROL_ERROR.BAD_REQUEST, /no "op"/],
    ['{"op":"publish","path":"@s"}', CONTROL_ERROR.UNKNOWN_OP, /unknown op "publish"/],
    ['{"op":42}', CONTROL_ERROR.UNKNOWN_OP, /unknown op 42/],
    ['{"op":"subscribe"}', CONTROL_ERROR.BAD_REQUEST, /"path" must be a string/],
    ['{"op":"subscribe","path":7}', CONTROL_ERROR.BAD_REQUEST, /"path" must be a string/],
    ['{"op":"subscribe","path":"s"}', CONTROL_ERROR.BAD_REQUEST, /must be a socket path/],
    ['{"op":"subscribe","path":"@s","colour":"red"}', CONTROL_ERROR.BAD_REQUEST, /does not take "colour"/],
    ['{"op":"stats","path":"@s"}', CONTROL_ERROR.BAD_REQUEST, /"stats" does not take "path"/],
    ['{"op":"unsubscribe","path":"@s","policy":"drop"}', CONTROL_ERROR.BAD_REQUEST, /does not take "policy"/],
    ['{"op":"subscribe","path":"@s","policy":"fast"}', CONTROL_ERROR.BAD_REQUEST, /one of block, drop, evict \(got "fast"\)/],
    ['{"op":"subscribe","path":"@s","evictAfterMs":-1}', CONTROL_ERROR.BAD_REQUEST, /positive integer/],
    ['{"op":"subscribe","path":"@s","evictAfterMs":1.5}', CONTROL_ERROR.BAD_REQUEST, /positive integer/],
    ['{"op":"subscribe","path":"@s","policy":"drop","evictAfterMs":10}', CONTROL_ERROR.BAD_REQUEST, /only applies to policy "evict"/],
  ];
  for (const [input, code, message] of cases) rejects(input, code, message);
});

test('a datagram over 4096 bytes is refused before it is parsed', () => {
  const padded = (n: number) => '{"op":"stats"' + ' '.repeat(n - 14) + '}';
  assert.equal(Buffer.byteLength(padded(MAX_REQUEST_BYTES)), MAX_REQUEST_BYTES);
  assert.deepEqual(parse(padded(MAX_REQUEST_BYTES)), { op: 'stats' });
  rejects(padded(MAX_REQUEST_BYTES + 1), CONTROL_ERROR.REQUEST_TOO_LARGE, /4097 bytes; the limit is 4096/);
  rejects(randomBytes(65536), CONTROL_ERROR.REQUEST_TOO_LARGE);
});

test('replies encode as one JSON datagram; errors keep their code', () => {
  const ok = encodeReply({ ok: true, path: '@s', policy: 'block' });
  assert.deepEqual(JSON.parse(Buffer.from(ok).toString()), { ok: true, path: '@s', policy: 'block' });

  let caught: unknown;
  try {
    parse('{"op":"nope"}');
  } catch (err) {
    caught = err;
  }
  const reply = JSON.parse(Buffer.from(encodeReply(errorReply(caught))).toString()) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, 'ERR_MSGMUX_UNKNOWN_OP');
  assert.match(reply.error.message, /unknown op "nope"/);

  const errno = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.deepEqual(errorReply(errno), { ok: false, error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } });
  assert.deepEqual(errorReply('boom'), { ok: false, error: { code: 'ERR_MSGMUX_INTERNAL', message: 'boom' } });
});

test('normalizeAddress maps only a leading NUL to "@"', () => {
  assert.equal(normalizeAddress('\0abc'), '@abc');
  assert.equal(normalizeAddress('@abc'), '@abc');
  assert.equal(normalizeAddress('/run/a\0b'), '/run/a\0b');
});
