/**
 * The control protocol against a real daemon process: bare-path and JSON
 * requests, their replies, stats, malformed input, the admission limit, a
 * config error, a sender with no address, and the control socket's own
 * life: taken addresses, stale files, and no thread of its own. Sinks are
 * separate processes.
 *
 * To prove a sink got nothing more after it left, it expects exactly one
 * message beyond what it should have: a probe the test sends it directly
 * once the daemon has exited, so the probe lands after anything the daemon
 * ever sent it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { DgramSocket, MessageQueue } from 'msgmux/native';
import { controlRequest } from '../src/control-client';
import type { ControlReply } from '../src/control-protocol';
import type { DaemonStats } from '../src/daemon/daemon';
import { daemonSetup, daemonStats as stats, eventually, HANG_MS, publish, run, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';
import { resourcesOf } from './helpers/resources';

/** A safety bound for sinks that exit on --expect; no assertion depends on it. */
const SINK_IDLE_MS = String(HANG_MS);

type SinkRow = Pick<DaemonStats['sinks'][number], 'path' | 'kind' | 'policy' | 'delivered' | 'dropped' | 'lag'>;

/** The stats fields the protocol promises, sinks sorted by path. */
const sinkRows = (reply: DaemonStats): SinkRow[] =>
  reply.sinks
    .map(({ path: p, kind, policy, delivered, dropped, lag }) => ({ path: p, kind, policy, delivered, dropped, lag }))
    .sort((a, b) => a.path.localeCompare(b.path));

const row = (p: string, policy: SinkRow['policy'], delivered: number): SinkRow => ({ path: p, kind: 'dynamic', policy, delivered, dropped: 0, lag: 0 });

function assertOk(reply: ControlReply, expected: Record<string, unknown>): void {
  assert.equal(reply.ok, true, `expected ok, got ${JSON.stringify(reply)}`);
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, (reply as Record<string, unknown>)[key]]));
  assert.deepEqual(picked, expected);
}

function assertRefused(reply: ControlReply, code: string, label: string): void {
  assert.equal(reply.ok, false, `${label}: expected a refusal, got ${JSON.stringify(reply)}`);
  if (reply.ok) return;
  assert.equal(reply.error.code, code, `${label}: ${reply.error.message}`);
  assert.match(reply.error.message, /\S/, `${label}: the refusal explains itself`);
}

/** The daemon's pino log entries whose msg is exactly `msg`. */
function logEntries(proc: Proc, msg: string): Record<string, unknown>[] {
  return proc.stderr.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.msg === msg ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** Sends one datagram straight to a sink, from an unbound socket. */
function sendDirect(address: string, text: string): void {
  const socket = new DgramSocket();
  try {
    socket.send(Buffer.from(text), address);
  } finally {
    socket.close();
  }
}

const jsonPaddedTo = (bytes: number, request: object): Buffer => {
  const json = JSON.stringify(request);
  return Buffer.from(json + ' '.repeat(bytes - Buffer.byteLength(json)));
};

test('bare path, NUL-prefixed path and JSON subscribe are acknowledged; unsubscribe stops delivery; stats count it all', async (t) => {
  const { queue, control, startDaemon, startSink } = daemonSetup(t);
  const bareName = `@${uniqueName('bare')}`;
  const nulName = `@${uniqueName('nul')}`;
  const jsonName = `@${uniqueName('json')}`;
  const first = ['one', 'two', 'three'];
  const second = ['four', 'five'];

  const daemon = await startDaemon();
  const sinkArgs = (name: string, expect: number) => ['--bind', name, '--expect', String(expect), '--idle', SINK_IDLE_MS];
  const bare = await startSink(sinkArgs(bareName, first.length + second.length));
  const nul = await startSink(sinkArgs(nulName, first.length + second.length));
  const leaving = await startSink(sinkArgs(jsonName, first.length + 1));

  assertOk(await controlRequest(control, Buffer.from(bareName)), { op: 'subscribe', path: bareName, existing: false });
  const nulForm = Buffer.from('\0' + nulName.slice(1));
  assertOk(await controlRequest(control, nulForm), { op: 'subscribe', path: nulName, existing: false });
  const subscribeJson = { op: 'subscribe', path: jsonName, policy: 'drop' };
  assertOk(await controlRequest(control, subscribeJson), { op: 'subscribe', path: jsonName, existing: false });
  assertOk(await controlRequest(control, subscribeJson), { op: 'subscribe', path: jsonName, existing: true });

  await publish(queue, first);
  const afterFirst = await statsWhen(control, 'all three sinks to have taken the first batch', (s) =>
    s.sinks.length === 3 && s.sinks.every((sink) => sink.delivered === first.length),
  );
  assert.equal(afterFirst.ingested, first.length);
  assert.deepEqual(sinkRows(afterFirst), [row(bareName, 'block', 3), row(jsonName, 'drop', 3), row(nulName, 'block', 3)].sort((a, b) => a.path.localeCompare(b.path)));

  assertOk(await controlRequest(control, { op: 'unsubscribe', path: jsonName }), { op: 'unsubscribe', path: jsonName });
  assertRefused(await controlRequest(control, { op: 'unsubscribe', path: jsonName }), 'ERR_MSGMUX_NOT_SUBSCRIBED', 'unsubscribing twice');

  await publish(queue, second);
  assert.deepEqual((await bare.result()).received, [...first, ...second]);
  assert.deepEqual((await nul.result()).received, [...first, ...second]);
  const afterSecond = await statsWhen(control, 'both remaining sinks to count the second batch', (s) => s.sinks.every((sink) => sink.delivered === 5));
  assert.equal(afterSecond.ingested, first.length + second.length);
  assert.deepEqual(sinkRows(afterSecond), [row(bareName, 'block', 5), row(nulName, 'block', 5)].sort((a, b) => a.path.localeCompare(b.path)));

  assert.equal(await daemon.stop(), 0);
  sendDirect(jsonName, 'probe');
  assert.deepEqual((await leaving.result()).received, [...first, 'probe'], 'the unsubscribed sink got nothing after it left');
});

test('malformed requests each get their documented error and a log line; the daemon keeps serving', async (t) => {
  const { queue, control, startDaemon, startSink } = daemonSetup(t);
  const witnessName = `@${uniqueName('witness')}`;

  const daemon = await startDaemon();
  const witness = await startSink(['--bind', witnessName, '--register', control, '--expect', '1', '--idle', SINK_IDLE_MS]);

  const garbage = randomBytes(512);
  garbage[0] = 0xfe; // never valid in UTF-8, so this can never parse as a path by chance
  const refusals: [label: string, request: Uint8Array | object, code: string][] = [
    ['random bytes', garbage, 'ERR_MSGMUX_BAD_REQUEST'],
    ['an empty datagram', Buffer.alloc(0), 'ERR_MSGMUX_BAD_REQUEST'],
    ['text that is neither a path nor JSON', Buffer.from('hello daemon'), 'ERR_MSGMUX_BAD_REQUEST'],
    ['bad JSON', Buffer.from('{"op":"subscribe","path":'), 'ERR_MSGMUX_BAD_REQUEST'],
    ['a JSON array', Buffer.from('[{"op":"stats"}]'), 'ERR_MSGMUX_BAD_REQUEST'],
    ['an unknown op', { op: 'publish', path: witnessName }, 'ERR_MSGMUX_UNKNOWN_OP'],
    ['a subscribe without a path', { op: 'subscribe' }, 'ERR_MSGMUX_BAD_REQUEST'],
    ['a path that is not a string', { op: 'unsubscribe', path: 42 }, 'ERR_MSGMUX_BAD_REQUEST'],
    ['a policy that does not exist', { op: 'subscribe', path: witnessName, policy: 'fast' }, 'ERR_MSGMUX_BAD_REQUEST'],
    ['an unknown field', { op: 'stats', verbose: true }, 'ERR_MSGMUX_BAD_REQUEST'],
    ['a bare abstract name of 108 bytes', Buffer.from('@' + 'a'.repeat(108)), 'ERR_MSGMUX_PATH_TOO_LONG'],
    ['a filesystem path of 121 bytes', { op: 'subscribe', path: '/' + 'd'.repeat(120) }, 'ERR_MSGMUX_PATH_TOO_LONG'],
    ['an abstract name nobody listens on', { op: 'subscribe', path: `@${uniqueName('nobody')}` }, 'ERR_MSGMUX_UNREACHABLE'],
    ['a filesystem path that does not exist', Buffer.from(path.join(tmpdir(), `${uniqueName('absent')}.sock`)), 'ERR_MSGMUX_UNREACHABLE'],
    ['a datagram of 4097 bytes', jsonPaddedTo(4097, { op: 'stats' }), 'ERR_MSGMUX_REQUEST_TOO_LARGE'],
  ];
  for (const [label, request, code] of refusals) {
    assertRefused(await controlRequest(control, request), code, label);
  }
  assertOk(await controlRequest(control, jsonPaddedTo(4096, { op: 'stats' })), { op: 'stats' });

  const refusedCodes = async () => {
    const codes = logEntries(daemon, 'control request refused').map((entry) => entry.code);
    return codes.length >= refusals.length ? codes : undefined;
  };
  assert.deepEqual(await eventually('a log line per refused request', refusedCodes), refusals.map(([, , code]) => code));

  const after = await stats(control);
  assert.deepEqual(after.sinks.map((sink) => sink.path), [witnessName], 'refused subscribes left no sink behind');
  await publish(queue, ['still serving']);
  assert.deepEqual((await witness.result()).received, ['still serving']);
  assert.equal(await daemon.stop(), 0);
});

test('maxSinks from --config: a second subscribe is refused with ERR_MSGMUX_SINK_LIMIT until the first unsubscribes', async (t) => {
  const { queue, control, dir, startDaemon, startSink } = daemonSetup(t);
  const firstName = `@${uniqueName('first')}`;
  const secondName = `@${uniqueName('second')}`;
  const configFile = path.join(dir, 'msgmux.json');
  writeFileSync(configFile, JSON.stringify({ maxSinks: 1 }));

  const daemon = await startDaemon(['--config', configFile]);
  const firstSink = await startSink(['--bind', firstName, '--expect', '1', '--idle', SINK_IDLE_MS]);
  const secondSink = await startSink(['--bind', secondName, '--expect', '1', '--idle', SINK_IDLE_MS]);

  assertOk(await controlRequest(control, { op: 'subscribe', path: firstName }), { op: 'subscribe', path: firstName });
  assertRefused(await controlRequest(control, { op: 'subscribe', path: secondName }), 'ERR_MSGMUX_SINK_LIMIT', 'a sink beyond maxSinks');
  assert.deepEqual((await stats(control)).sinks.map((sink) => sink.path), [firstName]);

  assertOk(await controlRequest(control, { op: 'unsubscribe', path: firstName }), { op: 'unsubscribe', path: firstName });
  assertOk(await controlRequest(control, { op: 'subscribe', path: secondName }), { op: 'subscribe', path: secondName, existing: false });
  await publish(queue, ['after the swap']);
  assert.deepEqual((await secondSink.result()).received, ['after the swap']);

  assert.deepEqual(logEntries(daemon, 'control request refused').map((entry) => entry.code), ['ERR_MSGMUX_SINK_LIMIT']);
  assert.equal(await daemon.stop(), 0);
  sendDirect(firstName, 'probe');
  assert.deepEqual((await firstSink.result()).received, ['probe'], 'the refused-then-removed sink got nothing from the daemon');
});

test('msgmux start with an invalid --config exits non-zero, names each bad field, and creates no queue', async (t) => {
  const { queue, control, dir, run } = daemonSetup(t);
  const configFile = path.join(dir, 'msgmux.json');
  writeFileSync(configFile, JSON.stringify({ maxSinks: 0, sinks: [{ path: path.join(dir, 'static.sock'), policy: 'fast' }] }));

  const daemon = run(['start', '--config', configFile, '--queue', queue, '--control', control]);
  const exited = await Promise.race([daemon.exited, sleep(HANG_MS, `still running after ${HANG_MS} ms`, { ref: false })]);
  const stderr = daemon.stderr.join('\n');
  assert.equal(exited, 1, stderr);
  assert.match(stderr, /config\.sinks\[0\]\.policy must be one of block, drop, evict \(got "fast"\)/);
  assert.match(stderr, /config\.maxSinks must be an integer/);
  assert.match(stderr, /ERR_MSGMUX_CONFIG/);
  assert.throws(() => MessageQueue.open(queue, { read: true }), { code: 'ENOENT' }, 'a refused config creates no queue');
});

test("the daemon's own control socket cannot be subscribed as a sink", async (t) => {
  const { control, startDaemon } = daemonSetup(t);
  const daemon = await startDaemon();

  for (const spelling of [control, `\0${control.slice(1)}`]) {
    const reply = await controlRequest(control, { op: 'subscribe', path: spelling });
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error.code, 'ERR_MSGMUX_BAD_REQUEST');
  }
  const bare = await controlRequest(control, Buffer.from(control));
  assert.equal(!bare.ok && bare.error.code, 'ERR_MSGMUX_BAD_REQUEST');
  assert.deepEqual((await stats(control)).sinks, [], 'no sink was added');
  assert.equal(await daemon.stop(), 0);
});

test('a request from an unbound sender takes effect, though it has no address to answer', async (t) => {
  const { queue, control, dir, startDaemon, startSink } = daemonSetup(t);
  const sinkName = `@${uniqueName('sink')}`;
  const sender = new DgramSocket({ nonBlocking: true });
  t.after(() => sender.close());
  // Served requests are logged at debug.
  const config = path.join(dir, 'debug.json');
  writeFileSync(config, JSON.stringify({ logLevel: 'debug' }));

  const daemon = await startDaemon(['--config', config]);
  const sink = await startSink(['--bind', sinkName, '--expect', '1', '--idle', SINK_IDLE_MS]);

  sender.send(Buffer.from(JSON.stringify({ op: 'subscribe', path: sinkName })), control);
  const registered = await statsWhen(control, 'the sink to be registered', (s) => s.sinks.length === 1);
  assert.deepEqual(sinkRows(registered), [row(sinkName, 'block', 0)]);

  // The daemon logs a request right before it would reply, so once the line is out any reply has been sent.
  const served = await eventually('the request to be logged', async () =>
    logEntries(daemon, 'control request').find((entry) => entry.path === sinkName),
  );
  assert.equal(served.from, null, 'the daemon saw no sender address');
  assert.throws(() => sender.recv(Buffer.alloc(4096)), { code: 'EAGAIN' }, 'no reply reached the unbound sender');

  await publish(queue, ['for the unbound subscriber']);
  assert.deepEqual((await sink.result()).received, ['for the unbound subscriber']);
  assert.equal(await daemon.stop(), 0);
});

test('a control address in use is refused with its code; a stale filesystem socket is replaced, and the file goes at stop', async (t) => {
  const { queue, control, dir, queues, procs, startDaemon: startOwn, run: runCli } = daemonSetup(t);
  const first = await startOwn();
  const otherQueue = `/${uniqueName('q2')}`;
  queues.push(otherQueue);
  const taken = runCli(['start', '--queue', otherQueue, '--control', control]);
  assert.notEqual(await taken.exited, 0);
  assert.match(taken.stderr.join('\n'), new RegExp(`cannot listen on the control socket ${control}: .*\\(EADDRINUSE\\)`));
  assert.equal((await stats(control)).ingest, 'waiting for a sink', 'the first daemon still serves');
  assert.equal(await first.stop(), 0);

  // A socket file left behind by a process that is gone: nobody listens there, so it is replaced.
  const fsControl = path.join(dir, 'control.sock');
  const leftover = new DgramSocket();
  leftover.bind(fsControl);
  leftover.close();
  assert.ok(existsSync(fsControl));
  const daemon = await startDaemon(queue, fsControl);
  procs.push(daemon);
  const live = runCli(['start', '--queue', otherQueue, '--control', fsControl]);
  assert.notEqual(await live.exited, 0, 'a file a daemon listens on is not taken over');
  assert.match(live.stderr.join('\n'), /\(EADDRINUSE\)/);
  assert.equal((await stats(fsControl)).ingest, 'waiting for a sink');
  assert.equal(await daemon.stop(), 0);
  assert.equal(existsSync(fsControl), false, 'the daemon removed its socket file');
});

test("an idle daemon runs one thread more than a bare node, ingest's: the control socket has no thread of its own", async (t) => {
  const { control, procs, startDaemon: startOwn } = daemonSetup(t);
  const bare = run('-e', ["process.stderr.write('ready\\n'); setInterval(() => undefined, 60_000);"]);
  procs.push(bare);
  await bare.waitFor((line) => line === 'ready', 'a bare node to start');
  const daemon = await startOwn();
  assert.deepEqual((await stats(control)).sinks, []);
  assert.equal(resourcesOf(daemon.child.pid!).threads, resourcesOf(bare.child.pid!).threads + 1);
  assert.equal(await daemon.stop(), 0);
});
