/**
 * The README's quick start, as written: the daemon on its default names
 * (queue `/msgmux`, control `@msgmux/control`), `msgmux sub`, then
 * `msgmux pub hello`. This test mirrors the README's "Quick start" section
 * (`npm install`, then `npx msgmux start` in terminal 1, `npx msgmux sub` in
 * terminal 2, `npx msgmux pub hello` in terminal 3), with the package's `bin/`
 * on PATH standing in for npx. When that section changes, change the script
 * below with it.
 *
 * Default names are machine-wide, so the whole session runs in private
 * namespaces: a new IPC namespace has its own POSIX message queues, a new
 * network namespace its own abstract sockets, and a new PID namespace takes
 * every process of the session down with its shell, even on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/daemon';

const NAMESPACES = ['--ipc', '--net', '--pid', '--fork', '--kill-child'];
const SESSION_TIMEOUT_MS = 120_000;

/**
 * Each step is what a user types in a terminal; the terminals become
 * background jobs. Every wait is bounded, and each outcome is echoed as
 * "<step> exit <status>" for the test to check.
 */
const QUICK_START = String.raw`
set -u
fail() { echo "quickstart: $*" >&2; exit 1; }
# Runs a check every 0.1 s until it passes, at most 60 s (a bound on a hang on a loaded machine).
wait_until() {
  local what=$1; shift
  for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
# Waits for a background job and returns its status; SIGKILLs it if it outlives 60 s.
wait_exit() {
  local pid=$1
  { sleep 60; kill -KILL "$pid"; } >/dev/null 2>&1 &
  local watchdog=$!
  wait "$pid"; local status=$?
  kill "$watchdog" 2>/dev/null
  return $status
}
started() { grep -q '"msg":"msgmux started"' start.err; }
one_sink() {
  msgmux stats --json 2>/dev/null | node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      try { process.exit(JSON.parse(text).sinks.length === 1 ? 0 : 1); } catch { process.exit(1); }
    });'
}

msgmux start 2>start.err &            # terminal 1
daemon=$!
wait_until "msgmux start to report it started" started

msgmux sub >sub.out 2>sub.err &       # terminal 2
sub=$!
wait_until "msgmux stats --json to list one sink" one_sink

msgmux pub hello 2>pub.err            # terminal 3
echo "pub exit $?"
wait_until "msgmux sub to print hello" grep -qx hello sub.out

kill -INT "$sub"                      # Ctrl-C in terminal 2
wait_exit "$sub"; echo "sub exit $?"
kill -TERM "$daemon"
wait_exit "$daemon"; echo "daemon exit $?"
`;

function namespacesProblem(): string | null {
  const probe = spawnSync('unshare', [...NAMESPACES, '--', 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare cannot create namespaces here (needs root): ${probe.stderr.trim()}`;
  return null;
}

test("the README's quick start works as written, on the default queue and control socket", async (t) => {
  const problem = namespacesProblem();
  if (problem) return t.skip(problem);
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-quickstart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const session = spawn('unshare', [...NAMESPACES, '--', 'bash', '-c', QUICK_START], {
    cwd: dir,
    env: { ...process.env, PATH: [path.join(ROOT, 'bin'), path.dirname(process.execPath), process.env.PATH].join(path.delimiter) },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: SESSION_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  session.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  session.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code, signal] = (await once(session, 'close')) as [number | null, string | null];

  const file = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
  // A session that failed early has not written every log: say so instead of failing on the missing file.
  const logs = (name: string): string => `\n--- ${name}:\n${existsSync(path.join(dir, name)) ? file(name) : '(not written)'}`;
  const context = `script stderr:\n${stderr}${logs('start.err')}${logs('sub.err')}`;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, context);
  assert.deepEqual(stdout.trim().split('\n'), ['pub exit 0', 'sub exit 0', 'daemon exit 0'], context);
  assert.equal(file('sub.out'), 'hello\n', context);
  assert.equal(file('pub.err'), '', 'msgmux pub prints nothing on success');

  const entries = file('start.err')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = entries.find((entry) => entry.msg === 'msgmux started');
  assert.deepEqual({ queue: started?.queue, control: started?.control }, { queue: '/msgmux', control: '@msgmux/control' }, 'ran on the defaults');
  assert.ok(entries.some((entry) => entry.msg === 'stopped'), `the daemon logged a clean stop${logs('start.err')}`);
});
