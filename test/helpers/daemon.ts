/**
 * Real daemon processes for end-to-end tests. `daemonSetup(t)` gives a test
 * its own queue, control socket, temporary directory and process list, all
 * removed in `t.after` even when the test fails; every daemon test starts
 * there. Waits in here are bounded only so a hang fails instead of stalling
 * the suite: no assertion depends on how long anything takes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { controlCall } from '../../src/control-client';
import type { DaemonStats } from '../../src/daemon/daemon';
import { unlinkBusQueues } from '../../src/daemon/bus-queue';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'msgmux');
export const SINK_PROCESS = path.join(__dirname, '..', 'fixtures', 'sink-process.js');

let counter = 0;
/** A name no other test (or run) uses: `/msgmux-test-<pid>-<n>-<role>`. */
export const uniqueName = (role: string): string => `msgmux-test-${process.pid}-${++counter}-${role}`;

export interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** Resolves once a stderr line satisfies `match`. */
  waitFor(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
}

/** How long a wait may take before it counts as a hang; generous, as the suite shares a loaded machine. */
export const HANG_MS = 60_000;

export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(process.execPath, [command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const lines = (into: string[], notify: boolean) => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        into.push(line);
        if (!notify) continue;
        for (const w of watchers.splice(0)) {
          if (w.match(line)) w.resolve(line);
          else watchers.push(w);
        }
      }
    };
  };
  child.stdout.on('data', lines(stdout, false));
  child.stderr.on('data', lines(stderr, true));
  if (options.input !== undefined) child.stdin.end(options.input);
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const waitFor = (match: (line: string) => boolean, what: string, timeoutMs = HANG_MS): Promise<string> => {
    const seen = stderr.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr:\n${stderr.join('\n')}`)), timeoutMs);
      watchers.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      void exited.then((code) => (clearTimeout(timer), reject(new Error(`exited (${code}) before ${what}; stderr:\n${stderr.join('\n')}`))));
    });
  };
  return { child, stdout, stderr, exited, waitFor };
}

/** A log line (pino JSON) whose msg starts with `text`. */
export const logged = (text: string) => (line: string): boolean => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg?.startsWith(text) ?? false;
  } catch {
    return false;
  }
};

export interface DaemonUnderTest extends Proc {
  queue: string;
  control: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | string>;
}

export async function startDaemon(
  queue: string,
  control: string,
  extra: string[] = [],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<DaemonUnderTest> {
  const proc = run(BIN, ['start', '--queue', queue, '--control', control, ...extra], options);
  if (extra.includes('--log-level')) {
    // 'msgmux started' may be below the level: serving stats is the sign it is up.
    const failed = proc.exited.then((code) => Promise.reject(new Error(`exited (${code}) before starting: ${proc.stderr.join('\n')}`)));
    await Promise.race([failed, eventually('the daemon to start', () => daemonStats(control).catch(() => undefined))]);
  } else {
    await proc.waitFor(logged('msgmux started'), 'the daemon to start');
  }
  return {
    ...proc,
    queue,
    control,
    stop: async () => {
      proc.child.kill('SIGTERM');
      return proc.exited;
    },
  };
}

/** Starts a sink process and waits until it is ready (bound, registered). */
export async function startSink(args: string[]): Promise<Proc & { result(): Promise<{ received: string[] }> }> {
  return readySink(run(SINK_PROCESS, args));
}

async function readySink(proc: Proc): Promise<Proc & { result(): Promise<{ received: string[] }> }> {
  await proc.waitFor((line) => line === 'ready', 'the sink to be ready');
  return {
    ...proc,
    result: async () => {
      await proc.exited;
      const last = proc.stdout.filter((line) => line.startsWith('{')).pop();
      if (!last) throw new Error(`sink printed no result; stderr:\n${proc.stderr.join('\n')}`);
      return JSON.parse(last) as { received: string[] };
    },
  };
}

/** Kills whatever is still running and removes the queues (a bus queue's packed queue too); safe to call twice. */
export function cleanup(procs: Proc[], queues: string[]): void {
  for (const proc of procs) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  for (const queue of queues) unlinkBusQueues(queue);
}

/** Publishes `lines` through the real CLI (`msgmux pub`, one message per stdin line). */
export async function publish(queue: string, lines: string[], extra: string[] = []): Promise<void> {
  const proc = run(BIN, ['pub', '--queue', queue, ...extra], { input: lines.map((line) => line + '\n').join('') });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`msgmux pub exited ${code}: ${proc.stderr.join('\n')}`);
}

/** The daemon's stats over its control socket. */
export const daemonStats = async (control: string): Promise<DaemonStats> =>
  (await controlCall(control, { op: 'stats' })) as unknown as DaemonStats;

/** Polls until `probe` returns something other than undefined; bounded. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = HANG_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Polls the daemon's stats until `ready` holds; bounded. */
export const statsWhen = (control: string, what: string, ready: (stats: DaemonStats) => boolean): Promise<DaemonStats> =>
  eventually(what, async () => {
    const current = await daemonStats(control);
    return ready(current) ? current : undefined;
  });

/** `count` distinct messages `${prefix}0`, `${prefix}1`, ..., each padded to `width` characters. */
export const lines = (prefix: string, count: number, width = 0): string[] =>
  Array.from({ length: count }, (_, k) => `${prefix}${k}`.padEnd(width, '.'));

export interface DaemonSetup {
  queue: string;
  control: string;
  /** A private directory for filesystem sockets and config files. */
  dir: string;
  /** Processes killed at the end of the test, if still running. */
  procs: Proc[];
  /** Starts the daemon on this test's queue and control socket. */
  startDaemon(extra?: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<DaemonUnderTest>;
  /** Starts a sink process and waits until it is ready. */
  startSink(args: string[]): ReturnType<typeof startSink>;
  /** Runs `msgmux ARGS` in the background. */
  run(args: string[], options?: { input?: string }): Proc;
  /** More queues to unlink at the end (mq sinks). */
  queues: string[];
}

/**
 * A daemon test's own names and cleanup: a unique queue and control socket,
 * a temporary directory, and a t.after that kills every process started
 * through it and removes the queues and the directory.
 */
export function daemonSetup(t: { after(fn: () => void): void }): DaemonSetup {
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-test-'));
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const queues = [queue];
  t.after(() => {
    cleanup(procs, queues);
    rmSync(dir, { recursive: true, force: true });
  });
  const track = <P extends Proc>(proc: P): P => (procs.push(proc), proc);
  return {
    queue,
    control,
    dir,
    procs,
    queues,
    startDaemon: async (extra = [], options = {}) => track(await startDaemon(queue, control, extra, options)),
    startSink: async (args) => {
      const proc = run(SINK_PROCESS, args);
      procs.push(proc);
      return readySink(proc);
    },
    run: (args, options) => track(run(BIN, args, options)),
  };
}
