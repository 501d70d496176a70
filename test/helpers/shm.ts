/** Shared-memory test helpers: unique ring names, reader processes, cleanup of /dev/shm. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ShmGrant } from '../../src/shm';

let counter = 0;
const PREFIX = `mxt-${process.pid}-`;

/** A ring name no other test (or test run) uses. */
export const uniqueShmName = (): string => `/${PREFIX}${counter++}`;

/** Removes every /dev/shm file this test process created, whatever state a test left. */
export function removeShmFiles(): void {
  for (const file of readdirSync('/dev/shm')) if (file.startsWith(PREFIX)) rmSync(join('/dev/shm', file), { force: true });
}

export interface ReaderProcess {
  child: ChildProcess;
  /** Resolves with the first line the child printed that is JSON, or with its exit. */
  result: Promise<{ report: Record<string, unknown> | null; code: number | null; signal: NodeJS.Signals | null; lines: string[] }>;
  /** Resolves when the child prints `line`. */
  printed(line: string): Promise<void>;
  give(grant: ShmGrant): void;
}

export function spawnShmReader(mode: string, count = 0, wrap: string[] = [], env: NodeJS.ProcessEnv = process.env): ReaderProcess {
  const script = join(__dirname, '..', 'fixtures', 'shm-reader.js');
  const argv = [...wrap, process.execPath, script, mode, String(count)];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => x.line === line)) w.resolve();
    }
  });
  const result = new Promise<Awaited<ReaderProcess['result']>>((resolve) => {
    child.on('exit', (code, signal) => {
      const json = lines.find((l) => l.startsWith('{'));
      resolve({ report: json ? (JSON.parse(json) as Record<string, unknown>) : null, code, signal, lines });
    });
  });
  return {
    child,
    result,
    printed: (line) => (lines.includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.push({ line, resolve }))),
    give: (grant) => child.stdin.end(JSON.stringify(grant) + '\n'),
  };
}

/** Records numbered from `from`: a little-endian u32 then filler, `size` bytes each. */
export function numbered(from: number, count: number, size = 64): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const record = new Uint8Array(size);
    new DataView(record.buffer).setUint32(0, from + i, true);
    return record;
  });
}
