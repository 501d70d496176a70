import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, loadConfigFile, minRingSize, parseSize, resolveConfig, validateConfig } from '../src/config';

const dir = mkdtempSync(join(tmpdir(), 'msgmux-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function configFile(content: unknown): string {
  const file = join(dir, `config-${files++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Asserts validation fails with ERR_MSGMUX_CONFIG and every expected line appears in the message. */
function invalid(run: () => unknown, ...expected: string[]): void {
  assert.throws(run, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_CONFIG');
    for (const line of expected) assert.ok(err.message.includes(line), `expected ${JSON.stringify(line)} in:\n${err.message}`);
    return true;
  });
}

test('an empty config is the defaults', () => {
  assert.deepEqual(validateConfig({}), { ...DEFAULT_CONFIG, sinks: [] });
  assert.equal(DEFAULT_CONFIG.queue, '/msgmux');
  assert.equal(DEFAULT_CONFIG.ringSize, 8 * 1024 * 1024);
});

test('sizes, modes and sinks are parsed and sinks inherit the default policy', () => {
  const config = validateConfig({
    ringSize: '64K',
    maxMessage: '1K',
    queueMode: '0660',
    policy: 'drop',
    evictAfterMs: 100,
    control: '\0other',
    sinks: [{ path: '/run/a.sock' }, { path: '/mq-sink', kind: 'mq', policy: 'evict', evictAfterMs: 9 }],
  });
  assert.equal(config.ringSize, 65536);
  assert.equal(config.maxMessage, 1024);
  assert.equal(config.queueMode, 0o660);
  assert.equal(config.control, '\0other');
  assert.deepEqual(config.sinks, [
    { path: '/run/a.sock', kind: 'static', policy: 'drop', evictAfterMs: 100, framing: 'plain', header: false },
    { path: '/mq-sink', kind: 'mq', policy: 'evict', evictAfterMs: 9, framing: 'plain', header: false },
  ]);
  assert.equal(validateConfig({ queueMode: 0o640 }).queueMode, 0o640);
});

test('every bad field is reported at once, each with its path', () => {
  invalid(
    () =>
      validateConfig({
        queue: 'msgmux',
        queueDepth: 0,
        queueMode: '0999',
        control: 'control',
        ringSize: '100K',
        policy: 'fast',
        logLevel: 'loud',
        sinks: [{ path: '/ok.sock' }, { path: 'relative.sock' }, { path: '/x', policy: 'fast' }, { path: '/a/b', kind: 'mq' }],
      }),
    'config.queue must start with "/" (got "msgmux")',
    'config.queueDepth must be an integer from 1 to 65536 (got 0)',
    'config.queueMode must be a permission mode',
    'config.control must be a socket path',
    'config.ringSize must be a power of two (got 102400)',
    'config.policy must be one of block, drop, evict (got "fast")',
    'config.logLevel must be one of',
    'config.sinks[1].path must be a filesystem socket path starting with "/" (got "relative.sock")',
    'config.sinks[2].policy must be one of block, drop, evict (got "fast")',
    'config.sinks[3].path must not contain "/" after the first character',
  );
});

test('unknown keys are named, at the top and in sinks', () => {
  invalid(() => validateConfig({ queu: '/x', sinks: [{ path: '/a', polcy: 'drop' }] }), 'config has unknown key "queu"', 'config.sinks[0] has unknown key "polcy"');
  invalid(() => validateConfig([]), 'config must be an object (got an array)');
  invalid(() => validateConfig({ sinks: {} }), 'config.sinks must be an array');
  invalid(() => validateConfig({ sinks: [{ kind: 'mq' }] }), 'config.sinks[0].path is required');
});

test('queue names follow POSIX rules', () => {
  invalid(() => validateConfig({ queue: '/' }), 'config.queue needs a name after "/"');
  invalid(() => validateConfig({ queue: '/' + 'q'.repeat(256) }), 'config.queue must be at most 255 bytes');
  assert.equal(validateConfig({ queue: '/' + 'q'.repeat(255) }).queue.length, 256);
});

test('the ring must be a power of two from 64 KiB to 1 GiB and hold four largest messages', () => {
  invalid(() => validateConfig({ ringSize: 32768 }), 'config.ringSize must be from 65536 to 1073741824 bytes (got 32768)');
  invalid(() => validateConfig({ ringSize: '2G' }), 'config.ringSize must be from 65536');
  invalid(() => validateConfig({ ringSize: 'lots' }), 'config.ringSize must be a size in bytes');
  assert.equal(minRingSize(8192), 4 * (8192 + 8));
  invalid(() => validateConfig({ ringSize: '64K', maxMessage: 16384 }), `ringSize (65536) must be at least 4 × (maxMessage + 8-byte record header) = ${4 * (16384 + 8)} bytes`);
  assert.equal(validateConfig({ ringSize: '128K', maxMessage: 16384 }).ringSize, 131072);
});

test('the control address and static sinks must fit in sun_path', () => {
  invalid(() => validateConfig({ control: '@' + 'c'.repeat(108) }), 'config.control is 108 bytes');
  invalid(() => validateConfig({ sinks: [{ path: '/' + 's'.repeat(107) }] }), 'config.sinks[0].path is 108 bytes');
});

test('duplicate sinks and too many sinks are refused', () => {
  invalid(() => validateConfig({ sinks: [{ path: '/a' }, { path: '/b' }, { path: '/a', kind: 'static' }] }), 'static sink "/a" is listed twice');
  assert.equal(validateConfig({ sinks: [{ path: '/a' }, { path: '/a', kind: 'mq' }] }).sinks.length, 2); // a socket and a queue
  invalid(() => validateConfig({ maxSinks: 1, sinks: [{ path: '/a' }, { path: '/b' }] }), '2 sinks are listed but maxSinks is 1');
});

test('loadConfigFile names the file when it is missing or not JSON', () => {
  invalid(() => loadConfigFile(join(dir, 'absent.json')), `cannot read config file ${join(dir, 'absent.json')}: ENOENT`);
  const broken = configFile('{"queue": "/x",}');
  invalid(() => loadConfigFile(broken), `config file ${broken} is not valid JSON`);
  assert.deepEqual(loadConfigFile(configFile({ queue: '/x' })), { queue: '/x' });
});

test('resolveConfig: flags override the file, sinks from both are kept', () => {
  const file = configFile({ queue: '/from-file', queueDepth: 5, policy: 'drop', sinks: [{ path: '/file.sock' }] });
  const config = resolveConfig({ file, flags: { queueDepth: 8, sinks: [{ path: '/flag-q', kind: 'mq' }] } });
  assert.equal(config.queue, '/from-file');
  assert.equal(config.queueDepth, 8);
  assert.deepEqual(config.sinks, [
    { path: '/file.sock', kind: 'static', policy: 'drop', evictAfterMs: 5000, framing: 'plain', header: false },
    { path: '/flag-q', kind: 'mq', policy: 'drop', evictAfterMs: 5000, framing: 'plain', header: false },
  ]);
  assert.deepEqual(resolveConfig({ flags: {} }), { ...DEFAULT_CONFIG, sinks: [] });
});

test('resolveConfig: bad flags are named as flags, bad file fields by path', () => {
  invalid(
    () => resolveConfig({ flags: { queueDepth: 0, ringSize: 3, sinks: [{ path: 'rel' }, { path: 'bad', kind: 'mq' }] } }),
    '--queue-depth must be an integer',
    '--ring-size must be from 65536',
    '--sink "rel" must be a filesystem socket path',
    '--mq-sink "bad" must start with "/"',
  );
  const file = configFile({ maxMessage: 'big' });
  invalid(() => resolveConfig({ file, flags: {} }), file, 'config.maxMessage must be a size in bytes');
  // the cross-field rule sees the merged values: a flag can fix what the file got wrong
  const small = configFile({ ringSize: '64K', maxMessage: 16384 });
  assert.equal(resolveConfig({ file: small, flags: { ringSize: 1 << 17 } }).ringSize, 1 << 17);
});

test('parseSize', () => {
  assert.equal(parseSize('8M'), 8 * 1024 * 1024);
  assert.equal(parseSize('64k'), 65536);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize('8 MB'), 8 * 1024 * 1024);
  for (const bad of ['', 'M', '8T', '-1', '1.5M', 'eight']) assert.equal(parseSize(bad), null, bad);
  assert.equal(parseSize(-1), null);
  assert.equal(parseSize(1.5), null);
});

test('shm: the block is validated field by field, defaults filled, --shm turns it on over the file', () => {
  assert.equal(validateConfig({}).shm, null);
  assert.deepEqual(validateConfig({ shm: { name: '/ring' } }).shm, { name: '/ring', mode: 0o640, readers: 16 });
  assert.deepEqual(validateConfig({ shm: { name: '/ring', mode: '0660', owner: 0, group: 5, readers: 4 } }).shm, { name: '/ring', mode: 0o660, owner: 0, group: 5, readers: 4 });
  assert.equal(validateConfig({ shm: { enabled: false } }).shm, null);
  invalid(
    () => validateConfig({ shm: { name: 'ring', mode: 'rw', readers: 0, owner: -1, colour: 'red' } }),
    'config.shm.name must be "/" followed by 1 to 200 characters without "/" (got "ring")',
    'config.shm.mode must be a permission mode',
    'config.shm.readers must be an integer from 1 to 1024 (got 0)',
    'config.shm.owner must be an integer',
    'config.shm has unknown key "colour"',
  );
  invalid(() => validateConfig({ shm: { mode: '0600' } }), 'config.shm.name is required while shm is enabled');
  invalid(() => validateConfig({ shm: '/ring' }), 'config.shm must be an object (got "/ring")');
  invalid(() => resolveConfig({ flags: { shm: { enabled: true, name: 'nope/x' } } }), '--shm must be "/" followed by');
  const file = configFile({ shm: { enabled: false, name: '/old', mode: '0600' } });
  assert.deepEqual(resolveConfig({ file, flags: { shm: { enabled: true, name: '/new' } } }).shm, { name: '/new', mode: 0o600, readers: 16 });
});
