/** The operations pieces that need no daemon: listen addresses, metrics text, the watch view, reload plans, sd_notify env. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, validateConfig, type DaemonConfig } from '../src/config';
import type { DaemonStats } from '../src/daemon/daemon';
import { formatListenAddress, parseListenAddress } from '../src/ops/listen-address';
import { createMetrics } from '../src/ops/metrics';
import { ControlTally } from '../src/ops/control-tally';
import { holdingBack, rates, ringFill } from '../src/ops/snapshot';
import { planReload } from '../src/ops/reload';
import { notifyMessage, readNotifyEnv } from '../src/ops/sd-notify';
import { lagBar, renderLine, renderScreen } from '../src/cli/stats-view';

function snapshot(over: Partial<DaemonStats> = {}): DaemonStats {
  return {
    ingested: 0,
    ingest: 'reading',
    queue: { name: '/q', depth: 10, messageSize: 8192, waiting: 0 },
    ring: { capacity: 1000, written: 0 },
    totals: { delivered: 0, droppedByPolicy: 0, undelivered: 0, tooLarge: 0 },
    sinks: [],
    control: { requests: {}, refusals: {} },
    packing: null,
    ...over,
  };
}
const sink = (path: string, over: Partial<DaemonStats['sinks'][number]> = {}): DaemonStats['sinks'][number] => ({
  path, kind: 'dynamic', policy: 'block', framing: 'plain', header: false, reachable: true,
  delivered: 0, dropped: 0, droppedByPolicy: 0, undelivered: 0, tooLarge: 0, lag: 0, ...over,
});

test('listen addresses: a bare port is loopback; hosts are IP literals or localhost; bad ones say why', () => {
  assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseListenAddress('localhost:1'), { host: 'localhost', port: 1 });
  assert.equal(formatListenAddress({ host: '::1', port: 9 }), '[::1]:9');
  for (const [bad, says] of [['70000', 'port 70000'], ['example.com:80', 'not an IPv4'], ['[1.2.3.4]:80', 'not an IPv6'], ['::1:80', 'must be PORT'], ['', 'must be PORT']]) {
    const r = parseListenAddress(bad);
    assert.ok('problem' in r && r.problem.includes(says), `${bad}: ${JSON.stringify(r)}`);
  }
});

test('config: metrics is canonical, a bad one names config.metrics', () => {
  assert.equal(validateConfig({ metrics: 9464 }).metrics, '127.0.0.1:9464');
  assert.equal(validateConfig({}).metrics, null);
  assert.throws(() => validateConfig({ metrics: 'nowhere:x' }), /config\.metrics must be PORT/);
});

test('metrics: counters and gauges come from the snapshot; a sink that went away loses its series', async () => {
  let current = snapshot({
    ingested: 42,
    queue: { name: '/q', depth: 10, messageSize: 8192, waiting: 3 },
    sinks: [sink('@a', { delivered: 40, dropped: 2, lag: 100 }), sink('/run/b.sock', { kind: 'static', policy: 'drop', reachable: false, lag: 900 })],
    control: { requests: { stats: 5, invalid: 1 }, refusals: { ERR_MSGMUX_BAD_REQUEST: 1 } },
  });
  const metrics = createMetrics(() => current);
  const text = await metrics.scrape();
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  assert.equal(value('msgmux_messages_ingested_total'), 42);
  assert.equal(value('msgmux_queue_waiting_messages'), 3);
  assert.equal(value('msgmux_sink_delivered_messages_total{sink="@a",kind="dynamic"}'), 40);
  assert.equal(value('msgmux_sink_dropped_messages_total{sink="@a",kind="dynamic"}'), 2);
  assert.equal(value('msgmux_sink_reachable{sink="/run/b.sock",kind="static"}'), 0);
  assert.equal(value('msgmux_ring_used_bytes'), 100, 'a drop sink does not hold the ring');
  assert.equal(value('msgmux_control_requests_total{op="stats"}'), 5);
  assert.equal(value('msgmux_control_refusals_total{code="ERR_MSGMUX_BAD_REQUEST"}'), 1);
  assert.equal(value('msgmux_ingest_state{state="reading"}'), 1);
  assert.match(text, /# TYPE msgmux_messages_ingested_total counter/);
  assert.match(text, /^msgmux_process_resident_memory_bytes \d+/m);

  current = snapshot({ ingested: 43, sinks: [sink('@a', { delivered: 41 })] });
  const later = await metrics.scrape();
  assert.ok(!later.includes('/run/b.sock'), 'the removed sink has no series left');
  assert.match(later, /^msgmux_sink_delivered_messages_total\{sink="@a",kind="dynamic"\} 41$/m);
});

test('control tally: unknown ops are "invalid"; codes are bounded', () => {
  const tally = new ControlTally();
  tally.request('stats');
  tally.request('frobnicate');
  tally.request(undefined);
  for (let i = 0; i < 100; i++) tally.refusal(`E${i}`);
  const { requests, refusals } = tally.snapshot();
  assert.deepEqual(requests, { stats: 1, invalid: 2 });
  assert.equal(Object.keys(refusals).length, 65);
  assert.equal(refusals.other, 36);
});

test('snapshot reading: rates per second, the gating sink that holds the bus back', () => {
  const prev = snapshot({ ingested: 100, sinks: [sink('@a', { delivered: 100 }), sink('@b', { delivered: 50, policy: 'drop' })] });
  const cur = snapshot({
    ingested: 300,
    sinks: [sink('@a', { delivered: 250, lag: 10 }), sink('@b', { delivered: 60, policy: 'drop', lag: 500 }), sink('@c', { policy: 'evict', lag: 40 })],
  });
  const r = rates(prev, cur, 2);
  assert.equal(r.ingested, 100);
  assert.deepEqual(r.sinks.get('@a'), { delivered: 75, dropped: 0 });
  assert.equal(r.sinks.get('@c'), undefined, 'a new sink has no rate yet');
  assert.equal(holdingBack(cur)?.path, '@c');
  assert.equal(ringFill(cur), 40);
  assert.equal(holdingBack(prev), null);
});

test('watch view: the piped line and the screen show rates, lag against the ring and who holds the bus back', () => {
  const prev = snapshot({ ingested: 10, sinks: [sink('@a', { delivered: 10 })] });
  const cur = snapshot({ ingested: 30, sinks: [sink('@a', { delivered: 20, lag: 500 }), sink('/run/s', { kind: 'static', reachable: false })] });
  const line = renderLine(prev, cur, 2);
  assert.equal(line, 'ingested 30 (10/s) waiting 0 ring 50% | @a 20 (5.0/s) dropped 0 (0/s) lag 50% | /run/s absent 0 (-/s) dropped 0 (-/s) lag 0% | held back by @a');
  assert.match(renderLine(null, cur, 1), /^ingested 30 \(-\/s\)/);
  const screen = renderScreen(prev, cur, 2);
  assert.match(screen, /ingested 30 {3}10\/s/);
  assert.match(screen, /held back by: @a \(block, lag 500 B\)/);
  assert.match(screen, /^@a +dynamic +block +20 +5\.0 +0 +0 +\[#{5} {5}\] +50%$/m);
  assert.match(screen, /^\/run\/s \(absent\) +static/m);
  assert.equal(lagBar(1, 1000), '[#         ]   0%');
  assert.match(renderScreen(null, snapshot(), 1), /no sinks/);
});

test('reload plan: sinks added, removed and changed; restart-only fields keep their running value', () => {
  const running: DaemonConfig = validateConfig({ sinks: [{ path: '/run/a' }, { path: '/run/b' }, { path: '/mq-c', kind: 'mq' }] });
  const next: DaemonConfig = validateConfig({
    queue: '/other',
    ringSize: '16M',
    evictAfterMs: 100,
    sinks: [{ path: '/run/a' }, { path: '/run/b', policy: 'drop' }, { path: '/run/d' }],
  });
  const plan = planReload(running, next);
  assert.deepEqual(plan.remove.map((s) => s.path), ['/run/b', '/mq-c']);
  assert.deepEqual(plan.add.map((s) => `${s.path}:${s.policy}`), ['/run/b:drop', '/run/d:block']);
  assert.deepEqual(plan.applied, ['evictAfterMs']);
  assert.deepEqual(plan.needsRestart.sort(), ['queue', 'ringSize']);
  assert.equal(plan.config.queue, DEFAULT_CONFIG.queue);
  assert.equal(plan.config.ringSize, DEFAULT_CONFIG.ringSize);
  assert.equal(plan.config.evictAfterMs, 100);
  assert.deepEqual(plan.config.sinks, next.sinks);
  const none = planReload(running, running);
  assert.equal(none.add.length + none.remove.length + none.applied.length + none.needsRestart.length, 0);
});

test('sd_notify env: nothing without NOTIFY_SOCKET; the watchdog is half WATCHDOG_USEC and only for its pid', () => {
  assert.equal(readNotifyEnv({}, 7), null);
  assert.equal(readNotifyEnv({ NOTIFY_SOCKET: 'vsock:2:5' }, 7), null);
  assert.deepEqual(readNotifyEnv({ NOTIFY_SOCKET: '@sd' }, 7), { socket: '@sd', watchdogMs: null });
  assert.deepEqual(readNotifyEnv({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '2000000' }, 7), { socket: '/run/n', watchdogMs: 1000 });
  assert.deepEqual(readNotifyEnv({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' }, 7), { socket: '/run/n', watchdogMs: 1000 });
  assert.deepEqual(readNotifyEnv({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '8' }, 7), { socket: '/run/n', watchdogMs: null });
  assert.equal(notifyMessage({ READY: 1, STATUS: 'a\nb' }), 'READY=1\nSTATUS=a b');
});
