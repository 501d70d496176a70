/**
 * A fuzz of the control-request parser: thousands of datagrams built to reach
 * every branch of parseControlRequest (bare paths of each form, JSON for each
 * op with good and bad fields of every type, truncated JSON, oversized
 * requests, random bytes, leading NUL, mutations of good requests). Each one
 * must either parse to a well-formed request or throw a MsgmuxError whose
 * code is in ERROR_CODES; nothing else. Requests built from valid parts must
 * parse to exactly what was built.
 *
 * The PRNG is seeded; the seed is printed with any failure, and
 * MSGMUX_FUZZ_SEED=<n> replays it (MSGMUX_FUZZ_COUNT changes the count).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUN_PATH_BYTES, socketAddressProblem } from '../src/address';
import { CONTROL_ERROR, MAX_REQUEST_BYTES, parseControlRequest, type ControlRequest } from '../src/control-protocol';
import { ERROR_CODES, MsgmuxError } from '../src/errors';
import { mulberry32, type Random } from './helpers/random';

const SEED = process.env.MSGMUX_FUZZ_SEED === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(process.env.MSGMUX_FUZZ_SEED);
const COUNT = Number(process.env.MSGMUX_FUZZ_COUNT ?? 20_000);
const POLICIES = ['block', 'drop', 'evict'] as const;

/** A datagram, and what it must parse to when it was built only from valid parts. */
interface Case {
  kind: string;
  bytes: Uint8Array;
  expect?: ControlRequest;
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_./:';
const ODD_CHARS = ['é', '€', '😀', '\u0000', '\u0001', '\u001f', '\u007f', '\n', ' ', '"', '\\', '{', '@', '/'];

function nameOf(r: Random, length: number, odd: boolean): string {
  let name = '';
  for (let i = 0; i < length; i++) name += odd && r.chance(0.05) ? r.pick(ODD_CHARS) : NAME_CHARS[r.int(NAME_CHARS.length)];
  return name;
}

/** A name length around the sun_path boundary most of the time. */
const nameLength = (r: Random): number => (r.chance(0.3) ? SUN_PATH_BYTES - 3 + r.int(5) : r.int(r.chance(0.1) ? 400 : 40));

/** A socket path in any of its spellings, valid or not; `valid` says whether the parser must accept it. */
function socketPath(r: Random): { path: string; valid: boolean; normalized: string } {
  const odd = r.chance(0.3);
  const name = nameOf(r, nameLength(r), odd);
  const prefix = r.pick(['/', '@', '\0', '', 'x', './']);
  const path = prefix + name;
  const problem = socketAddressProblem(path);
  return { path, valid: problem === null, normalized: path.startsWith('\0') ? '@' + path.slice(1) : path };
}

/** A JSON value of any type, for fields that must reject the wrong one. */
function anyValue(r: Random): unknown {
  switch (r.int(9)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.int(2 ** 31) - 2 ** 30;
    case 3: return r.next() * 1e6;
    case 4: return nameOf(r, r.int(12), true);
    case 5: return [];
    case 6: return { nested: nameOf(r, 3, false) };
    case 7: return 'x'.repeat(r.int(5000));
    default: return r.pick([0, -1, 1.5, 2 ** 53, 1e308, '', 'block', 'evict']);
  }
}

function finish(r: Random, text: string): string {
  const lead = r.chance(0.1) ? r.pick([' ', '\t', '  ', '\n']) : '';
  return lead + text + r.pick(['', '', '\n', '\r\n', '\n\n', ' ']);
}

const cases: ((r: Random) => Case)[] = [
  function barePath(r) {
    const { path, valid, normalized } = socketPath(r);
    const ending = r.pick(['', '\n', '\r\n']);
    return { kind: 'bare path', bytes: Buffer.from(path + ending), expect: valid ? { op: 'subscribe', path: normalized } : undefined };
  },
  function validJson(r) {
    const op = r.pick(['subscribe', 'unsubscribe', 'stats'] as const);
    if (op === 'stats') return { kind: 'json stats', bytes: Buffer.from(finish(r, '{"op":"stats"}')), expect: { op } };
    let target = socketPath(r);
    while (!target.valid) target = socketPath(r);
    const body: Record<string, unknown> = { op, path: target.path };
    const expect: Record<string, unknown> = { op, path: target.normalized };
    if (op === 'subscribe') {
      if (r.chance(0.6)) expect.policy = body.policy = r.pick(POLICIES);
      if ((body.policy === undefined || body.policy === 'evict') && r.chance(0.5)) expect.evictAfterMs = body.evictAfterMs = 1 + r.int(1e9);
    }
    const keys = Object.keys(body);
    const shuffled = Object.fromEntries(keys.sort(() => r.next() - 0.5).map((k) => [k, body[k]]));
    return { kind: `json ${op}`, bytes: Buffer.from(finish(r, JSON.stringify(shuffled))), expect: expect as ControlRequest };
  },
  function jsonWithBadField(r) {
    const body: Record<string, unknown> = {};
    if (r.chance(0.9)) body.op = r.chance(0.8) ? r.pick(['subscribe', 'unsubscribe', 'stats']) : anyValue(r);
    if (r.chance(0.8)) body.path = r.chance(0.6) ? socketPath(r).path : anyValue(r);
    if (r.chance(0.5)) body.policy = r.chance(0.5) ? r.pick([...POLICIES, 'fast', 'BLOCK', '']) : anyValue(r);
    if (r.chance(0.5)) body.evictAfterMs = r.chance(0.5) ? r.pick([1, 250, 0, -1, 1.5, 2 ** 53, Number.MAX_VALUE]) : anyValue(r);
    if (r.chance(0.2)) body[nameOf(r, 1 + r.int(8), true)] = anyValue(r);
    return { kind: 'json, any fields', bytes: Buffer.from(finish(r, JSON.stringify(body))) };
  },
  function truncatedJson(r) {
    const { bytes } = cases[1](r);
    return { kind: 'truncated json', bytes: bytes.subarray(0, r.int(bytes.length)) };
  },
  function notAnObject(r) {
    const text = r.pick(['[{"op":"stats"}]', 'null', '42', '"@s"', 'true', '{}', '{"op":"stats"}{}', '{"op":"stats",}', '{op:"stats"}', '{"op":"subscribe","path":"@s","evictAfterMs":1e400}']);
    return { kind: 'json, not one object', bytes: Buffer.from(finish(r, text)) };
  },
  function oversized(r) {
    const near = MAX_REQUEST_BYTES - 2 + r.int(5);
    const json = '{"op":"stats"}';
    return { kind: 'size boundary', bytes: Buffer.from(json + ' '.repeat(Math.max(0, near - json.length))) };
  },
  function hugeField(r) {
    const value = r.pick(['@', '/', '']) + 'z'.repeat(100 + r.int(6000));
    return { kind: 'huge field', bytes: Buffer.from(JSON.stringify({ op: 'subscribe', path: value })) };
  },
  function randomBytes(r) {
    return { kind: 'random bytes', bytes: r.bytes(r.chance(0.05) ? 4000 + r.int(200) : r.int(80)) };
  },
  function leadingNul(r) {
    const rest = r.chance(0.5) ? r.bytes(r.int(120)) : Buffer.from(nameOf(r, r.int(120), true));
    return { kind: 'leading NUL', bytes: Buffer.concat([Buffer.from([0]), rest]) };
  },
  function mutated(r) {
    const bytes = Buffer.from(cases[r.chance(0.5) ? 0 : 1](r).bytes);
    for (let n = 1 + r.int(3); n > 0 && bytes.length > 0; n--) bytes[r.int(bytes.length)] = r.int(256);
    return { kind: 'mutated request', bytes };
  },
];

const CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));

/** Throws unless `request` is one the daemon can act on. */
function assertWellFormed(request: ControlRequest): void {
  const keys = Object.keys(request);
  const allowed = { subscribe: ['op', 'path', 'policy', 'evictAfterMs'], unsubscribe: ['op', 'path'], stats: ['op'], attach: ['op', 'policy', 'evictAfterMs', 'start'] }[request.op];
  assert.ok(allowed, `a known op, got ${JSON.stringify(request)}`);
  assert.ok(keys.every((k) => allowed.includes(k)), `only ${allowed.join(', ')}: ${JSON.stringify(request)}`);
  if (request.op === 'stats') return;
  if (request.op === 'attach') {
    if ('policy' in request) assert.ok((POLICIES as readonly unknown[]).includes(request.policy), `a policy: ${request.policy}`);
    if ('start' in request) assert.ok(['latest', 'earliest'].includes(request.start!), `a start: ${request.start}`);
    return;
  }
  assert.equal(typeof request.path, 'string');
  assert.match(request.path, /^[/@]/, 'a path is spelled with / or @');
  assert.equal(socketAddressProblem(request.path), null, `a usable path: ${JSON.stringify(request.path)}`);
  if (request.op === 'unsubscribe') return;
  if ('policy' in request) assert.ok((POLICIES as readonly unknown[]).includes(request.policy), `a policy: ${request.policy}`);
  if ('evictAfterMs' in request) {
    assert.ok(Number.isSafeInteger(request.evictAfterMs) && request.evictAfterMs! >= 1, `evictAfterMs: ${request.evictAfterMs}`);
    assert.ok(request.policy === undefined || request.policy === 'evict', 'evictAfterMs only with evict');
  }
}

test(`the control-request parser returns a well-formed request or a coded MsgmuxError, for ${COUNT} generated inputs`, (t) => {
  t.diagnostic(`seed ${SEED} (replay with MSGMUX_FUZZ_SEED=${SEED})`);
  const r = mulberry32(SEED);
  const seenCodes = new Set<string>();
  const seenOps = new Set<string>();
  for (let i = 0; i < COUNT; i++) {
    const { kind, bytes, expect } = cases[i % cases.length](r);
    const where = `input ${i} (${kind}, seed ${SEED}): ${JSON.stringify(Buffer.from(bytes).toString('latin1').slice(0, 200))}`;
    let request: ControlRequest;
    try {
      request = parseControlRequest(bytes);
    } catch (err) {
      assert.ok(err instanceof MsgmuxError, `${where}: threw ${String(err)}, not a MsgmuxError`);
      assert.ok(CODES.has(err.code), `${where}: code ${err.code} is not in ERROR_CODES`);
      assert.match(err.message, /\S/, `${where}: the error says what was wrong`);
      assert.equal(expect, undefined, `${where}: a request built from valid parts was refused: ${err.message}`);
      seenCodes.add(err.code);
      continue;
    }
    assertWellFormed(request);
    if (expect) assert.deepEqual(request, expect, where);
    seenOps.add(request.op);
  }
  // The generator reaches every outcome, so a change that makes it miss a branch shows up here.
  const parserCodes = [CONTROL_ERROR.BAD_REQUEST, CONTROL_ERROR.UNKNOWN_OP, CONTROL_ERROR.PATH_TOO_LONG, CONTROL_ERROR.REQUEST_TOO_LARGE];
  assert.deepEqual([...seenCodes].sort(), [...parserCodes].sort(), `seed ${SEED}: every refusal code was produced`);
  assert.deepEqual([...seenOps].sort(), ['stats', 'subscribe', 'unsubscribe'], `seed ${SEED}: every op was parsed`);
});
