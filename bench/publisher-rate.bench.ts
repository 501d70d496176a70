/**
 * Publish rate of `Publisher` into a queue drained by a C-speed reader (a
 * child process in a MessageQueue.receiveBatch loop), in messages per second,
 * from the first publish until the reader has everything.
 *
 *   node dist/bench/publisher-rate.bench.js [--count 200000] [--size 64] [--depth 10] [--rounds 3]
 *
 * Awaiting every publish one by one (`await`) and firing a burst without
 * awaiting (`burst`, then close()) are both measured.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { MessageQueue } from 'msgmux/native';
import { Publisher } from '../src/publisher';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    size: { type: 'string', default: '64' },
    depth: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const count = Number(values.count);
const size = Number(values.size);
const depth = Number(values.depth);

const READER = `
  const { MessageQueue } = require('msgmux/native');
  const [name, count] = process.argv.slice(1);
  const q = MessageQueue.open(name, { read: true, write: false });
  const slot = q.attributes().messageSize, max = 256;
  const into = new Uint8Array(slot * max), lengths = new Int32Array(max);
  process.stdout.write('ready\\n');
  for (let got = 0; got < Number(count); ) got += q.receiveBatch(into, 0, slot, max, lengths, null, -1);
  process.stdout.write('done\\n');`;

async function round(mode: 'await' | 'burst'): Promise<number> {
  const name = `/msgmux-bench-pub-${process.pid}`;
  MessageQueue.open(name, { create: true, depth, messageSize: Math.max(size, 64), read: false, write: true }).close();
  try {
    const reader = spawn(process.execPath, ['-e', READER, name, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const next = () => new Promise<void>((resolve) => {
      const check = () => (lines.length > 0 ? resolve() : setTimeout(check, 1));
      check();
    });
    reader.stdout.on('data', (c: Buffer) => lines.push(...c.toString().trim().split('\n')));
    await next();
    lines.length = 0;
    const exited = once(reader, 'exit');
    const message = new Uint8Array(size).fill(0x6d);
    const publisher = new Publisher({ queue: name });
    const started = process.hrtime.bigint();
    if (mode === 'await') {
      for (let k = 0; k < count; k++) await publisher.publish(message);
    } else {
      for (let k = 0; k < count; k++) void publisher.publish(message);
    }
    await publisher.close();
    await exited;
    return count / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    MessageQueue.unlink(name);
  }
}

async function main(): Promise<void> {
  for (const mode of ['await', 'burst'] as const) {
    const rates: number[] = [];
    for (let r = 0; r < Number(values.rounds); r++) rates.push(await round(mode));
    rates.sort((a, b) => a - b);
    const k = (n: number) => `${Math.round(n / 1000)}k`;
    console.log(`${mode}: ${count} x ${size} B, depth ${depth}: median ${k(rates[rates.length >> 1])} msgs/s (rounds: ${rates.map(k).join(', ')})`);
  }
}

void main();
