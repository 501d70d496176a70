/** The `multicast` and `nats` config blocks and their flags: parsed, merged, and refused with the field named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../src/cli/args';
import { resolveConfig, validateConfig, type ConfigInput } from '../src/config';

const flags = (...argv: string[]): ConfigInput => {
  const command = parseCommandLine(['start', ...argv]);
  assert.equal(command.command, 'start');
  return (command as { flags: ConfigInput }).flags;
};

const problems = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'ERR_MSGMUX_CONFIG');
    return (err as Error).message;
  }
  return assert.fail('expected a config error');
};

test('multicast and NATS flags become sinks, sources and the nats block', () => {
  const config = resolveConfig({
    flags: flags('--multicast-sink', '225.4.5.6:5000', '--multicast-source', '225.4.5.7:5001', '--multicast-ttl', '4',
      '--multicast-interface', '10.0.0.2', '--multicast-loopback', 'no', '--nats', 'nats://10.0.0.5:4222', '--nats-sink', 'bus.a',
      '--nats-source', 'bus.b', '--nats-sink-policy', 'drop'),
  });
  assert.deepEqual(config.sinks, [{
    path: '225.4.5.6:5000', kind: 'multicast', policy: 'block', evictAfterMs: 5000, framing: 'plain', header: false,
    multicast: { ttl: 4, interface: '10.0.0.2', loopback: false },
  }]);
  assert.deepEqual(config.multicast, { ttl: 4, interface: '10.0.0.2', loopback: false, sources: ['225.4.5.7:5001'] });
  assert.deepEqual(config.nats, { url: 'nats://10.0.0.5:4222', sink: 'bus.a', source: 'bus.b', sinkPolicy: 'drop' });
});

test('a file sink may carry its own multicast options; the file block gives the defaults; no nats means null', () => {
  const config = validateConfig({
    multicast: { ttl: 2 },
    sinks: [{ kind: 'multicast', path: '239.1.2.3:7000', multicast: { loopback: false } }],
  });
  assert.deepEqual(config.sinks[0].multicast, { ttl: 2, interface: '0.0.0.0', loopback: false });
  assert.equal(config.nats, null);
});

test('bad group addresses, interfaces, subjects and NATS settings are all named at once', () => {
  const message = problems(() =>
    validateConfig({
      multicast: { ttl: 300, interface: 'eth0', sources: ['10.1.1.1:5000'] },
      sinks: [{ kind: 'multicast', path: '225.1.1.1' }],
      nats: { sink: 'a b', token: 't', user: 'u' },
    }),
  );
  assert.match(message, /config\.multicast\.ttl must be an integer from 0 to 255 \(got 300\)/);
  assert.match(message, /\.interface must be the IPv4 address of an interface.*\(got "eth0"\)/);
  assert.match(message, /\.sources\[0\] must be a multicast group in 224\.0\.0\.0/);
  assert.match(message, /config\.sinks\[0\]\.path must be a multicast group and port like 225\.4\.5\.6:5000 \(got "225\.1\.1\.1"\)/);
  assert.match(message, /config\.nats\.sink must be a NATS subject/);
  const cross = problems(() => validateConfig({ nats: { token: 't', user: 'u' } }));
  assert.match(cross, /nats\.url is required/);
  assert.match(cross, /nats needs a sink or a source subject/);
  assert.match(cross, /nats takes one way to authenticate; got token and user/);
});

test('flags name themselves, and flag values of the wrong shape are usage errors', () => {
  assert.match(problems(() => resolveConfig({ flags: flags('--multicast-sink', '1.2.3.4:5') })), /--multicast-sink "1\.2\.3\.4:5" must be a multicast group/);
  assert.match(problems(() => resolveConfig({ flags: flags('--nats', 'http://x') })), /--nats\.url must be a server URL like nats:\/\/10\.0\.0\.5:4222/);
  assert.throws(() => flags('--multicast-ttl', 'many'), { code: 'ERR_MSGMUX_USAGE', message: /--multicast-ttl must be an integer from 0 to 255/ });
  assert.throws(() => flags('--nats-sink-policy', 'evict'), { code: 'ERR_MSGMUX_USAGE', message: /--nats-sink-policy must be block or drop/ });
});

test('a group both sent to and joined with loopback on is refused: the daemon would hear itself', () => {
  const message = problems(() => resolveConfig({ flags: flags('--multicast-sink', '225.4.5.6:5000', '--multicast-source', '225.4.5.6:5000') }));
  assert.match(message, /225\.4\.5\.6:5000 is both a sink and a source with loopback on/);
  resolveConfig({ flags: flags('--multicast-sink', '225.4.5.6:5000', '--multicast-source', '225.4.5.6:5000', '--multicast-loopback', 'no') });
});

test('a multicast sink sends plain messages only: coalesced framing or a header is refused, naming the sink', () => {
  const message = problems(() => validateConfig({ sinks: [{ kind: 'multicast', path: '239.1.2.3:7000', framing: 'coalesced' }] }));
  assert.match(message, /multicast sink "239\.1\.2\.3:7000" takes plain messages only/);
  assert.match(problems(() => validateConfig({ sinks: [{ kind: 'multicast', path: '239.1.2.3:7000', header: true }] })), /takes plain messages only/);
});
