/**
 * systemd's notify protocol (sd_notify(3)): datagrams of `KEY=VALUE` lines
 * to the AF_UNIX socket named by NOTIFY_SOCKET (a path, or `@name` in the
 * abstract namespace). Without NOTIFY_SOCKET nothing is sent at all.
 *
 *   const notifier = SystemdNotifier.fromEnv(process.env, process.pid, log);   // null without NOTIFY_SOCKET
 *   notifier?.ready(status)           READY=1 + STATUS=
 *   notifier?.keepAlive(() => status) STATUS= every few seconds; WATCHDOG=1 every WATCHDOG_USEC / 2
 *   notifier?.stopping()              STOPPING=1, and the timers stop
 *   notifier?.close()
 *
 * The watchdog runs when WATCHDOG_USEC is set and WATCHDOG_PID is this
 * process or absent (systemd sets WATCHDOG_PID so that a child does not pet
 * its parent's watchdog). Sends never block: the socket is non-blocking and
 * a datagram that does not fit is dropped (the next one follows soon).
 */
import type { Logger } from '../log';
import { DgramSocket } from '../native';

export const STATUS_EVERY_MS = 5_000;

export interface NotifyEnv {
  socket: string;
  /** Half of WATCHDOG_USEC, in ms; null when there is no watchdog for this process. */
  watchdogMs: number | null;
}

/** Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; null when there is nobody to notify. */
export function readNotifyEnv(env: NodeJS.ProcessEnv, pid: number): NotifyEnv | null {
  const socket = env.NOTIFY_SOCKET;
  if (!socket || !(socket.startsWith('/') || socket.startsWith('@'))) return null;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' || Number(env.WATCHDOG_PID) === pid;
  const watchdogMs = env.WATCHDOG_USEC && Number.isSafeInteger(usec) && usec > 0 && forUs ? Math.max(1, Math.floor(usec / 2000)) : null;
  return { socket, watchdogMs };
}

/** One `KEY=VALUE` line per field; newlines in a value would start a new field, so they become spaces. */
export function notifyMessage(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${String(value).replace(/\n/g, ' ')}`)
    .join('\n');
}

export class SystemdNotifier {
  private readonly socket = new DgramSocket({ nonBlocking: true });
  private readonly timers: NodeJS.Timeout[] = [];
  private warned = false;

  private constructor(
    readonly env: NotifyEnv,
    private readonly log: Logger,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv, pid: number, log: Logger): SystemdNotifier | null {
    const found = readNotifyEnv(env, pid);
    if (env.NOTIFY_SOCKET && !found) log.warn({ notifySocket: env.NOTIFY_SOCKET }, 'NOTIFY_SOCKET is not a socket path or @name; not notifying systemd');
    return found ? new SystemdNotifier(found, log) : null;
  }

  ready(status: string): void {
    this.send({ READY: 1, STATUS: status, MAINPID: process.pid });
  }

  /** STATUS= with `status()` every STATUS_EVERY_MS, and the watchdog if there is one. */
  keepAlive(status: () => string, everyMs = STATUS_EVERY_MS): void {
    this.timers.push(setInterval(() => this.send({ STATUS: status() }), everyMs).unref());
    const { watchdogMs } = this.env;
    if (watchdogMs !== null) {
      this.send({ WATCHDOG: 1 });
      this.timers.push(setInterval(() => this.send({ WATCHDOG: 1 }), watchdogMs).unref());
    }
  }

  reloading(): void {
    // systemd (Type=notify-reload) wants the CLOCK_MONOTONIC time of the reload with it.
    const monotonicUsec = (process.hrtime.bigint() / 1000n).toString();
    this.send({ RELOADING: 1, MONOTONIC_USEC: monotonicUsec, STATUS: 'reloading the configuration' });
  }

  reloaded(status: string): void {
    this.send({ READY: 1, STATUS: status });
  }

  stopping(): void {
    this.stopTimers();
    this.send({ STOPPING: 1, STATUS: 'draining the ring to every live sink' });
  }

  close(): void {
    this.stopTimers();
    this.socket.close();
  }

  private stopTimers(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private send(fields: Record<string, string | number>): void {
    try {
      this.socket.send(Buffer.from(notifyMessage(fields)), this.env.socket);
    } catch (err) {
      // Warn once: a missing notify socket would otherwise log every few seconds.
      if (this.warned) return;
      this.warned = true;
      this.log.warn({ notifySocket: this.env.socket, err: (err as Error).message }, 'could not notify systemd');
    }
  }
}
