/**
 * msgmux as a dependency: the packed tarball installs into a fresh project
 * (the addon builds on install, dist/ ships built), the ring, Publisher and
 * Subscriber work from there against a daemon started from the installed
 * package, `npx msgmux` runs, and a global install (into a temporary prefix)
 * gives a working `msgmux` command. Tests and benchmarks are not shipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '../src/errors';
import { MessageQueue } from '../src/native';
import { ROOT, uniqueName } from './helpers/daemon';

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Runs inside the installed project: everything it requires comes from node_modules/msgmux. */
const APP = `
const { spawn } = require('node:child_process');
const { Ring, Publisher, Subscriber, controlCall, ERROR_CODES } = require('msgmux');
const { MessageQueue } = require('msgmux/native');
const [queue, control] = process.argv.slice(2);

async function main() {
  const ring = Ring.create({ capacity: 1 << 16 });
  const reader = ring.reader();
  ring.writer().tryWrite(Buffer.from('through the ring'));
  const fromRing = Buffer.from(reader.readSync(0)).toString();

  const bin = require.resolve('msgmux/package.json').replace(/package\\.json$/, 'bin/msgmux');
  const daemon = spawn(process.execPath, [bin, 'start', '--queue', queue, '--control', control], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let log = '';
    daemon.stderr.on('data', (chunk) => { log += chunk; if (log.includes('msgmux started')) resolve(); });
    daemon.on('exit', (code) => reject(new Error('daemon exited ' + code + ': ' + log)));
  });
  try {
    const subscriber = await Subscriber.connect({ control });
    const publisher = new Publisher({ queue });
    for (const m of ['one', 'two', 'three']) await publisher.publish(m);
    await publisher.close();
    const received = [];
    for await (const message of subscriber) {
      received.push(Buffer.from(message).toString());
      if (received.length === 3) break;
    }
    await subscriber.close();
    const stats = await controlCall(control, { op: 'stats' });
    console.log(JSON.stringify({ fromRing, received, hasStats: typeof stats === 'object', codes: Object.keys(ERROR_CODES).length,
      native: Object.keys(require('msgmux/native')).includes('nativeBinding') }));
  } finally {
    daemon.kill('SIGTERM');
    try { MessageQueue.unlink(queue); } catch {}
  }
}
main().catch((err) => { console.error(err); process.exit(1); });
`;

test('the packed package installs as a dependency and globally, and works from there', { timeout: 300_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msgmux-pack-'));
  const queue = `/${uniqueName('install')}`;
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      MessageQueue.unlink(queue);
    } catch {
      // already gone
    }
  });
  // dist/ is fresh (npm test builds first), so packing need not run the build again.
  const tarball = path.join(dir, npm(['pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel=error'], ROOT).trim().split('\n').pop()!);

  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  npm(['install', ...NPM_FLAGS, tarball], app);
  const installed = path.join(app, 'node_modules', 'msgmux');
  assert.ok(fs.existsSync(path.join(installed, 'build', 'Release', 'msgmux_native.node')), 'the addon was built on install');
  assert.ok(fs.existsSync(path.join(installed, 'dist', 'src', 'index.d.ts')), 'types ship');
  assert.ok(!fs.existsSync(path.join(installed, 'dist', 'test')), 'tests are not shipped');
  assert.ok(!fs.existsSync(path.join(installed, 'dist', 'bench')), 'benchmarks are not shipped');
  assert.ok(!fs.existsSync(path.join(installed, 'node_modules', 'posix-mq')) && !fs.existsSync(path.join(app, 'node_modules', 'posix-mq')));

  fs.writeFileSync(path.join(app, 'app.js'), APP);
  const out = execFileSync(process.execPath, ['app.js', queue, `@${uniqueName('install-control')}`], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), {
    fromRing: 'through the ring', received: ['one', 'two', 'three'], hasStats: true, codes: Object.keys(ERROR_CODES).length, native: false,
  });

  const help = spawnSync('npx', ['--no-install', 'msgmux', '--help'], { cwd: app, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout + help.stderr, /usage: msgmux/);

  const prefix = path.join(dir, 'global');
  npm(['install', '-g', '--prefix', prefix, ...NPM_FLAGS, tarball], dir);
  const global = spawnSync(path.join(prefix, 'bin', 'msgmux'), ['--help'], { encoding: 'utf8' });
  assert.equal(global.status, 0, global.stderr);
  assert.match(global.stdout + global.stderr, /usage: msgmux/);
});
