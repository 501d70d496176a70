/**
 * The NATS bridge against a real nats-server started by the test on
 * 127.0.0.1: two daemons joined through it, both ways, with no echo; a
 * server restart mid-stream under each sink policy; a server that is not
 * there at start. Skipped, saying why, only when nats-server is not installed
 * (scripts/install-peers.sh installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BIN, cleanup, lines, logged, publish, run, startDaemon, startSink, statsWhen, uniqueName, type DaemonUnderTest, type Proc,
} from './helpers/daemon';
import { NATS_SERVER, NatsServer } from './helpers/nats-server';

const skip = NATS_SERVER ? false : 'nats-server is not installed: run scripts/install-peers.sh (apt-get install nats-server)';

interface Bus {
  daemon: DaemonUnderTest;
  sink: Proc & { result(): Promise<{ received: string[] }> };
}

/** A daemon with a socket sink that stops at `expect` messages or at the message `until`. */
async function bus(procs: Proc[], queues: string[], natsFlags: string[], expect: number, until?: string): Promise<Bus> {
  const queue = `/${uniqueName('q')}`;
  queues.push(queue);
  const sinkPath = `/tmp/${uniqueName('sink')}.sock`;
  const sink = await startSink(['--bind', sinkPath, '--expect', String(expect), ...(until ? ['--until', until] : [])]);
  procs.push(sink);
  const daemon = await startDaemon(queue, `@${uniqueName('ctl')}`, ['--sink', sinkPath, '--max-message', '256', ...natsFlags]);
  procs.push(daemon);
  await statsWhen(daemon.control, 'the local sink to be reachable', (s) => s.sinks.some((k) => k.reachable));
  return { daemon, sink };
}

/**
 * A nats-server of the test's own, a subject no other test uses, and `bus`
 * for daemons joined to it; every process, queue and the server go with the test.
 */
async function natsSetup(t: { after(fn: () => Promise<void>): void }) {
  const procs: Proc[] = [];
  const queues: string[] = [];
  const server = await NatsServer.start();
  t.after(async () => {
    cleanup(procs, queues);
    await server.stop();
  });
  const subject = `bus.${uniqueName('s').replace(/-/g, '_')}`;
  return {
    server,
    subject,
    bus: (natsFlags: string[], expect: number, until?: string) => bus(procs, queues, ['--nats', server.url, ...natsFlags], expect, until),
  };
}

const connected = (b: Bus, yes: boolean) => statsWhen(b.daemon.control, `NATS ${yes ? 'up' : 'down'}`, (s) => s.nats?.connected === yes);

test('two daemons bridged both ways through NATS: every message reaches the other bus, in order, and none echoes back', { skip }, async (t) => {
  const { subject, bus } = await natsSetup(t);
  const both = ['--nats-sink', subject, '--nats-source', subject];
  const a = await bus(both, 300);
  const b = await bus(both, 300);

  await publish(a.daemon.queue, lines('a', 200));
  await statsWhen(b.daemon.control, "a's messages on b", (s) => s.sinks[0].delivered >= 200);
  await publish(b.daemon.queue, lines('b', 100));
  await statsWhen(a.daemon.control, "b's messages on a", (s) => s.sinks[0].delivered >= 300);

  const [statsA, statsB] = await Promise.all([a.daemon, b.daemon].map((d) => statsWhen(d.control, 'stats', () => true)));
  await Promise.all([a.daemon.stop(), b.daemon.stop()]);
  const [onA, onB] = await Promise.all([a.sink.result(), b.sink.result()]);
  // Each bus has its own messages and the other's, each once: an echo would add copies.
  assert.deepEqual(onA.received, [...lines('a', 200), ...lines('b', 100)]);
  assert.deepEqual(onB.received, [...lines('a', 200), ...lines('b', 100)]);
  assert.equal(statsA.nats?.sink?.delivered, 200, 'a published only its own messages');
  assert.equal(statsB.nats?.sink?.delivered, 100, 'b published only its own messages');
  assert.equal(statsA.nats?.source?.received, 100);
  assert.equal(statsB.nats?.source?.received, 200);
});

test('NATS restarted mid-stream: a block sink holds messages (publishers wait) and loses none it held; delivery stays in order', { skip }, async (t) => {
  const { server, subject, bus } = await natsSetup(t);
  // What waits is counted in the bus queue: without packing, the publisher writes there (with it, the packed queue fills the same way).
  const a = await bus(['--nats-sink', subject, '--no-packing'], 0);
  const b = await bus(['--nats-source', subject], 0, 'end');

  await publish(a.daemon.queue, lines('p', 100));
  await statsWhen(b.daemon.control, 'phase 1 on b', (s) => s.sinks[0].delivered >= 100);
  await server.stop();
  await connected(a, false);
  const during = publish(a.daemon.queue, lines('q', 100)); // blocks: the ring and then the queue back up
  const held = await statsWhen(a.daemon.control, 'a to hold messages', (s) => s.queue.waiting > 0 || s.nats!.sink!.lag > 0);
  assert.equal(held.nats?.sink?.dropped, 0);
  await server.start();
  await Promise.all([connected(a, true), connected(b, true), during]);
  await publish(a.daemon.queue, [...lines('r', 100), 'end']);
  // NATS keeps one publisher's order: once b's sink has 'end', everything before it has arrived.
  const { received } = await b.sink.result();
  const statsA = await statsWhen(a.daemon.control, 'a to publish everything', (s) => s.nats!.sink!.delivered === 301);
  await Promise.all([a.daemon.stop(), b.daemon.stop()]);

  assert.equal(statsA.nats?.sink?.dropped, 0, 'block never drops');
  // Held messages are published after the reconnect; core NATS loses those sent before b has subscribed again.
  const phase = (p: string) => received.filter((m) => m.startsWith(p));
  assert.deepEqual(phase('p'), lines('p', 100));
  assert.deepEqual(phase('r'), lines('r', 100));
  const q = phase('q');
  assert.deepEqual(q, lines('q', 100).filter((m) => q.includes(m)), 'in order, no duplicates');
  assert.deepEqual(received, [...lines('p', 100), ...q, ...lines('r', 100)]);
});

test('NATS restarted mid-stream: a drop sink counts every message sent while NATS was down, and delivers the rest in order', { skip }, async (t) => {
  const { server, subject, bus } = await natsSetup(t);
  const a = await bus(['--nats-sink', subject, '--nats-sink-policy', 'drop'], 150);
  const b = await bus(['--nats-source', subject], 200);

  await publish(a.daemon.queue, lines('p', 100));
  await statsWhen(b.daemon.control, 'phase 1 on b', (s) => s.sinks[0].delivered >= 100);
  await server.stop();
  await connected(a, false);
  await publish(a.daemon.queue, lines('q', 50)); // a's local sink keeps the bus flowing
  await statsWhen(a.daemon.control, 'the drops counted', (s) => s.nats!.sink!.dropped === 50);
  await server.start();
  await Promise.all([connected(a, true), connected(b, true)]);
  await publish(a.daemon.queue, lines('r', 100));
  await statsWhen(b.daemon.control, 'phase 3 on b', (s) => s.sinks[0].delivered >= 200);
  const statsA = await statsWhen(a.daemon.control, 'stats', () => true);
  await Promise.all([a.daemon.stop(), b.daemon.stop()]);
  const { received } = await b.sink.result();
  assert.deepEqual(received, [...lines('p', 100), ...lines('r', 100)]);
  assert.equal(statsA.nats?.sink?.dropped, 50);
  assert.equal(statsA.nats?.sink?.delivered, 200);
});

test('a NATS server that is not there fails the start, naming nats.url', { skip }, async (t) => {
  const queue = `/${uniqueName('q')}`;
  const server = await NatsServer.start();
  await server.stop(); // a port nobody listens on now
  const proc = run(BIN, ['start', '--queue', queue, '--control', `@${uniqueName('ctl')}`, '--nats', server.url, '--nats-sink', 'bus.x']);
  t.after(() => cleanup([proc], [queue]));
  assert.equal(await proc.exited, 1);
  assert.match(proc.stderr.join('\n'), new RegExp(`cannot connect to NATS at nats.url ${server.url}: .*ERR_MSGMUX_NATS_UNREACHABLE`));
  assert.ok(!proc.stderr.some(logged('msgmux started')));
});
