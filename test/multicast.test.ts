/**
 * The multicast legs, end to end, each in a private network and IPC
 * namespace the test creates (`unshare --net --ipc`): the scenario process
 * (fixtures/multicast-scenario.ts) brings up loopback, routes 224.0.0.0/4 to
 * it, runs the daemon and plain `dgram` peers, and reports what each saw.
 * Nothing is ever sent on the host's interfaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { lines } from './helpers/daemon';

const SCENARIO = path.join(__dirname, 'fixtures', 'multicast-scenario.js');

interface ScenarioResult {
  received: string[];
  sentOn: string[];
  sink: { kind: string; delivered: number; dropped: number };
  source: object;
  taken: { code: number; stderr: string };
  badInterface: { code: number; stderr: string };
}

function scenario(name: string): ScenarioResult {
  const result = spawnSync('unshare', ['--net', '--ipc', '--fork', '--kill-child', process.execPath, SCENARIO, name], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, `scenario ${name} failed (${result.error?.message ?? result.signal ?? result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ScenarioResult;
}

const canUnshare = spawnSync('unshare', ['--net', '--ipc', 'true']).status === 0;
const skip = canUnshare ? false : 'needs unshare --net --ipc (root or user namespaces) for a private network';

test('a plain dgram receiver that joined the group gets every message from the multicast sink, in order', { skip }, () => {
  const { received, sink } = scenario('sink');
  assert.deepEqual(received, lines('m', 300));
  assert.equal(sink.kind, 'multicast');
  assert.equal(sink.delivered, 300);
  assert.equal(sink.dropped, 0);
});

test('datagrams a plain dgram sender sends to the group reach a local socket sink through the daemon; oversized ones are counted; none is sent on to the network', { skip }, () => {
  const { received, source, sentOn } = scenario('source');
  assert.deepEqual(received, [...lines('d', 300), ...lines('local', 10)]);
  assert.deepEqual(sentOn, lines('local', 10), 'the multicast sink sends only what local publishers sent');
  assert.deepEqual(source, { kind: 'multicast', address: '225.4.5.7:5001', received: 300, tooLarge: 1, dropped: 0 });
});

test('a taken port and a missing interface fail the start with a message naming the source', { skip }, () => {
  const { taken, badInterface } = scenario('errors');
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /config\.multicast\.sources\[0\] 225\.4\.5\.7:5002: .*EADDRINUSE.*ERR_MSGMUX_MULTICAST/);
  assert.equal(badInterface.code, 1);
  assert.match(badInterface.stderr, /config\.multicast\.sources\[0\] 225\.4\.5\.7:5003: cannot join on interface 10\.9\.9\.9: .*ENODEV/);
});
