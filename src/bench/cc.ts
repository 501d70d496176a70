/**
 * The harness's C clients, compiled with the system's `cc` on first use into
 * a cache directory, keyed by a hash of the sources and flags, so a run
 * reuses what an earlier run built and an edit rebuilds.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The package root, from dist/src/bench. */
export const PACKAGE_ROOT = path.join(__dirname, '..', '..', '..');
/** Where the C sources ship. */
export const C_SOURCES = path.join(PACKAGE_ROOT, 'harness', 'c');

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'msgmux', 'bench');
}

const SHARED_HEADERS = ['bench.h', 'dgram.h'];
const built = new Map<string, Promise<string>>();

/**
 * The path of the compiled `name` (harness/c/<name>.c) linked with `libs`.
 * Rejects with the compiler's first lines (a missing header says so).
 */
export function compiled(name: string, libs: string[] = []): Promise<string> {
  const key = `${name} ${libs.join(' ')}`;
  let pending = built.get(key);
  if (!pending) {
    pending = compile(name, libs);
    built.set(key, pending);
  }
  return pending;
}

async function compile(name: string, libs: string[]): Promise<string> {
  const source = path.join(C_SOURCES, `${name}.c`);
  const flags = ['-O2', '-Wall', '-Wno-unused-function'];
  const hash = createHash('sha256');
  for (const file of [source, ...SHARED_HEADERS.map((h) => path.join(C_SOURCES, h))]) hash.update(fs.readFileSync(file));
  hash.update(flags.join(' ') + libs.join(' '));
  const dir = cacheDir();
  const binary = path.join(dir, `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  // Built under a temporary name and renamed: a concurrent run never sees a half-written binary.
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await run(process.env.CC || 'cc', [...flags, '-o', partial, source, ...libs], { timeout: 60_000 });
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    const header = /fatal error: ([^\s:]+): No such file/.exec(stderr)?.[1];
    throw new Error(header ? `header ${header} is missing (install its -dev package: scripts/install-peers.sh)` : `cc failed on ${name}.c: ${stderr.split('\n').slice(0, 3).join(' ')}`);
  }
  fs.renameSync(partial, binary);
  return binary;
}
