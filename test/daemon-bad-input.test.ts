/**
 * Bad input against a real daemon: 100,000 random and malformed control
 * datagrams (random bytes, truncated JSON, huge fields, wrong types, unknown
 * ops, paths to files, directories and dead sockets), and a flood of
 * registrations from a uid that is not allowed. The daemon answers each,
 * logs each refusal, keeps serving, and delivery to its sink goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../src/errors';
import { asUser, canSwitchUser, NOBODY, peerScript } from './helpers/as-user';
import { cleanup, logged, run, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';
import type { SequenceReport } from './fixtures/sequence';

const FIXTURES = path.join(__dirname, 'fixtures');
const DATAGRAMS = 100_000;
const FROM_NOBODY = 500;
const MESSAGES = 20_000;

test(`${DATAGRAMS} malformed control datagrams and ${FROM_NOBODY} registrations from a stranger: every one answered and logged, delivery goes on`, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-fuzz-'));
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const peer = peerScript();
  t.after(() => {
    cleanup(procs, [queue]);
    peer.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  // warn: refusals are logged (one line each), accepted requests are not, so the log is the refusals.
  const daemon = await startDaemon(queue, control, ['--max-message', '256', '--log-level', 'warn']);
  procs.push(daemon);
  const sink = run(path.join(FIXTURES, 'sequence-sink.js'), [
    '--bind', `@${uniqueName('sink')}`, '--register', control, '--per-publisher', String(MESSAGES), '--expect', String(MESSAGES), '--idle', '60000',
  ]);
  procs.push(sink);
  await sink.waitFor((line) => line === 'ready', 'the sink');
  const publisher = run(path.join(FIXTURES, 'sequence-publisher.js'), [queue, '0', String(MESSAGES)]);
  procs.push(publisher);

  const fuzz = run(path.join(FIXTURES, 'fuzz-control.js'), [control, String(DATAGRAMS), '20261201', dir]);
  procs.push(fuzz);
  const stranger = canSwitchUser
    ? asUser(NOBODY, peer.file, {
        bind: `@${uniqueName('stranger')}`,
        control,
        requests: Array.from({ length: FROM_NOBODY }, (_, k) => ({ op: 'subscribe', path: k % 2 ? `@${uniqueName('x')}` : '/tmp' })),
      })
    : null;

  assert.equal(await fuzz.exited, 0, fuzz.stderr.join('\n'));
  const result = JSON.parse(fuzz.stdout.pop()!) as { sent: number; replies: number; lost: number; codes: Record<string, number> };
  t.diagnostic(`replies by code: ${JSON.stringify(result.codes)}`);
  assert.equal(result.replies, DATAGRAMS, 'every datagram was answered');
  assert.equal(result.lost, 0);
  for (const code of [ErrorCode.BAD_REQUEST, ErrorCode.REQUEST_TOO_LARGE, ErrorCode.UNKNOWN_OP, ErrorCode.PATH_TOO_LONG, ErrorCode.NOT_SUBSCRIBED]) {
    assert.ok((result.codes[code] ?? 0) > 0, `some were refused with ${code}`);
  }
  assert.equal(result.codes[ErrorCode.INTERNAL], undefined, 'no input reached an unexpected error');
  const refusedByFuzz = DATAGRAMS - (result.codes.ok ?? 0);

  let refusedStranger = 0;
  if (stranger) {
    const got = await stranger;
    assert.deepEqual(new Set(got.replies.map((r) => r?.error?.code)), new Set([ErrorCode.NOT_ALLOWED]), 'the stranger is refused every time');
    refusedStranger = got.replies.length;
  }

  assert.equal(await publisher.exited, 0);
  assert.equal(await sink.exited, 0);
  const report = JSON.parse(sink.stdout.pop()!) as SequenceReport;
  assert.deepEqual(report, { received: MESSAGES, distinct: [MESSAGES], duplicated: 0, reordered: 0, malformed: 0 }, 'delivery went on');

  // The sink has exited; its deliveries stay in the totals, and no fuzzed path became a sink.
  const stats = await statsWhen(control, 'the deliveries to be counted and the exited sink reaped', (s) => s.totals.delivered === MESSAGES && s.sinks.length === 0);
  assert.equal(stats.totals.undelivered, 0);
  const refusalsLogged = daemon.stderr.filter(logged('control request refused')).length;
  assert.equal(refusalsLogged, refusedByFuzz + refusedStranger, 'every refusal was logged');
  assert.equal(await daemon.stop(), 0);
});
