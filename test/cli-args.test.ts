import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, usage } from '../src/cli/args';
import { resolveConfig } from '../src/config';

function usageError(argv: string[], ...expected: string[]): void {
  assert.throws(() => parseCommandLine(argv), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_USAGE');
    for (const part of expected) assert.ok(err.message.includes(part), `expected ${JSON.stringify(part)} in: ${err.message}`);
    return true;
  });
}

test('start: no arguments runs on the defaults', () => {
  assert.deepEqual(parseCommandLine(['start']), { command: 'start', flags: {} });
});

test('start: every flag, sizes with units, repeated sinks; the result feeds resolveConfig', () => {
  const parsed = parseCommandLine([
    'start', '--config', 'c.json', '--queue', '/q', '--control', '@ctl',
    '--sink', '/a.sock', '--mq-sink', '/mq1', '--sink', '/b.sock',
    '--ring-size', '16M', '--max-message', '1K', '--queue-depth', '50', '--policy', 'evict',
  ]);
  assert.deepEqual(parsed, {
    command: 'start',
    configFile: 'c.json',
    flags: {
      queue: '/q', control: '@ctl', ringSize: 16 * 1024 * 1024, maxMessage: 1024, queueDepth: 50, policy: 'evict',
      sinks: [{ path: '/a.sock', kind: 'static' }, { path: '/b.sock', kind: 'static' }, { path: '/mq1', kind: 'mq' }],
    },
  });
  assert.ok(parsed.command === 'start');
  const config = resolveConfig({ flags: parsed.flags });
  assert.equal(config.sinks.length, 3);
  assert.equal(config.sinks[0].policy, 'evict');
});

test('pub: messages, priority, "--" before a message that looks like a flag', () => {
  assert.deepEqual(parseCommandLine(['pub', 'hello']), { command: 'pub', queue: '/msgmux', priority: 0, messages: ['hello'] });
  assert.deepEqual(parseCommandLine(['pub', '--queue', '/q', '--priority', '32767', 'a', 'b']), {
    command: 'pub', queue: '/q', priority: 32767, messages: ['a', 'b'],
  });
  assert.deepEqual(parseCommandLine(['pub', '--', '--not-a-flag']), { command: 'pub', queue: '/msgmux', priority: 0, messages: ['--not-a-flag'] });
  assert.deepEqual(parseCommandLine(['pub']), { command: 'pub', queue: '/msgmux', priority: 0, messages: [] });
});

test('--version and -V', () => {
  assert.deepEqual(parseCommandLine(['--version']), { command: 'version' });
  assert.deepEqual(parseCommandLine(['-V']), { command: 'version' });
});

test('start --metrics is checked by resolveConfig, which names the flag', () => {
  const parsed = parseCommandLine(['start', '--metrics', '9464']) as { flags: object };
  assert.equal(resolveConfig({ flags: parsed.flags }).metrics, '127.0.0.1:9464');
  const bad = parseCommandLine(['start', '--metrics', 'host.example:1']) as { flags: object };
  assert.throws(() => resolveConfig({ flags: bad.flags }), /--metrics has host "host\.example"/);
});

test('sub and stats', () => {
  assert.deepEqual(parseCommandLine(['sub']), { command: 'sub', control: '@msgmux/control', format: 'text' });
  assert.deepEqual(parseCommandLine(['sub', '--control', '/run/c', '--name', '@me', '--policy', 'drop', '--count', '5', '--format', 'json']), {
    command: 'sub', control: '/run/c', name: '@me', policy: 'drop', count: 5, format: 'json',
  });
  assert.deepEqual(parseCommandLine(['stats']), { command: 'stats', control: '@msgmux/control', json: false, watch: false, intervalMs: 1000 });
  assert.deepEqual(parseCommandLine(['stats', '--json', '--watch']), { command: 'stats', control: '@msgmux/control', json: true, watch: true, intervalMs: 1000 });
  assert.equal((parseCommandLine(['stats', '--watch', '--interval', '0.25']) as { intervalMs: number }).intervalMs, 250);
  usageError(['stats', '--interval', '0'], '--interval must be a number of seconds');
  usageError(['stats', '--interval', 'soon'], '--interval');
});

test('usage errors name the bad flag or value', () => {
  usageError(['start', '--ring-size', '8X'], 'msgmux start:', '--ring-size must be a size', '"8X"');
  usageError(['start', '--queue-depth', 'ten'], '--queue-depth must be a positive integer');
  usageError(['start', '--policy', 'fast'], '--policy must be one of block, drop, evict (got "fast")');
  usageError(['start', '--sinks', '/a'], "Unknown option '--sinks'");
  usageError(['start', 'extra'], "Unexpected argument 'extra'");
  usageError(['pub', '--priority', '32768'], '--priority must be an integer from 0 to 32767');
  usageError(['pub', '--priority', '-1'], '--priority');
  usageError(['pub', '--queue'], "'--queue <value>' argument missing");
  usageError(['sub', '--count', '0'], '--count must be a positive integer');
  usageError(['sub', '--format', 'xml'], '--format must be one of text, hex, json');
  usageError(['stats', '--json=yes'], '--json');
  usageError(['publish'], 'unknown command "publish"', 'start, pub, sub, stats');
});

test('bench --publishers and --queue-depth: integers in their range, named when bad', () => {
  assert.equal((parseCommandLine(['bench', '--publishers', '2']) as { publishers?: number }).publishers, 2);
  assert.equal((parseCommandLine(['bench']) as { publishers?: number }).publishers, undefined, 'unset: the plan keeps its one publisher');
  for (const bad of ['0', '65', 'two', '2,3', '-1', '']) {
    usageError(['bench', `--publishers=${bad}`], 'msgmux bench:', '--publishers must be an integer from 1 to 64', JSON.stringify(bad));
  }
  usageError(['bench', '--rounds', '0'], '--rounds must be an integer from 1 to 100');
  assert.equal((parseCommandLine(['bench', '--queue-depth', '10']) as { queueDepth?: number }).queueDepth, 10);
  usageError(['bench', '--queue-depth', '0'], '--queue-depth must be an integer from 1 to 65536 (got "0")');
});

test('help: overall, per command, and --help on each command', () => {
  const overall = parseCommandLine([]);
  assert.equal(overall.command, 'help');
  assert.deepEqual(parseCommandLine(['--help']), overall);
  for (const command of ['start', 'pub', 'sub', 'stats'] as const) {
    const help = parseCommandLine([command, '--help']);
    assert.deepEqual(help, { command: 'help', text: usage(command) });
    assert.match(usage(command), new RegExp(`^usage: msgmux ${command}`));
    assert.ok(overall.command === 'help' && overall.text.includes(`msgmux ${command}`));
  }
  assert.deepEqual(parseCommandLine(['help', 'pub']), { command: 'help', text: usage('pub') });
  assert.match(usage('start'), /--mq-sink NAME/);
});

test('start --shm NAME is the config shm block, named --shm when bad; sub --shm reads through shared memory', () => {
  const parsed = parseCommandLine(['start', '--shm', '/ring']) as { flags: object };
  assert.deepEqual(resolveConfig({ flags: parsed.flags }).shm, { name: '/ring', mode: 0o640, readers: 16 });
  const bad = parseCommandLine(['start', '--shm', 'ring']) as { flags: object };
  assert.throws(() => resolveConfig({ flags: bad.flags }), /--shm must be "\/" followed by/);
  assert.deepEqual(parseCommandLine(['sub', '--shm', '--count', '2']), { command: 'sub', transport: 'shm', control: '@msgmux/control', count: 2, format: 'text' });
  usageError(['sub', '--shm', '--name', '@me'], '--name names a socket');
});
