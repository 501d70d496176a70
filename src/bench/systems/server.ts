/** A peer server the harness starts per round (nats-server, redis-server): checked once, started, and waited for until it serves. */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from '../child';

const READY_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

/** Throws a clear reason when the server binary is not on PATH. */
export function requireServer(file: string): void {
  try {
    execFileSync(file, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${file} is not installed (scripts/install-peers.sh, or apt-get install ${file})`);
  }
}

/** Starts `file` and polls `ready` until it holds; kills it and throws, naming `what` it waited for, if it never does. */
export async function startServer(file: string, args: string[], ready: () => boolean | Promise<boolean>, what: string): Promise<Child> {
  const child = new Child(file, file, args, { exec: true });
  for (let waited = 0; !(await ready()); waited += POLL_MS) {
    if (waited > READY_TIMEOUT_MS) {
      await child.stop(2_000, 'SIGKILL');
      throw new Error(`${file} did not ${what}: ${child.stderrLines.slice(-3).join(' ')}`);
    }
    await sleep(POLL_MS);
  }
  return child;
}
