/**
 * The trust rules on their own: who may subscribe, which addresses a sender
 * owns, who may remove a sink, and the per-uid quotas. Ownership is checked
 * against real files and sockets (chowned to another uid when run as root).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DgramSocket } from 'msgmux/native';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { supplementaryGroups } from '../src/trust/groups';
import { admissionProblem, ownershipProblem, removalProblem, type AdmissionPolicy } from '../src/trust/admission';
import { UidQuotas } from '../src/trust/quotas';
import { RequestGuard } from '../src/trust/guard';
import { ErrorCode } from '../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-trust-'));
const sockets: DgramSocket[] = [];
after(() => {
  sockets.forEach((s) => s.close());
  rmSync(dir, { recursive: true, force: true });
});

const NOBODY = 65534;
const OTHER = 4242;
const cred = (uid: number, gid = uid) => ({ pid: 123, uid, gid });
const policy: AdmissionPolicy = { daemonUid: 1000, allowUids: [2000], allowGids: [3000] };
const asRoot = process.getuid!() === 0;

function socketAt(file: string, uid?: number): string {
  const socket = new DgramSocket();
  socket.bind(file);
  sockets.push(socket);
  if (uid !== undefined) chownSync(file, uid, uid);
  return file;
}

test('only root, the daemon uid and the configured uids and gids may subscribe', () => {
  for (const allowed of [cred(0), cred(1000), cred(2000), cred(5000, 3000)]) assert.equal(admissionProblem(policy, allowed), null);
  const refused = admissionProblem(policy, cred(NOBODY));
  assert.equal(refused?.code, ErrorCode.NOT_ALLOWED);
  assert.match(refused.message, /uid 65534 .*pid 123/);
  assert.match(refused.message, /--allow-uid 65534/, 'the refusal says how to allow it');
  assert.equal(admissionProblem(policy, null)?.code, ErrorCode.NOT_ALLOWED, 'no credentials, no entry');
  assert.equal(admissionProblem({ ...policy, allowGids: [] }, cred(5000, 3000))?.code, ErrorCode.NOT_ALLOWED);
});

test('a gid counts when it is one of the sender\'s supplementary groups; unreadable groups leave only the primary gid', () => {
  const groups = (list: number[] | null) => () => list;
  assert.equal(admissionProblem(policy, cred(NOBODY), groups([17, 3000])), null);
  assert.equal(admissionProblem(policy, cred(NOBODY), groups([17, 3001]))?.code, ErrorCode.NOT_ALLOWED);
  const gone = admissionProblem(policy, cred(NOBODY), groups(null));
  assert.equal(gone?.code, ErrorCode.NOT_ALLOWED);
  assert.match(gone.message, /supplementary groups could not be read \(pid 123 has exited.*only its primary gid was checked/);
  let asked = 0;
  admissionProblem({ ...policy, allowGids: [] }, cred(NOBODY), () => (asked++, [3000]));
  assert.equal(asked, 0, 'with no allowGids, no groups are looked up');
});

test('supplementary groups come from /proc/<pid>/status of a live process whose real uid and gid match', { skip: !asRoot && 'needs root to set groups' }, async () => {
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--groups=4242,4243', 'sleep', '30'], { stdio: 'ignore' });
  try {
    // setpriv execs sleep in the same process: wait until it has switched.
    const spawned = await new Promise<number>((resolve, reject) => (child.once('spawn', () => resolve(child.pid!)), child.once('error', reject)));
    let found: number[] | null = null;
    for (let tries = 0; tries < 500 && found === null; tries++) {
      found = supplementaryGroups({ pid: spawned, uid: NOBODY, gid: NOBODY });
      if (found === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(found, [4242, 4243]);
    assert.equal(supplementaryGroups({ pid: spawned, uid: OTHER, gid: NOBODY }), null, 'another uid than the credentials name: not that process');
  } finally {
    child.kill('SIGKILL');
  }
  await once(child, 'exit');
  assert.equal(supplementaryGroups({ pid: child.pid!, uid: NOBODY, gid: NOBODY }), null, 'the process has exited');
});

test('an abstract name is owned only by the socket that sends from it', () => {
  assert.equal(ownershipProblem('@mine', cred(NOBODY), '@mine'), null);
  const other = ownershipProblem('@theirs', cred(NOBODY), '@mine');
  assert.equal(other?.code, ErrorCode.NOT_OWNER);
  assert.match(other.message, /@theirs.*request came from @mine/);
  assert.equal(ownershipProblem('@theirs', cred(NOBODY), null)?.code, ErrorCode.NOT_OWNER, 'an unbound sender owns no name');
  assert.equal(ownershipProblem('@theirs', cred(0), null), null, 'root may register anything');
});

test('a filesystem socket is owned by its uid; files, directories and links are owned by nobody', { skip: !asRoot && 'needs root to chown' }, () => {
  const mine = socketAt(path.join(dir, 'mine.sock'), NOBODY);
  assert.equal(ownershipProblem(mine, cred(NOBODY), null), null, 'the socket file belongs to the sender');
  assert.match(ownershipProblem(mine, cred(OTHER), null)!.message, /belongs to uid 65534/);
  assert.equal(ownershipProblem(mine, cred(OTHER), mine), null, 'sent from that very path');

  const file = path.join(dir, 'regular');
  writeFileSync(file, '');
  chownSync(file, NOBODY, NOBODY);
  assert.match(ownershipProblem(file, cred(NOBODY), null)!.message, /not a socket/);
  const directory = path.join(dir, 'directory');
  mkdirSync(directory);
  chownSync(directory, NOBODY, NOBODY);
  assert.match(ownershipProblem(directory, cred(NOBODY), null)!.message, /a directory/);
  // A link the sender owns, to a socket it does not: following it would be the confused deputy.
  const rootSocket = socketAt(path.join(dir, 'root.sock'));
  const link = path.join(dir, 'link.sock');
  symlinkSync(rootSocket, link);
  assert.match(ownershipProblem(link, cred(NOBODY), null)!.message, /symbolic link/);
  assert.match(ownershipProblem(rootSocket, cred(NOBODY), null)!.message, /belongs to uid 0/);
  assert.match(ownershipProblem(path.join(dir, 'absent.sock'), cred(NOBODY), null)!.message, /ENOENT/);
});

test('configured sinks are removed only by root or the daemon uid; dynamic ones by their owner', () => {
  assert.equal(removalProblem(policy, cred(0), 'static', '/run/x.sock', null), null);
  assert.equal(removalProblem(policy, cred(1000), 'mq', '/q', null), null);
  assert.match(removalProblem(policy, cred(2000), 'static', '/run/x.sock', '/run/x.sock')!.message, /configured static sink/);
  assert.equal(removalProblem(policy, cred(2000), 'dynamic', '@a', '@a'), null);
  assert.equal(removalProblem(policy, cred(2000), 'dynamic', '@a', '@b')?.code, ErrorCode.NOT_OWNER);
});

test('a uid gets a burst of registrationsPerSecond, then that many per second', () => {
  let now = 0;
  const quotas = new UidQuotas({ maxSinksPerUid: 100, registrationsPerSecond: 5 }, () => now);
  for (let k = 0; k < 5; k++) quotas.admit(NOBODY);
  assert.throws(() => quotas.admit(NOBODY), (err: Error & { code?: string }) => {
    assert.equal(err.code, ErrorCode.RATE_LIMITED);
    assert.match(err.message, /more than 5 registrations per second .*--registrations-per-second/);
    return true;
  });
  quotas.admit(OTHER); // another uid has its own bucket
  now += 200; // one token back
  quotas.admit(NOBODY);
  assert.throws(() => quotas.admit(NOBODY), { code: ErrorCode.RATE_LIMITED });
  now += 10_000;
  for (let k = 0; k < 5; k++) quotas.admit(NOBODY); // refilled, but never above the burst
  assert.throws(() => quotas.admit(NOBODY), { code: ErrorCode.RATE_LIMITED });
});

test('a uid holds at most maxSinksPerUid sinks, and gets the room back when one goes', () => {
  const quotas = new UidQuotas({ maxSinksPerUid: 2, registrationsPerSecond: 1000 });
  quotas.added(NOBODY, '@a');
  quotas.added(NOBODY, '@b');
  quotas.added(NOBODY, '@b'); // the same sink again is not another one
  assert.equal(quotas.sinksOf(NOBODY), 2);
  assert.throws(() => quotas.admit(NOBODY), (err: Error & { code?: string }) => {
    assert.equal(err.code, ErrorCode.SINK_QUOTA);
    assert.match(err.message, /already has 2 sinks, .*maxSinksPerUid 2.*--max-sinks-per-uid/);
    return true;
  });
  quotas.admit(OTHER);
  quotas.removed('@a');
  quotas.removed('@unknown');
  quotas.admit(NOBODY);
  assert.equal(quotas.sinksOf(NOBODY), 1);
});

test('the request guard applies admission, then ownership, then quotas, and follows a reload', () => {
  const config = { allowUids: [] as number[], allowGids: [] as number[], maxSinksPerUid: 1, registrationsPerSecond: 100 };
  const guard: RequestGuard = new RequestGuard(config, 1000);
  assert.throws(() => guard.checkSubscribe('@mine', cred(NOBODY), '@mine', false), { code: ErrorCode.NOT_ALLOWED });
  guard.configure({ ...config, allowUids: [NOBODY] });
  assert.throws(() => guard.checkSubscribe('@theirs', cred(NOBODY), '@mine', false), { code: ErrorCode.NOT_OWNER });
  guard.checkSubscribe('@mine', cred(NOBODY), '@mine', false);
  guard.registered('@mine', cred(NOBODY));
  assert.throws(() => guard.checkSubscribe('@other', cred(NOBODY), '@other', false), { code: ErrorCode.SINK_QUOTA });
  guard.checkSubscribe('@mine', cred(NOBODY), '@mine', true); // the sink it has: no new slot
  guard.ended('@mine');
  guard.checkSubscribe('@other', cred(NOBODY), '@other', false);
  assert.throws(() => guard.checkUnsubscribe('@nothing', undefined, cred(OTHER), '@nothing'), { code: ErrorCode.NOT_ALLOWED }, 'a stranger learns nothing');
  guard.checkUnsubscribe('@nothing', undefined, cred(NOBODY), null);
});
