/**
 * Who may subscribe, tried against a real daemon with a sender of another uid
 * (65534, through setpriv): refused unless allowed, and even then only for
 * addresses it owns. Quotas per uid, with errors that say how to raise them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync } from 'node:fs';
import path from 'node:path';
import { DgramSocket } from 'msgmux/native';
import { controlRequest } from '../src/control-client';
import { ErrorCode } from '../src/errors';
import { asUser, canSwitchUser, NOBODY, peerScript } from './helpers/as-user';
import { cleanup, daemonStats, lines, logged, publish, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';

const needsRoot = { skip: !canSwitchUser && 'needs root to run a sender as another uid' };

function setup(t: { after(fn: () => void): void }) {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const peer = peerScript();
  const sockets: DgramSocket[] = [];
  t.after(() => {
    cleanup(procs, [queue]);
    sockets.forEach((s) => s.close());
    peer.dispose();
  });
  /** A socket of the test's own (root's), bound at `address`. */
  const bound = (address: string): DgramSocket => {
    const socket = new DgramSocket({ nonBlocking: true });
    socket.bind(address);
    sockets.push(socket);
    return socket;
  };
  return { queue, control, procs, peer, bound };
}

const subscribe = (address: string) => ({ op: 'subscribe', path: address });
/** Small queues: every queue is charged to the user's RLIMIT_MSGQUEUE, which parallel runs share. */
const SMALL = ['--max-message', '256'];

test('a uid that is not allowed cannot subscribe, and the refusal is logged with its uid and pid', needsRoot, async (t) => {
  const { queue, control, procs, peer } = setup(t);
  const daemon = await startDaemon(queue, control, SMALL);
  procs.push(daemon);
  const own = `@${uniqueName('nobody')}`;
  const got = await asUser(NOBODY, peer.file, { bind: own, control, requests: [subscribe(own), Buffer.from(own)] });
  assert.equal(got.uid, NOBODY);
  for (const reply of got.replies) assert.equal(reply?.error?.code, ErrorCode.NOT_ALLOWED, JSON.stringify(reply));
  assert.match(got.replies[0]!.error!.message, /uid 65534 .* may not subscribe.*--allow-uid 65534/);
  const line = JSON.parse(await daemon.waitFor(logged('control request refused'), 'the refusal log line')) as { senderUid: number; senderPid: unknown; code: string };
  assert.equal(line.senderUid, NOBODY);
  assert.equal(typeof line.senderPid, 'number');
  assert.equal(line.code, ErrorCode.NOT_ALLOWED);
  assert.equal((await daemonStats(control)).sinks.length, 0, 'no sink was added');
  assert.equal(await daemon.stop(), 0);
});

test('an allowed uid gets messages on its own socket, and cannot point the daemon at anyone else\'s', needsRoot, async (t) => {
  const { queue, control, procs, peer, bound } = setup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--allow-uid', String(NOBODY), '--sink', path.join(peer.dir, 'static.sock')]);
  procs.push(daemon);
  const victimAbstract = `@${uniqueName('victim')}`;
  bound(victimAbstract);
  const victimFile = path.join(peer.dir, 'victim.sock');
  bound(victimFile); // root's socket in a directory nobody may write to
  const nobodysFile = path.join(peer.dir, 'nobodys.sock');
  bound(nobodysFile);
  chownSync(nobodysFile, NOBODY, NOBODY); // a socket file that belongs to nobody (its receiver is the test)
  const own = `@${uniqueName('nobody')}`;

  const got = await asUser(NOBODY, peer.file, {
    bind: own,
    control,
    requests: [
      subscribe(victimAbstract),
      subscribe(victimFile),
      subscribe(peer.file), // a regular file
      subscribe(peer.dir), // a directory
      { op: 'unsubscribe', path: path.join(peer.dir, 'static.sock') }, // a configured sink
      subscribe(nobodysFile), // its own socket file, requested from another address
      subscribe(own),
    ],
  });
  const codes = got.replies.map((reply) => reply?.error?.code ?? (reply?.ok ? 'ok' : 'none'));
  assert.deepEqual(codes, [
    ErrorCode.NOT_OWNER, ErrorCode.NOT_OWNER, ErrorCode.NOT_OWNER, ErrorCode.NOT_OWNER, ErrorCode.NOT_OWNER, 'ok', 'ok',
  ]);
  assert.match(got.replies[1]!.error!.message, /the socket belongs to uid 0/);
  assert.match(got.replies[4]!.error!.message, /configured static sink/);

  const stats = await daemonStats(control);
  assert.deepEqual(stats.sinks.map((s) => s.path).sort(), [nobodysFile, own, path.join(peer.dir, 'static.sock')].sort());
  assert.equal(await daemon.stop(), 0);
});

test('an allowed uid receives what is published to its socket', needsRoot, async (t) => {
  const { queue, control, procs, peer } = setup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--allow-gid', String(NOBODY)]);
  procs.push(daemon);
  const own = `@${uniqueName('nobody')}`;
  const receiving = asUser(NOBODY, peer.file, { bind: own, control, requests: [subscribe(own)], receive: 50, idleMs: 10_000 });
  await statsWhen(control, 'the sink to join', (s) => s.sinks.length === 1);
  await publish(queue, lines('m', 50));
  const got = await receiving;
  assert.equal(got.replies[0]?.ok, true, JSON.stringify(got.replies[0]));
  assert.equal(got.received, 50);
  assert.equal(await daemon.stop(), 0);
});

test('a gid in allowGids admits a sender that has it only as a supplementary group, and only that one', needsRoot, async (t) => {
  const { queue, control, procs, peer } = setup(t);
  const GROUP = 4242; // not nobody's primary gid
  const daemon = await startDaemon(queue, control, [...SMALL, '--allow-gid', String(GROUP)]);
  procs.push(daemon);
  const member = `@${uniqueName('member')}`;
  const admitted = await asUser(NOBODY, peer.file, { bind: member, control, requests: [subscribe(member)] }, [GROUP]);
  assert.equal(admitted.replies[0]?.ok, true, JSON.stringify(admitted.replies[0]));
  const outsider = `@${uniqueName('outsider')}`;
  const refused = await asUser(NOBODY, peer.file, { bind: outsider, control, requests: [subscribe(outsider)] }, [GROUP + 1]);
  assert.equal(refused.replies[0]?.error?.code, ErrorCode.NOT_ALLOWED, JSON.stringify(refused.replies[0]));
  assert.deepEqual((await daemonStats(control)).sinks.map((s) => s.path), [member]);
  assert.equal(await daemon.stop(), 0);
});

test('sinks per uid and registrations per second are limited, and the errors name the flag', async (t) => {
  const { queue, control, procs, bound } = setup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--max-sinks-per-uid', '2', '--registrations-per-second', '3']);
  procs.push(daemon);
  const names = [1, 2, 3].map((k) => `@${uniqueName(`s${k}`)}`);
  names.forEach((name) => bound(name));
  const replies = [];
  for (const name of names) replies.push(await controlRequest(control, subscribe(name)));
  assert.deepEqual(replies.map((r) => r.ok), [true, true, false]);
  assert.equal(replies[2].ok === false && replies[2].error.code, ErrorCode.SINK_QUOTA);
  assert.match(JSON.stringify(replies[2]), /--max-sinks-per-uid/);

  // The three above spent the burst of 3; more at once are refused (a token comes back every 333 ms).
  const burst = await Promise.all([1, 2, 3].map(() => controlRequest(control, subscribe(names[0]))));
  const limited = burst.filter((r) => !r.ok && r.error.code === ErrorCode.RATE_LIMITED);
  assert.ok(limited.length >= 2, `a burst over the rate is refused (${JSON.stringify(burst)})`);
  assert.match(JSON.stringify(limited[0]), /--registrations-per-second/);
  assert.equal(await daemon.stop(), 0);
});

test('a uid at its sink limit is not refused for sinks whose sockets just closed', async (t) => {
  const { queue, control, procs, bound } = setup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--max-sinks-per-uid', '2']);
  procs.push(daemon);
  const first = [1, 2].map((k) => `@${uniqueName(`old${k}`)}`);
  const sockets = first.map((name) => bound(name));
  for (const name of first) assert.equal((await controlRequest(control, subscribe(name))).ok, true);
  // Both close and are at once replaced, well before an idle probe could notice: the replacements are admitted.
  sockets.forEach((socket) => socket.close());
  const second = [1, 2].map((k) => `@${uniqueName(`new${k}`)}`);
  second.forEach((name) => bound(name));
  for (const name of second) {
    const reply = await controlRequest(control, subscribe(name));
    assert.equal(reply.ok, true, JSON.stringify(reply));
  }
  assert.deepEqual((await daemonStats(control)).sinks.map((s) => s.path).sort(), [...second].sort());
  // Live ones still count: a third is refused.
  const third = `@${uniqueName('third')}`;
  bound(third);
  const refused = await controlRequest(control, subscribe(third));
  assert.equal(!refused.ok && refused.error.code, ErrorCode.SINK_QUOTA);
  assert.equal(await daemon.stop(), 0);
});

test('maxSinks refuses the next sink with the flag that raises it', async (t) => {
  const { queue, control, procs, bound } = setup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--max-sinks', '1']);
  procs.push(daemon);
  const [a, b] = [`@${uniqueName('a')}`, `@${uniqueName('b')}`];
  bound(a);
  bound(b);
  assert.equal((await controlRequest(control, subscribe(a))).ok, true);
  const refused = await controlRequest(control, subscribe(b));
  assert.equal(!refused.ok && refused.error.code, ErrorCode.SINK_LIMIT);
  assert.match(JSON.stringify(refused), /maxSinks.*--max-sinks/);
  assert.equal(await daemon.stop(), 0);
});

test('two requests for the same address at once both hear how its one start went', async (t) => {
  const { queue, control, procs } = setup(t);
  const daemon = await startDaemon(queue, control, SMALL);
  procs.push(daemon);
  const nobodyThere = `@${uniqueName('absent')}`;
  const replies = await Promise.all([1, 2, 3].map(() => controlRequest(control, subscribe(nobodyThere))));
  assert.deepEqual(replies.map((r) => !r.ok && r.error.code), [ErrorCode.UNREACHABLE, ErrorCode.UNREACHABLE, ErrorCode.UNREACHABLE]);
  assert.equal(await daemon.stop(), 0);
});
