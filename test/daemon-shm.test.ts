/**
 * The daemon's ring in shared memory (--shm): real daemon, reader processes
 * attached over the control socket, real /dev/shm files (removed even when a
 * test fails).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ErrorCode } from '../src/errors';
import { daemonSetup, daemonStats, lines, publish, run, statsWhen, uniqueName, type DaemonSetup, type Proc } from './helpers/daemon';
import { metricsAddress, scrape, series } from './helpers/metrics';

const ATTACH = path.join(__dirname, 'fixtures', 'shm-attach.js');

/** A unique ring name for this test; its files (ring and cursor files) are removed at the end, whatever happened. */
function ringName(t: { after(fn: () => void): void }): string {
  const name = uniqueName('ring');
  t.after(() => {
    for (const file of readdirSync('/dev/shm')) if (file.startsWith(name)) rmSync(path.join('/dev/shm', file), { force: true });
  });
  return `/${name}`;
}

function attach(setup: DaemonSetup, args: string[]): Promise<Proc> {
  const proc = run(ATTACH, args);
  setup.procs.push(proc);
  return proc.waitFor((line) => line === 'attached', 'the reader to attach').then(() => proc);
}

const resultOf = async (proc: Proc): Promise<{ received: string[] }> => {
  const code = await proc.exited;
  assert.equal(code, 0, proc.stderr.join('\n'));
  return JSON.parse(proc.stdout.find((line) => line.startsWith('{'))!) as { received: string[] };
};

test('reader processes attached through the daemon get every published message, in order', async (t) => {
  const setup = daemonSetup(t);
  const ring = ringName(t);
  const daemon = await setup.startDaemon(['--shm', ring]);
  const messages = lines('m', 3000, 40);
  const readers = [await attach(setup, ['read', setup.control, String(messages.length)]), await attach(setup, ['read', setup.control, String(messages.length)])];
  const stats = await daemonStats(setup.control);
  assert.equal(stats.shm?.name, ring);
  assert.equal(stats.shm?.readers.length, 2);
  await publish(setup.queue, messages);
  for (const reader of readers) assert.deepEqual((await resultOf(reader)).received, messages);
  await statsWhen(setup.control, 'closed readers to be swept', (s) => s.shm?.readers.length === 0);
  assert.equal(await daemon.stop(), 0);
  assert.deepEqual(readdirSync('/dev/shm').filter((file) => file.startsWith(ring.slice(1))), [], 'the ring file is removed at stop');
});

test('a SIGKILLed attached reader stops gating at once and its slot is reused', async (t) => {
  const setup = daemonSetup(t);
  const ring = ringName(t);
  await setup.startDaemon(['--shm', ring, '--ring-size', '64K', '--max-message', '1024']);
  const stalled = await attach(setup, ['stall', setup.control]);
  const [first] = (await daemonStats(setup.control)).shm!.readers;
  const backlog = lines('x', 2000, 100); // several rings full
  const publisher = setup.run(['pub', '--queue', setup.queue], { input: backlog.map((line) => line + '\n').join('') });
  await statsWhen(setup.control, 'the stalled reader to gate ingest', (s) => s.ingest === 'waiting for the slowest sink');

  stalled.child.kill('SIGKILL');
  // Gone at once: with no reader left, ingest waits for one (not for the slowest), the rest stays queued.
  await statsWhen(setup.control, 'the dead reader to stop gating', (s) => s.shm?.readers.length === 0 && s.ingest === 'waiting for a sink');

  const fresh = lines('y', 100);
  const next = await attach(setup, ['until', setup.control, fresh.at(-1)!]);
  const [second] = (await daemonStats(setup.control)).shm!.readers;
  assert.equal(second.readerSlot, first.readerSlot, 'the slot is reused');
  assert.equal(await publisher.exited, 0, 'the backlog flows again');
  await publish(setup.queue, fresh);
  const { received } = await resultOf(next);
  // It joined at `latest` while the backlog was queued: it gets the backlog's tail, in order, then the rest.
  const fromBacklog = received.slice(0, received.length - fresh.length);
  assert.ok(fromBacklog.length > 0, 'the queued backlog reaches the new reader');
  assert.deepEqual(fromBacklog, backlog.slice(backlog.length - fromBacklog.length));
  assert.deepEqual(received.slice(fromBacklog.length), fresh);
});

test('metrics: one series per attached reader (delivered, lag behind the writer) and the count of readers, moving as they read, stall and go', async (t) => {
  const setup = daemonSetup(t);
  const ring = ringName(t);
  const daemon = await setup.startDaemon(['--shm', ring, '--metrics', '127.0.0.1:0']);
  const address = await metricsAddress(daemon);
  const messages = lines('m', 50, 40);
  const reading = await attach(setup, ['hold', setup.control, String(messages.length)]);
  const stalled = await attach(setup, ['stall', setup.control]);
  const slots = (await daemonStats(setup.control)).shm!.readers;
  const labelsOf = (proc: Proc): string => {
    const reader = slots.find((r) => r.pid === proc.child.pid)!;
    return `{slot="${reader.readerSlot}",pid="${reader.pid}",policy="block"}`;
  };
  const [readingLabels, stalledLabels] = [labelsOf(reading), labelsOf(stalled)];

  const before = await scrape(address);
  assert.equal(series(before, 'msgmux_shm_readers'), 2);
  for (const labels of [readingLabels, stalledLabels]) {
    assert.equal(series(before, `msgmux_shm_reader_delivered_messages_total${labels}`), 0, labels);
    assert.equal(series(before, `msgmux_shm_reader_lag_bytes${labels}`), 0, labels);
  }

  await publish(setup.queue, messages);
  await reading.waitFor((line) => line === `read ${messages.length}`, 'the reader to read every message');
  const stats = await statsWhen(setup.control, 'the reader to report what it read', (s) => s.shm?.readers.find((r) => r.pid === reading.child.pid)?.delivered === messages.length);
  const after = await scrape(address);
  assert.equal(series(after, 'msgmux_shm_readers'), 2);
  assert.equal(series(after, `msgmux_shm_reader_delivered_messages_total${readingLabels}`), messages.length);
  assert.equal(series(after, `msgmux_shm_reader_lag_bytes${readingLabels}`), 0);
  // The stalled reader read nothing: it is behind by everything written, and that is what the writer cannot reuse.
  assert.equal(series(after, `msgmux_shm_reader_delivered_messages_total${stalledLabels}`), 0);
  const stalledLag = stats.shm!.readers.find((r) => r.pid === stalled.child.pid)!.lag;
  assert.ok(stalledLag >= messages.length * 40, `the stalled reader is behind by every record (${stalledLag} bytes)`);
  assert.equal(series(after, `msgmux_shm_reader_lag_bytes${stalledLabels}`), stalledLag);
  assert.equal(series(after, 'msgmux_ring_used_bytes'), stalledLag);

  stalled.child.kill('SIGKILL');
  await statsWhen(setup.control, 'the killed reader to be taken back', (s) => s.shm?.readers.length === 1);
  const gone = await scrape(address);
  assert.equal(series(gone, 'msgmux_shm_readers'), 1);
  assert.equal(series(gone, `msgmux_shm_reader_lag_bytes${stalledLabels}`), undefined, "a reader's series go with it");
  assert.equal(series(gone, `msgmux_shm_reader_delivered_messages_total${readingLabels}`), messages.length);
  assert.equal(series(gone, 'msgmux_ring_used_bytes'), 0);
});

test('a process of a foreign uid can neither open the ring nor get a slot', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root to run a child as uid 65534');
  const setup = daemonSetup(t);
  const ring = ringName(t);
  await setup.startDaemon(['--shm', ring]);
  const { stdout } = await promisify(execFile)('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ATTACH, 'foreign', setup.control, ring]);
  assert.deepEqual(JSON.parse(stdout), { open: 'EACCES', attach: ErrorCode.NOT_ALLOWED });
  const stats = await daemonStats(setup.control);
  assert.deepEqual(stats.shm?.readers, []);
  assert.equal(stats.control.refusals[ErrorCode.NOT_ALLOWED], 1);
});

test('attach to a daemon without shm is refused with ERR_MSGMUX_NO_SHM', async (t) => {
  const setup = daemonSetup(t);
  await setup.startDaemon();
  const proc = run(ATTACH, ['read', setup.control, '1']);
  setup.procs.push(proc);
  assert.equal(await proc.exited, 1);
  assert.match(proc.stderr.join('\n'), new RegExp(`^${ErrorCode.NO_SHM}: `, 'm'));
});
