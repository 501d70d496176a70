/**
 * `msgmux bench` end to end on one small slice: msgmux with its own clients
 * (through sockets, and through its ring in shared memory),
 * Redis with ioredis (a real redis-server the harness starts) and the ring,
 * one subscriber, 64 B, a small count. Asserts what was delivered and
 * reported, never how fast; and that the run leaves no temp dir, server or
 * client process behind. Two publishers at once into msgmux (C and Node
 * clients) and the C reference broker: every subscriber gets every message
 * of both, in each one's order. Also: a lossless system that loses is flagged
 * and gets no rate, and a system that takes one publisher is refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './helpers/daemon';
import { processRow } from '../src/bench/rows';
import type { GroupSample } from '../src/bench/group';
import { runBench, type BenchReport } from '../src/bench/run';
import { defaultPlan } from '../src/bench/plan';
import { bench } from '../src/cli/bench';

const COUNT = 2000;
const FIELDS = ['system', 'clients', 'publishers', 'subscribers', 'size', 'messages', 'deliveredPerSec', 'slowestPerSec', 'lost', 'p50Micros', 'p99Micros', 'p999Micros', 'brokerCpuSec'];

/** Runs `msgmux bench ARGS --json FILE` with TMPDIR a fresh dir (runTmp); resolves with the report, the output and the harness's pid once it exited 0. */
async function runBenchCli(t: { after(fn: () => void): void }, args: string[]): Promise<{ report: BenchReport; output: string; runTmp: string; pid: number }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'msgmux-bench-test-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const runTmp = path.join(tmp, 'run');
  fs.mkdirSync(runTmp);
  const out = path.join(tmp, 'out.json');
  const child = spawn(process.execPath, [BIN, 'bench', ...args, '--json', out], { env: { ...process.env, TMPDIR: runTmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGTERM'), 180_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0, output);
  return { report: JSON.parse(fs.readFileSync(out, 'utf8')) as BenchReport, output, runTmp, pid: child.pid! };
}

test('msgmux bench --quick on msgmux-node, msgmux-shm, redis-node and ring delivers every message to every subscriber and cleans up', async (t) => {
  const { report, output, runTmp, pid } = await runBenchCli(t, ['--quick', '--systems', 'msgmux-node,msgmux-shm,redis-node,ring', '--subscribers', '1', '--readers', '1', '--sizes', '64', '--count', String(COUNT)]);
  assert.deepEqual(report.skipped, [], output);
  assert.deepEqual(report.rows.map((r) => r.key), ['msgmux-node', 'msgmux-shm', 'redis-node', 'ring']);
  for (const row of report.rows) {
    for (const field of FIELDS) assert.ok(field in row, `row ${row.key} has ${field}`);
    assert.deepEqual(row.errors, [], `${row.key}: ${output}`);
    assert.equal(row.subscribers, 1);
    assert.equal(row.size, 64);
    assert.equal(row.delivered, row.messages * row.subscribers * row.rounds, `${row.key} delivered every message`);
    assert.equal(row.lost, 0, row.key);
    assert.equal(row.duplicated, 0, row.key);
    assert.equal(row.reordered, 0, row.key);
    assert.equal(row.flagged, null, row.key);
    assert.ok((row.deliveredPerSec ?? 0) > 0, row.key);
  }
  for (const key of ['msgmux-node', 'msgmux-shm', 'redis-node']) {
    const row = report.rows.find((r) => r.key === key)!;
    assert.equal(row.messages, COUNT);
    assert.ok(row.brokerCpuSec !== null && (row.brokerRssKiB ?? 0) > 0, `${key} measured its broker`);
    assert.deepEqual(row.latency.map((l) => l.rate), [1000, 10000], `${key} latency at both rates`);
    for (const l of row.latency) assert.equal(l.samples, Math.round(l.rate * 0.3), `${key} one latency sample per message at ${l.rate}/s`);
  }
  // Nothing left behind: the run's temp dir is gone, and no process still names it (redis-server's config lives there).
  assert.deepEqual(fs.readdirSync(runTmp), []);
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(runTmp));
  assert.deepEqual(left, []);
  // msgmux-shm's daemons removed their ring and cursor files (named after the harness's pid).
  assert.deepEqual(fs.readdirSync('/dev/shm').filter((f) => f.startsWith(`msgmux-bench-${pid}-`)), []);
});

test('msgmux bench --publishers 2: msgmux (C and Node clients) and the C reference deliver every message of both publishers to every subscriber, in order', async (t) => {
  // An odd count: the publishers' shares differ by one.
  const count = 1501;
  // Depth 10 (the kernel's default msg_max): two publishers block on a full queue, and the queues stay small.
  const { report, output } = await runBenchCli(t, ['--quick', '--systems', 'msgmux-c,cref-c,msgmux-node', '--publishers', '2', '--queue-depth', '10', '--subscribers', '2', '--sizes', '64', '--count', String(count)]);
  assert.deepEqual(report.skipped, [], output);
  assert.equal(report.plan.publishers, 2);
  assert.equal(report.plan.queueDepth, 10);
  assert.deepEqual(report.rows.map((r) => r.key), ['msgmux-node', 'msgmux-c', 'cref-c']);
  for (const row of report.rows) {
    assert.deepEqual(row.errors, [], `${row.key}: ${output}`);
    assert.equal(row.publishers, 2, row.key);
    assert.equal(row.messages, count, row.key);
    assert.equal(row.delivered, count * 2 * row.rounds, `${row.key} delivered every message to both subscribers`);
    // Summed over every phase (warm-up, throughput, the paced latency phases): nothing lost, doubled or out of a publisher's order.
    assert.equal(row.lost, 0, row.key);
    assert.equal(row.duplicated, 0, row.key);
    assert.equal(row.reordered, 0, row.key);
    assert.equal(row.flagged, null, row.key);
    assert.deepEqual(row.latency.map((l) => l.rate), [1000, 10000], `${row.key} latency at both rates`);
  }
  assert.match(output, /\| system +\| pubs \|/, 'the table states the publishers');
});

test('msgmux bench --publishers 2 refuses, by name, a system that takes one publisher', async () => {
  await assert.rejects(bench({ quick: true, systems: ['msgmux-c', 'zmq'], publishers: 2 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_USAGE');
    assert.match(err.message, /--publishers 2 needs systems that take several publisher processes \(.*msgmux-c.*cref-c.*\)/);
    assert.match(err.message, /zmq-node: its publisher binds/);
    assert.match(err.message, /zmq-c: its publisher binds/);
    assert.doesNotMatch(err.message.split(';').slice(1).join(';'), /msgmux-c/, 'only the one-publisher systems are named as refused');
    return true;
  });
});

test('a run with several publishers skips, with the reason, the systems that take one', async () => {
  const plan = { ...defaultPlan(true, ['zmq-c', 'ring']), publishers: 2 };
  const report = await runBench(plan, () => undefined);
  assert.deepEqual(report.rows, []);
  assert.deepEqual(report.skipped, [
    { system: 'zmq-c', reason: '--publishers 2: its publisher binds the ipc:// endpoint: one publisher process only' },
    { system: 'ring', reason: '--publishers 2: one writer thread by design (--publishers applies to process systems)' },
  ]);
});

test('a lossless system that lost a message is flagged and gets no rate', () => {
  const sink = (lost: number) => ({ phase: 1, received: 100 - lost, dup: 0, reordered: 0, lost, firstNs: 1e9, lastNs: 2e9 });
  const sample = (lost: number): GroupSample => ({
    phases: [{ kind: 'warm', count: 10, rate: 0 }, { kind: 'tput', count: 100, rate: 0 }],
    publisher: [{ phase: 0, sent: 10, startNs: 0, endNs: 1 }, { phase: 1, sent: 100, startNs: 1e9, endNs: 2e9 }],
    sinks: [[{ ...sink(0), phase: 0, received: 10 }], [sink(lost)]],
    brokerCpuSec: 0.1, clientCpuSec: 0.1, brokerRssKiB: 1000, latency: [],
  });
  const key = (lossless: boolean) => ({ system: 's', key: 's-c', clients: 'c', publishers: 1, subscribers: 1, size: 64, lossless });
  const clean = processRow(key(true), [sample(0)], []);
  assert.equal(clean.flagged, null);
  assert.equal(clean.deliveredPerSec, 100);
  const broken = processRow(key(true), [sample(0), sample(1)], []);
  assert.match(broken.flagged ?? '', /lost 1/);
  assert.equal(broken.deliveredPerSec, null);
  assert.equal(broken.slowestPerSec, null);
  const lossy = processRow(key(false), [sample(1)], []);
  assert.equal(lossy.flagged, null, 'a system that does not promise losslessness reports its loss, unflagged');
  assert.equal(lossy.lost, 1);
  assert.equal(lossy.deliveredPerSec, 99);
});
