/**
 * The daemon's threads wait without timeouts (doorbells, wake words), so a
 * wait must end when the daemon asks: a sink worker blocked on a socket that
 * is never read ends on unsubscribe and on shutdown, and ingest, blocked on a
 * full ring behind it, lets the daemon stop at its drain deadline. Nothing
 * the other sinks were given is lost. And the main thread, which no longer
 * wakes every second to look, still logs what a sink found too large.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MessageQueue } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { daemonSetup, lines, logged, statsWhen, uniqueName, type DaemonSetup, type Proc } from './helpers/daemon';

const N = 3000;
/** Bounds a wait that would otherwise last for good, so the test fails instead of hanging. */
const HANG_MS = 30_000;

const publisher = (setup: DaemonSetup, messages: string[]): Proc =>
  setup.run(['pub', '--queue', setup.queue], { input: messages.map((m) => m + '\n').join('') });

const within = <T>(what: string, promise: Promise<T>): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} never happened`)), HANG_MS).unref())]);

/** A daemon with a small ring, a `--hang` block sink and a healthy one, and a publisher held back by the hung sink. */
async function heldBack(setup: DaemonSetup, extra: string[] = []) {
  const { control } = setup;
  const daemon = await setup.startDaemon(['--ring-size', '64K', '--no-packing', ...extra]);
  const hung = `@${uniqueName('hung')}`;
  await setup.startSink(['--bind', hung, '--register', control, '--hang']);
  const healthy = await setup.startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', String(N)]);
  const messages = lines('m', N, 100);
  const pub = publisher(setup, messages);
  // The hung sink's socket, then the ring, then the queue fill: its worker waits for room, ingest for the ring.
  await statsWhen(control, 'the hung sink to hold the bus', (s) =>
    s.ingest === 'waiting for the slowest sink' && s.queue.waiting === s.queue.depth && s.sinks.some((sink) => sink.path === hung && sink.lag > 32 << 10));
  assert.equal(pub.child.exitCode, null, 'the publisher is held back');
  return { daemon, hung, healthy, messages, pub };
}

test('a block sink blocked on a socket that is never read ends on unsubscribe; the others then get everything', async (t) => {
  const setup = daemonSetup(t);
  const { daemon, hung, healthy, messages, pub } = await heldBack(setup);

  // Its worker waits in poll with no timeout: only the stop's doorbell can end that wait, and the reply waits for it.
  const reply = await within('the unsubscribe reply', controlCall(setup.control, { op: 'unsubscribe', path: hung }, { timeoutMs: HANG_MS }));
  assert.equal(reply.ok, true, JSON.stringify(reply));
  const ended = JSON.parse(await daemon.waitFor(logged('sink stopped'), 'the hung sink to stop')) as { sink: string };
  assert.equal(ended.sink, hung);

  assert.equal(await pub.exited, 0);
  assert.deepEqual((await healthy.result()).received, messages);
  const stats = await statsWhen(setup.control, 'everything to be counted', (s) => s.sinks.length === 1 && s.sinks[0].delivered === N);
  assert.equal(stats.sinks[0].dropped, 0);
  assert.equal(await daemon.stop(), 0);
});

test('SIGTERM while a block sink and ingest wait for room: the daemon stops at its drain deadline and says what it left', async (t) => {
  const setup = daemonSetup(t);
  const config = path.join(setup.dir, 'msgmux.json');
  writeFileSync(config, JSON.stringify({ drainTimeoutMs: 500 }));
  const { daemon } = await heldBack(setup, ['--config', config]);

  daemon.child.kill('SIGTERM');
  // The hung sink never takes what it holds, so the drain runs to its deadline; then the sink's doorbell and the ring's writer are woken.
  // Exit 1: ingest had taken a batch off the queue that never found room, and says so.
  assert.equal(await within('the daemon exiting', daemon.exited), 1);
  const stopped = JSON.parse(daemon.stderr.find(logged('stopped; the drain deadline passed'))!) as { ingested: number; abandoned: number; queueWaiting: number };
  assert.ok(stopped.abandoned > 0, `ingest gave up the batch it held: ${JSON.stringify(stopped)}`);
  assert.ok(stopped.ingested > 0 && stopped.ingested + stopped.abandoned + stopped.queueWaiting <= N, JSON.stringify(stopped));
  assert.ok(daemon.stderr.some(logged('sink stopped')), 'the hung sink was stopped, not left behind');
});

test('messages too large for a running sink are logged while it runs, though no timer looks for them', async (t) => {
  const setup = daemonSetup(t);
  // An mq sink whose queue (made here, first) takes 16-byte messages: every 100-byte message is EMSGSIZE for it.
  const small = `/${uniqueName('small')}`;
  setup.queues.push(small);
  MessageQueue.open(small, { create: true, read: false, write: true, depth: 4, messageSize: 16 }).close();
  const config = path.join(setup.dir, 'msgmux.json');
  writeFileSync(config, JSON.stringify({ sinks: [{ path: small, kind: 'mq' }] }));
  const daemon = await setup.startDaemon(['--config', config, '--no-packing']);
  const witness = await setup.startSink(['--bind', `@${uniqueName('witness')}`, '--register', setup.control, '--expect', '3']);
  const messages = lines('m', 3, 100);
  assert.equal(await publisher(setup, messages).exited, 0);
  assert.deepEqual((await witness.result()).received, messages);

  // Said as they are counted, at most a line a second: the last line's total covers all three.
  const tooLarge = (line: string): { sink?: string; total?: number } | null => {
    try {
      const parsed = JSON.parse(line) as { msg?: string; sink?: string; total?: number };
      return parsed.msg?.includes('were larger than sink') ? parsed : null;
    } catch {
      return null;
    }
  };
  const line = tooLarge(await daemon.waitFor((l) => tooLarge(l)?.total === 3, 'the too-large log lines'))!;
  assert.equal(line.sink, small);
  assert.equal(await daemon.stop(), 0);
});
