import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCapSysResource, parseMsgqueueRlimit, planQueue, queueBytes, readQueueLimits, type QueueLimits } from '../src/queue-limits';

const repoRoot = join(__dirname, '..', '..'); // children require posix-mq from here
const dir = mkdtempSync(join(tmpdir(), 'msgmux-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max open files            1024                 4096                 files
Max msgqueue size         819200               1638400              bytes
Max nice priority         0                    0
`;

function fakeProc(limitsText: string, capEff = '000001ffffffffff'): string {
  const root = mkdtempSync(join(dir, 'proc-'));
  mkdirSync(join(root, 'sys/fs/mqueue'), { recursive: true });
  mkdirSync(join(root, 'self'));
  writeFileSync(join(root, 'sys/fs/mqueue/msg_max'), '10\n');
  writeFileSync(join(root, 'sys/fs/mqueue/msgsize_max'), '8192\n');
  writeFileSync(join(root, 'sys/fs/mqueue/queues_max'), '256\n');
  writeFileSync(join(root, 'self/limits'), limitsText);
  writeFileSync(join(root, 'self/status'), `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`);
  return root;
}

test('readQueueLimits reads the sysctls and the soft RLIMIT_MSGQUEUE', () => {
  assert.deepEqual(readQueueLimits(fakeProc(LIMITS)), { msgMax: 10, msgSizeMax: 8192, queuesMax: 256, rlimitBytes: 819200 });
  assert.equal(readQueueLimits(fakeProc(LIMITS.replace('819200 ', 'unlimited'))).rlimitBytes, null);
  assert.equal(parseMsgqueueRlimit('Max open files 1 1 files\n'), null);
});

test('readQueueLimits agrees with this machine', () => {
  const limits = readQueueLimits();
  assert.equal(limits.msgMax, Number(readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8')));
  const ulimit = spawnSync('bash', ['-c', 'ulimit -q'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(limits.rlimitBytes, ulimit === 'unlimited' ? null : Number(ulimit));
});

test('hasCapSysResource reads bit 24 of CapEff', () => {
  assert.equal(hasCapSysResource(fakeProc(LIMITS, '0000000001000000')), true);
  assert.equal(hasCapSysResource(fakeProc(LIMITS, '000001fffeffffff')), false); // root in a container without it
});

const limits: QueueLimits = { msgMax: 10, msgSizeMax: 8192, queuesMax: 256, rlimitBytes: 819200 };

test('the charge against RLIMIT_MSGQUEUE', () => {
  assert.equal(queueBytes(10, 8192), 10 * (8192 + 96));
  assert.equal(queueBytes(40000, 16), 40000 * (16 + 48) + 32768 * 48); // priority nodes stop at 32768
});

test('planQueue: within the limits nothing changes and there is no advice', () => {
  assert.deepEqual(planQueue({ depth: 10, messageSize: 8192 }, limits, false), {
    depth: 10, messageSize: 8192, capped: { depth: false, messageSize: false }, bytes: 82880, advice: [],
  });
});

test('planQueue: unprivileged depth and size are capped by the sysctls, with the commands to raise them', () => {
  const plan = planQueue({ depth: 1000, messageSize: 16384 }, limits, false);
  assert.equal(plan.depth, 10);
  assert.equal(plan.messageSize, 8192);
  assert.deepEqual(plan.capped, { depth: true, messageSize: true });
  assert.ok(plan.advice.some((a) => a.includes('sysctl fs.mqueue.msg_max=1000')), plan.advice.join('\n'));
  assert.ok(plan.advice.some((a) => a.includes('sysctl fs.mqueue.msgsize_max=16384')), plan.advice.join('\n'));
});

test('planQueue: with CAP_SYS_RESOURCE the sysctls do not apply but RLIMIT_MSGQUEUE does', () => {
  const plan = planQueue({ depth: 1000, messageSize: 8192 }, limits, true);
  assert.equal(plan.depth, Math.floor(819200 / (8192 + 96)));
  assert.equal(plan.messageSize, 8192);
  assert.equal(plan.advice.length, 1);
  assert.match(plan.advice[0], /RLIMIT_MSGQUEUE \(819200 bytes\)/);
  assert.match(plan.advice[0], /depth × \(messageSize \+ 96\)/);
  assert.match(plan.advice[0], new RegExp(`ulimit -q ${queueBytes(1000, 8192)}`));
  assert.equal(planQueue({ depth: 1000, messageSize: 64 }, { ...limits, rlimitBytes: null }, true).depth, 1000);
  assert.equal(planQueue({ depth: 70000, messageSize: 64 }, { ...limits, rlimitBytes: null }, true).depth, 65536);
});

test('planQueue: when not one message fits, depth is 0 and the advice says so', () => {
  const plan = planQueue({ depth: 10, messageSize: 8192 }, { ...limits, rlimitBytes: 4096 }, false);
  assert.equal(plan.depth, 0);
  assert.match(plan.advice[0], /cannot be even 1/);
});

/**
 * The real kernel, in a child with its own user namespace so the
 * RLIMIT_MSGQUEUE charge starts at zero whatever other queues root holds:
 * the planned depth opens, one more fails with EMFILE.
 */
test('planQueue matches what the kernel allows under a small ulimit -q', (t) => {
  const rlimit = 4096;
  const messageSize = 500;
  const plan = planQueue({ depth: 10, messageSize }, { ...readQueueLimits(), rlimitBytes: rlimit }, false);
  assert.equal(plan.depth, Math.floor(rlimit / (messageSize + 96)));
  const script = `
    const PosixMQ = require('posix-mq');
    const tryDepth = (depth) => {
      const mq = new PosixMQ(), name = '/msgmux-test-' + process.pid + '-' + depth;
      try { mq.open({ name, create: true, maxmsgs: depth, msgsize: ${messageSize}, mode: '0600' }); mq.unlink(); mq.close(); return 'ok'; }
      catch (err) { return err.message; }
    };
    process.stdout.write(JSON.stringify([tryDepth(${plan.depth}), tryDepth(${plan.depth + 1})]));`;
  const child = spawnSync('unshare', ['--user', '--map-root-user', 'bash', '-c', `ulimit -q ${rlimit} && exec "$0" -e "$1"`, process.execPath, script], {
    encoding: 'utf8',
    cwd: repoRoot,
  });
  if (child.error || (child.status !== 0 && /unshare/.test(child.stderr))) {
    t.skip(`no unprivileged user namespace here: ${child.error?.message ?? child.stderr.trim()}`);
    return;
  }
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), ['ok', 'Too many open files']);
});

test('planQueue matches the kernel: depth above msg_max is refused without CAP_SYS_RESOURCE', (t) => {
  const limitsHere = readQueueLimits();
  if (hasCapSysResource()) return t.skip('this process has CAP_SYS_RESOURCE');
  assert.equal(planQueue({ depth: limitsHere.msgMax + 1, messageSize: 64 }, limitsHere).depth, limitsHere.msgMax);
  const script = `
    const PosixMQ = require('posix-mq'), mq = new PosixMQ();
    try { mq.open({ name: '/msgmux-test-' + process.pid, create: true, maxmsgs: ${limitsHere.msgMax + 1}, msgsize: 64, mode: '0600' }); mq.unlink(); mq.close(); process.stdout.write('ok'); }
    catch (err) { process.stdout.write(err.message); }`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: repoRoot });
  assert.equal(child.stdout, 'Invalid argument');
});
