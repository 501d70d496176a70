/**
 * Subscriber against a real daemon (unique queue and control names): it
 * receives everything in order, close() unsubscribes, and a missing daemon
 * is ERR_MSGMUX_NO_DAEMON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Publisher, Subscriber } from 'msgmux';
import { cleanup, daemonStats, lines, startDaemon, statsWhen, uniqueName } from './helpers/daemon';

async function daemonFor(t: { after(fn: () => void | Promise<void>): void }) {
  const queue = `/${uniqueName('sub')}`;
  const daemon = await startDaemon(queue, `@${uniqueName('sub-control')}`);
  t.after(async () => {
    await daemon.stop();
    cleanup([daemon], [queue]);
  });
  return daemon;
}

test('a subscriber receives every message in publish order', { timeout: 60_000 }, async (t) => {
  const daemon = await daemonFor(t);
  const subscriber = await Subscriber.connect({ control: daemon.control });
  t.after(() => subscriber.close());
  const publisher = new Publisher({ queue: daemon.queue });
  const expected = lines('message ', 2000);
  for (const m of expected) void publisher.publish(m);
  await publisher.close();

  const received: string[] = [];
  for await (const message of subscriber) {
    received.push(Buffer.from(message).toString());
    if (received.length === expected.length) break;
  }
  assert.deepEqual(received, expected);
  assert.equal(subscriber.truncated, 0);
});

test('close() unsubscribes: the daemon no longer lists the sink, and iteration ends', { timeout: 60_000 }, async (t) => {
  const daemon = await daemonFor(t);
  const subscriber = await Subscriber.connect({ control: daemon.control });
  const listed = (stats: Awaited<ReturnType<typeof daemonStats>>) => stats.sinks.some((s) => s.path === subscriber.name);
  assert.ok(listed(await daemonStats(daemon.control)), 'subscribed');
  await subscriber.close();
  await statsWhen(daemon.control, 'the sink to be removed', (stats) => !listed(stats));
  assert.deepEqual(await subscriber.nextBatch(), []);
  await subscriber.close(); // idempotent
});

test('a subscriber with a maxMessage smaller than a message counts it as truncated', { timeout: 60_000 }, async (t) => {
  const daemon = await daemonFor(t);
  const subscriber = await Subscriber.connect({ control: daemon.control, maxMessage: 4 });
  t.after(() => subscriber.close());
  const publisher = new Publisher({ queue: daemon.queue });
  await publisher.publish('abcdefgh');
  await publisher.publish('ok');
  await publisher.close();
  const received: string[] = [];
  for await (const message of subscriber) {
    received.push(Buffer.from(message).toString());
    if (received.length === 2) break;
  }
  assert.deepEqual(received, ['abcd', 'ok']);
  assert.equal(subscriber.truncated, 1);
});

test('no daemon: connect fails with ERR_MSGMUX_NO_DAEMON', async () => {
  await assert.rejects(Subscriber.connect({ control: `@${uniqueName('absent-control')}` }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_NO_DAEMON');
    assert.match(err.message, /is msgmux running\?/);
    return true;
  });
});
