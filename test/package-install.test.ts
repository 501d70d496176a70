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
import { ROOT, uniqueName } from './helpers/daemon';
import { unlinkBusQueues } from '../src/daemon/bus-queue';

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

test('the packed package installs as a dependency and globally, and works from there', { timeout: 300_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msgmux-pack-'));
  const queue = `/${uniqueName('install')}`;
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    unlinkBusQueues(queue);
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

  fs.copyFileSync(path.join(__dirname, 'fixtures', 'installed-app.js'), path.join(app, 'app.js'));
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
