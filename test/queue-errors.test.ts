/**
 * What a user sees when mq_open fails: the limit that was hit and the command
 * that raises it. Each case makes the kernel fail for real: a lowered
 * `ulimit -q` beside a queue that already holds most of it, a process without
 * CAP_SYS_RESOURCE asking for more than fs.mqueue.msg_max, one without
 * CAP_DAC_OVERRIDE opening a queue it has no rights to. And the queue's own
 * permissions: created 0600, an existing wider one reported at start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { MessageQueue } from 'msgmux/native';
import { queueBytes, readQueueLimits } from '../src/queue-limits';
import { ErrorCode } from '../src/errors';
import { explainQueueOpenError } from '../src/queue-errors';
import { BIN, cleanup, daemonStats, logged, startDaemon, uniqueName } from './helpers/daemon';

const OPEN_QUEUE = path.join(__dirname, 'fixtures', 'open-queue.js');
const asRoot = process.getuid!() === 0;

/** Runs `node open-queue.js` after `prefix` (a shell prefix ending in exec) and returns what it printed. */
type Opened = { ok?: true; code?: string; errno?: string; message?: string };

function openIn(prefix: string, name: string, options: object): Opened {
  const command = `${prefix} "${process.execPath}" "${OPEN_QUEUE}" "${name}" '${JSON.stringify(options)}'`;
  const child = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim()) as Opened;
}

const withoutCaps = (caps: string) => `exec setpriv --bounding-set=${caps} --inh-caps=${caps}`;

test('a full RLIMIT_MSGQUEUE is named as such, with what the queue needs and the ulimit that fits it', (t) => {
  const filler = `/${uniqueName('filler')}`;
  const wanted = `/${uniqueName('wanted')}`;
  t.after(() => cleanup([], [filler, wanted]));
  // The filler is charged to this user; the child's limit fits the new queue alone, not beside the filler.
  MessageQueue.open(filler, { create: true, depth: 4, messageSize: 1024 }).close();
  const needed = queueBytes(4, 1024);
  const got = openIn(`ulimit -q ${needed + 100} && exec`, wanted, { create: true, depth: 4, messageSize: 1024 });
  assert.equal(got.code, ErrorCode.QUEUE_LIMIT, JSON.stringify(got));
  assert.equal(got.errno, 'EMFILE');
  assert.match(got.message!, /RLIMIT_MSGQUEUE \(\d+ bytes\)/);
  assert.match(got.message!, new RegExp(`This queue needs ${needed} bytes \\(depth 4 × \\(message size 1024 \\+ 96\\)\\)`));
  assert.match(got.message!, /ulimit -q \d+/);
  assert.doesNotMatch(got.message!, /Too many open files/);
});

test('a queue deeper than fs.mqueue.msg_max, without CAP_SYS_RESOURCE, names the sysctl', { skip: !asRoot && 'needs root to drop capabilities' }, (t) => {
  const name = `/${uniqueName('deep')}`;
  t.after(() => cleanup([], [name]));
  const { msgMax } = readQueueLimits();
  const got = openIn(`${withoutCaps('-sys_resource')}`, name, { create: true, depth: msgMax + 1, messageSize: 64 });
  assert.equal(got.errno, 'EINVAL', JSON.stringify(got));
  assert.equal(got.code, ErrorCode.QUEUE_LIMIT);
  assert.match(got.message!, new RegExp(`sysctl fs.mqueue.msg_max=${msgMax + 1}`));
});

test('a queue the user may not open says whose it is and what to do', { skip: !asRoot && 'needs root to drop capabilities' }, (t) => {
  const name = `/${uniqueName('closed')}`;
  t.after(() => cleanup([], [name]));
  MessageQueue.open(name, { create: true, depth: 1, messageSize: 64, mode: 0 }).close();
  const got = openIn(`${withoutCaps('-dac_override,-dac_read_search')}`, name, { read: false, write: true });
  assert.equal(got.errno, 'EACCES', JSON.stringify(got));
  assert.equal(got.code, ErrorCode.QUEUE_PERMISSION);
  assert.match(got.message!, /do not let uid 0 open it to write/);
  assert.match(got.message!, /--queue-mode/);
});

/** Runs `msgmux pub --queue NAME hello` after `prefix` (a shell prefix ending in exec); returns its exit status and stderr. */
function pubIn(prefix: string, name: string): { status: number | null; stderr: string } {
  const child = spawnSync('bash', ['-c', `${prefix} "${process.execPath}" "${BIN}" pub --queue "${name}" hello`], { encoding: 'utf8' });
  return { status: child.status, stderr: child.stderr };
}

test('msgmux pub to a queue that is not there says so, with the command that makes it', (t) => {
  const name = `/${uniqueName('absent')}`;
  t.after(() => cleanup([], [name]));
  const got = pubIn('exec', name);
  assert.equal(got.status, 1, got.stderr);
  assert.equal(got.stderr, `msgmux: queue ${name} does not exist: is msgmux running? (msgmux start creates it) (${ErrorCode.NO_QUEUE})\n`);
});

test('msgmux pub to a queue it may not write gets the explanation the daemon gives', { skip: !asRoot && 'needs root to drop capabilities' }, (t) => {
  const name = `/${uniqueName('closed')}`;
  t.after(() => cleanup([], [name]));
  MessageQueue.open(name, { create: true, depth: 1, messageSize: 64, mode: 0 }).close();
  const prefix = withoutCaps('-dac_override,-dac_read_search');
  const explained = openIn(prefix, name, { read: false, write: true });
  assert.equal(explained.code, ErrorCode.QUEUE_PERMISSION, JSON.stringify(explained));
  const got = pubIn(prefix, name);
  assert.equal(got.status, 1, got.stderr);
  assert.equal(got.stderr, `msgmux: ${explained.message} (${ErrorCode.QUEUE_PERMISSION})\n`);
  assert.match(got.stderr, /belongs to uid 0, gid 0, mode 0000/);
});

test('EMFILE opening a queue that exists is the descriptor limit, never the queue budget', () => {
  const emfile = Object.assign(new Error('mq_open /q: EMFILE (Too many open files)'), { code: 'EMFILE' });
  const open = { name: '/q', create: false, depth: 0, messageSize: 0, access: 'write' };
  const got = explainQueueOpenError(emfile, open) as Error & { code?: string };
  assert.equal(got.code, ErrorCode.QUEUE_LIMIT);
  assert.match(got.message, /descriptors open, its RLIMIT_NOFILE; raise it with: ulimit -n \d+/);
  assert.doesNotMatch(got.message, /RLIMIT_MSGQUEUE/, 'an open without O_CREAT charges nothing to the queue budget');
});

test('the daemon creates its queue 0600, and reports an existing queue that is wider', async (t) => {
  const fresh = `/${uniqueName('fresh')}`;
  const wide = `/${uniqueName('wide')}`;
  const procs: Awaited<ReturnType<typeof startDaemon>>[] = [];
  t.after(() => cleanup(procs, [fresh, wide]));

  const first = await startDaemon(fresh, `@${uniqueName('ctl')}`, ['--max-message', '256']);
  procs.push(first);
  const opened = MessageQueue.open(fresh, { read: false, write: true });
  assert.equal(opened.stat().mode & 0o777, 0o600, 'created with the default queueMode');
  opened.close();
  assert.equal(first.stderr.some(logged(`queue ${fresh} has mode`)), false, 'nothing to report on its own queue');
  await daemonStats(first.control); // serving, so SIGTERM finds its handler installed
  assert.equal(await first.stop(), 0);

  const before = MessageQueue.open(wide, { create: true, depth: 2, messageSize: 64, mode: 0o666 });
  const mode = before.stat().mode & 0o777; // the umask may have narrowed it, never to 0600 or less
  before.close();
  assert.ok((mode & ~0o600) !== 0, `precondition: ${mode.toString(8)} is wider than 0600`);
  const second = await startDaemon(wide, `@${uniqueName('ctl')}`, ['--max-message', '256']);
  procs.push(second);
  const line = await second.waitFor(logged(`queue ${wide} has mode 0${mode.toString(8)}, wider than queueMode 0600`), 'the mode warning');
  assert.match(line, /every user may read/);
  await daemonStats(second.control);
  assert.equal(await second.stop(), 0);
});
