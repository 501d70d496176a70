/**
 * Operating a real daemon: Prometheus metrics over HTTP, systemd's notify
 * protocol, SIGHUP reload, and the piped `stats --watch`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DgramSocket } from 'msgmux/native';
import type { DaemonStats } from '../src/daemon/daemon';
import { BIN, ROOT, daemonSetup, eventually, lines, logged, publish, run, statsWhen, uniqueName } from './helpers/daemon';
import { series } from './helpers/metrics';

test('metrics scraped over HTTP match stats --json after a known number of messages; a port in use is refused naming --metrics', async (t) => {
  const setup = daemonSetup(t);
  const { queue, control, startDaemon, startSink } = setup;
  const other = { queue: `/${uniqueName('q')}`, control: `@${uniqueName('ctl')}` };
  setup.queues.push(other.queue);
  const daemon = await startDaemon(['--metrics', '127.0.0.1:0']);
  const listening = JSON.parse(await daemon.waitFor(logged('metrics listening'), 'the metrics listener')) as { metrics: string };
  const sinkAddress = `@${uniqueName('sink')}`;
  // The sink stays bound: one that exits is reaped within a second, and its series go with it.
  await startSink(['--bind', sinkAddress, '--register', control, '--idle', '60000']);

  await publish(queue, lines('m', 25));
  await statsWhen(control, 'the sink to be counted', (s) => s.sinks[0]?.delivered === 25);

  const response = await fetch(`http://${listening.metrics}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await response.text();
  const cli = setup.run(['stats', '--json', '--control', control]);
  assert.equal(await cli.exited, 0);
  const stats = JSON.parse(cli.stdout[0]) as DaemonStats;

  assert.equal(stats.ingested, 25);
  assert.equal(series(text, 'msgmux_messages_ingested_total'), stats.ingested);
  assert.equal(series(text, 'msgmux_ring_written_records_total'), 25, 'one ring record per message');
  const labels = `{sink="${sinkAddress}",kind="dynamic"}`;
  assert.equal(series(text, `msgmux_sink_delivered_messages_total${labels}`), stats.sinks[0].delivered);
  assert.equal(series(text, `msgmux_sink_dropped_messages_total${labels}`), stats.sinks[0].dropped);
  assert.equal(series(text, 'msgmux_queue_depth_messages'), stats.queue.depth);
  assert.equal(series(text, 'msgmux_control_requests_total{op="subscribe"}'), 1);
  assert.ok((series(text, 'msgmux_process_resident_memory_bytes') ?? 0) > 0, 'process metrics are prefixed msgmux_');
  assert.equal((await fetch(`http://${listening.metrics}/other`)).status, 404);

  const second = setup.run(['start', '--queue', other.queue, '--control', other.control, '--metrics', listening.metrics]);
  assert.equal(await second.exited, 1);
  const said = second.stderr.join('\n');
  assert.match(said, /--metrics 127\.0\.0\.1:\d+: cannot listen: the port is in use/);
  assert.match(said, /ERR_MSGMUX_METRICS/);

  assert.equal(await daemon.stop(), 0);
});

/** Collects sd_notify datagrams sent to a socket the test binds, as systemd would. */
function notifyListener(address: string) {
  const socket = new DgramSocket({ nonBlocking: true });
  socket.bind(address);
  const received: string[] = [];
  const buffer = Buffer.alloc(4096);
  const drain = () => {
    for (;;) {
      try {
        const got = socket.recv(buffer);
        received.push(buffer.subarray(0, got.length).toString('utf8'));
      } catch {
        return;
      }
    }
  };
  const waitFor = (field: string) =>
    eventually(`${field} from the daemon`, async () => {
      drain();
      return received.findIndex((datagram) => datagram.split('\n').includes(field)) >= 0 ? received.slice() : undefined;
    });
  return { received, waitFor, close: () => socket.close() };
}

test('sd_notify: READY=1 once up, WATCHDOG=1 with WATCHDOG_USEC, STOPPING=1 on SIGTERM', async (t) => {
  const { startDaemon } = daemonSetup(t);
  const notifyAddress = `@${uniqueName('notify')}`;
  const notify = notifyListener(notifyAddress);
  t.after(() => notify.close());
  const daemon = await startDaemon([], { env: { ...process.env, NOTIFY_SOCKET: notifyAddress, WATCHDOG_USEC: '200000' } });
  const ready = await notify.waitFor('READY=1');
  const first = ready.find((datagram) => datagram.includes('READY=1'))!;
  assert.match(first, /^STATUS=ingested 0, 0 sinks/m);
  assert.match(first, new RegExp(`^MAINPID=${daemon.child.pid}$`, 'm'));
  await notify.waitFor('WATCHDOG=1');
  assert.ok(!notify.received.some((datagram) => datagram.includes('STOPPING=1')));

  daemon.child.kill('SIGTERM');
  const all = await notify.waitFor('STOPPING=1');
  assert.equal(await daemon.exited, 0);
  const at = (field: string) => all.findIndex((datagram) => datagram.split('\n').includes(field));
  assert.ok(at('READY=1') < at('STOPPING=1'), 'READY before STOPPING');
});

test('SIGHUP: an added static sink starts receiving, a broken config changes nothing, a removed sink goes; dynamic sinks are untouched', async (t) => {
  const { queue, control, dir, startDaemon, startSink } = daemonSetup(t);
  const configFile = path.join(dir, 'config.json');
  const staticPath = path.join(dir, 'static.sock');
  writeFileSync(configFile, JSON.stringify({ sinks: [] }));
  const daemon = await startDaemon(['--config', configFile]);
  const dynamic = await startSink(['--bind', `@${uniqueName('sink')}`, '--register', control, '--expect', '30']);
  const staticSink = await startSink(['--bind', staticPath, '--expect', '20']);

  await publish(queue, lines('a', 10));
  await statsWhen(control, 'the dynamic sink to take the first batch', (s) => s.sinks.length === 1 && s.sinks[0].delivered === 10);

  writeFileSync(configFile, JSON.stringify({ ringSize: '16M', sinks: [{ path: staticPath }] }));
  daemon.child.kill('SIGHUP');
  const restartOnly = JSON.parse(await daemon.waitFor(logged('reload: ringSize changed'), 'the restart-only warning')) as { level: number; fields: string[] };
  assert.deepEqual(restartOnly.fields, ['ringSize']);
  await daemon.waitFor(logged('configuration reloaded'), 'the first reload');
  await statsWhen(control, 'the static sink to be added', (s) => s.sinks.some((k) => k.kind === 'static' && k.reachable));
  await publish(queue, lines('b', 10));
  await statsWhen(control, 'the static sink to take the second batch', (s) => s.sinks.find((k) => k.kind === 'static')?.delivered === 10);

  writeFileSync(configFile, JSON.stringify({ policy: 'fast', sinks: [{ path: 'relative.sock' }] }));
  daemon.child.kill('SIGHUP');
  const refused = JSON.parse(await daemon.waitFor(logged('reload refused'), 'the broken config to be refused')) as { err: string; code: string };
  assert.equal(refused.code, 'ERR_MSGMUX_CONFIG');
  assert.match(refused.err, /config\.policy must be one of block, drop, evict/);
  assert.match(refused.err, /config\.sinks\[0\]\.path must be a filesystem socket path/);
  await publish(queue, lines('c', 10));

  assert.deepEqual((await staticSink.result()).received, [...lines('b', 10), ...lines('c', 10)]);
  assert.deepEqual((await dynamic.result()).received, [...lines('a', 10), ...lines('b', 10), ...lines('c', 10)]);

  writeFileSync(configFile, JSON.stringify({ sinks: [] }));
  daemon.child.kill('SIGHUP');
  await eventually('the second reload', async () => (daemon.stderr.filter(logged('configuration reloaded')).length === 2 ? true : undefined));
  const after = await statsWhen(control, 'the static sink to be removed', (s) => !s.sinks.some((k) => k.kind === 'static'));
  assert.equal(after.ingested, 30);
  assert.equal(await daemon.stop(), 0);
});

test('stats --watch piped prints one line per interval with rates; stats requests are not logged at info', async (t) => {
  const setup = daemonSetup(t);
  const { queue, control, startDaemon, startSink } = setup;
  const daemon = await startDaemon();
  const sinkAddress = `@${uniqueName('sink')}`;
  await startSink(['--bind', sinkAddress, '--register', control, '--idle', '60000']); // stays bound, so it stays listed
  const watch = setup.run(['stats', '--watch', '--interval', '0.2', '--control', control]);
  await eventually('the first line of the watch', async () => (watch.stdout.length > 0 ? true : undefined));
  assert.match(watch.stdout[0], /^ingested 0 \(-\/s\) waiting 0 ring 0% \| @/, 'the first line has no rate yet');

  await publish(queue, lines('w', 40));
  await eventually('a line with all 40 delivered', async () =>
    watch.stdout.some((line) => line.includes(`${sinkAddress} 40 (`)) ? true : undefined);
  watch.child.kill('SIGINT');
  assert.equal(await watch.exited, 0);

  const rate = (line: string, pattern: RegExp) => Number(pattern.exec(line)?.[1] ?? NaN);
  const ingestRates = watch.stdout.slice(1).map((line) => rate(line, /^ingested \d+ \(([\d.]+)\/s\)/));
  const sinkRates = watch.stdout.slice(1).map((line) => rate(line, new RegExp(`${sinkAddress} \\d+ \\(([\\d.]+)/s\\)`)));
  assert.ok(ingestRates.every((r) => r >= 0) && ingestRates.some((r) => r > 0), `an ingest rate above 0 in:\n${watch.stdout.join('\n')}`);
  assert.ok(sinkRates.some((r) => r > 0), 'a delivery rate above 0');
  assert.ok(watch.stdout.length >= 2);

  assert.equal(await daemon.stop(), 0);
  const infoRequests = daemon.stderr
    .filter(logged('control request'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((entry) => entry.msg === 'control request' && entry.level >= 30);
  assert.deepEqual(infoRequests, [], 'no per-request lines at info');
});

test('--version and -V print the package version', async () => {
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const proc = run(BIN, [flag]);
    assert.equal(await proc.exited, 0);
    assert.deepEqual(proc.stdout, [`msgmux ${version}`]);
  }
});
