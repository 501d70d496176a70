/**
 * Runs every benchmark (each `bench/<name>.bench.ts`, found as
 * `<name>.bench.js` beside this file once built), one after the other, each as its own child process
 * (so one's threads, queues and sockets never disturb the next), and says
 * where each wrote its JSON.
 *
 *   npm run bench                                   # all of them
 *   npm run bench -- daemon-fanout ring-fanout      # only these, in this order
 *
 * A benchmark that fails does not stop the others; the exit code is 1 if any failed.
 * SIGINT/SIGTERM go to the running benchmark, which cleans up after itself, and end the run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { resultsFile } from './lib/report';

const SUFFIX = '.bench.js';
/** End-to-end benchmarks (real daemon processes) run after the cheap in-process ones; otherwise by name. */
const END_TO_END = /^daemon-/;

/** Every benchmark built beside this runner, cheap ones first. */
function discover(): string[] {
  const names = fs
    .readdirSync(__dirname)
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length));
  const rank = (name: string): number => (END_TO_END.test(name) ? 1 : 0);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

interface Outcome {
  name: string;
  code: number | string;
  seconds: number;
  /** The results file, when this run wrote it. */
  wrote: string | null;
}

const modified = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

let interrupted = false;
let running: ReturnType<typeof spawn> | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    running?.kill(signal); // a terminal's Ctrl-C reaches the child too; a signal sent to us alone must be passed on
  });
}

function runOne(name: string): Promise<Outcome> {
  const file = resultsFile(name);
  const before = modified(file);
  const started = process.hrtime.bigint();
  console.log(`\n=== ${name} ===`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, name + SUFFIX)], { stdio: 'inherit' });
    running = child;
    child.once('error', (err) => console.error(`could not start ${name}: ${err.message}`));
    child.once('close', (code, signal) => {
      running = null;
      resolve({
        name,
        code: code ?? signal ?? 'unknown',
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        wrote: modified(file) > before ? file : null,
      });
    });
  });
}

async function main(): Promise<void> {
  const benchmarks = discover();
  if (benchmarks.length === 0) throw new Error(`no *${SUFFIX} in ${__dirname}; run npm run build first`);
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !benchmarks.includes(name));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${benchmarks.join(', ')}`);
  const outcomes: Outcome[] = [];
  for (const name of asked.length > 0 ? asked : benchmarks) {
    if (interrupted) break;
    outcomes.push(await runOne(name));
  }
  console.log('\n=== summary ===');
  for (const o of outcomes) {
    const where = o.wrote ? `wrote ${path.relative(process.cwd(), o.wrote)}` : 'no results written';
    console.log(`${o.name.padEnd(16)} ${o.code === 0 ? 'ok' : `FAILED (${o.code})`}  ${o.seconds.toFixed(0).padStart(4)} s  ${where}`);
  }
  if (interrupted) console.log('interrupted');
  process.exitCode = interrupted || outcomes.some((o) => o.code !== 0) ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
