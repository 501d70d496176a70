/**
 * A child process (a Node script, or with `exec` any program) a benchmark talks to in JSON lines: commands on its
 * stdin, reports on its stdout, log lines on its stderr. Reports are queued,
 * so none is missed between two awaits, and every wait is bounded. The child
 * is killed (SIGKILL) at cleanup if it is still running, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { onCleanup } from './cleanup';

type Waiter = { accept: (line: string) => boolean; resolve: (line: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | string>;
  /** Every stderr line so far (the daemon logs there). */
  readonly stderrLines: string[] = [];
  private readonly reports: string[] = [];
  private readonly stdoutWaiters: Waiter[] = [];
  private readonly stderrWaiters: Waiter[] = [];
  private exitCode: number | string | null = null;
  private readonly forget: () => void;

  constructor(readonly label: string, script: string, args: string[], options: { exec?: boolean; cwd?: string } = {}) {
    const [command, argv] = options.exec ? [script, args] : [process.execPath, [script, ...args]];
    this.process = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
    const child = this.process;
    this.forget = onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.deliver(line, this.reports, this.stdoutWaiters));
    readline.createInterface({ input: child.stderr! }).on('line', (line) => this.deliver(line, this.stderrLines, this.stderrWaiters, true));
    child.on('error', (err) => this.stderrLines.push(`cannot run ${script}: ${err.message}`));
    child.stdin!.on('error', () => undefined); // a child that died is reported by `exited`
    this.exited = once(child, 'close').then(([code, signal]) => {
      this.exitCode = (code ?? signal) as number | string;
      for (const w of [...this.stdoutWaiters.splice(0), ...this.stderrWaiters.splice(0)]) this.fail(w, `exited (${this.exitCode})`);
      this.forget();
      return this.exitCode;
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  send(command: object): void {
    this.process.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The next JSON report on stdout. */
  async next<T>(what: string, timeoutMs: number): Promise<T> {
    return JSON.parse(await this.wait(this.stdoutWaiters, () => this.reports.shift(), () => true, what, timeoutMs)) as T;
  }

  /** The first stderr line (seen already or to come) that `accept` takes. */
  waitForLog(accept: (line: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    return this.wait(this.stderrWaiters, () => this.stderrLines.find(accept), accept, what, timeoutMs);
  }

  /** Closes its stdin (the end of its commands); SIGKILL if it has not exited within `timeoutMs`. */
  async endInput(timeoutMs: number): Promise<number | string> {
    this.process.stdin!.end();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGTERM (or `signal`), then the exit code; SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.exitCode !== null) return this.exitCode;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private deliver(line: string, into: string[], waiters: Waiter[], keep = false): void {
    const waiter = waiters.find((w) => w.accept(line));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      clearTimeout(waiter.timer);
      waiter.resolve(line);
      if (!keep) return;
    }
    into.push(line);
  }

  private wait(waiters: Waiter[], ready: () => string | undefined, accept: (line: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    const line = ready();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exitCode !== null) return Promise.reject(this.error(`exited (${this.exitCode}) before ${what}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { accept, resolve, reject, timer: setTimeout(() => this.fail(waiter, `no ${what} within ${timeoutMs} ms`), timeoutMs) };
      waiters.push(waiter);
    });
  }

  private fail(waiter: Waiter, why: string): void {
    for (const list of [this.stdoutWaiters, this.stderrWaiters]) if (list.includes(waiter)) list.splice(list.indexOf(waiter), 1);
    clearTimeout(waiter.timer);
    waiter.reject(this.error(why));
  }

  private error(why: string): Error {
    return new Error(`${this.label} ${why}; last stderr:\n${this.stderrLines.slice(-10).join('\n')}`);
  }
}
