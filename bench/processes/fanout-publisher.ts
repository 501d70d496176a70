/**
 * A publisher of the daemon fanout benchmark, as its own process: opens the
 * daemon's queue write-only and, for each command on stdin, publishes and
 * prints a PublishReport line. Messages carry its own sequence number (from
 * 0, continuing across commands) and its index.
 *
 *   node fanout-publisher.js --queue /name --size 64 --index 0
 *
 *   {"cmd":"publish","count":N}              blocking mq_send, as fast as the queue takes them
 *   {"cmd":"fill","timeoutMs":T,"max":N}     send until one send waits T ms in vain (the bus is full), or N sent
 *
 * It exits when stdin closes.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { MessageQueue } from 'msgmux/native';
import { HEADER_BYTES, nowNs, PUBLISHER_OFFSET, SEQUENCE_OFFSET, type PublishCommand, type PublishReport } from './fanout-protocol';

const { values } = parseArgs({ options: { queue: { type: 'string' }, size: { type: 'string' }, index: { type: 'string', default: '0' } } });
if (!values.queue || !values.size) throw new Error('usage: --queue NAME --size BYTES [--index K]');
const size = Number(values.size);
if (size < HEADER_BYTES) throw new Error(`--size must be at least ${HEADER_BYTES}`);

const queue = MessageQueue.open(values.queue, { write: true, read: false });
const message = new Uint8Array(size).fill(0x6d);
const view = new DataView(message.buffer);
message[PUBLISHER_OFFSET] = Number(values.index);
let sequence = 0;

function publish(count: number): PublishReport {
  const startedNs = nowNs();
  for (let k = 0; k < count; k++) {
    view.setUint32(SEQUENCE_OFFSET, sequence++, true);
    queue.send(message, 0);
  }
  return { sent: count, startedNs, endedNs: nowNs() };
}

function fill(timeoutMs: number, max: number): PublishReport {
  const startedNs = nowNs();
  let sent = 0;
  let queueFull = false;
  while (sent < max) {
    view.setUint32(SEQUENCE_OFFSET, sequence, true);
    if (!queue.timedSend(message, 0, timeoutMs)) {
      queueFull = true;
      break;
    }
    sequence++;
    sent++;
  }
  return { sent, startedNs, endedNs: nowNs(), queueFull };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as PublishCommand;
  const report = command.cmd === 'publish' ? publish(command.count) : fill(command.timeoutMs, command.max);
  fs.writeSync(1, `${JSON.stringify(report)}\n`);
});
lines.on('close', () => queue.close());
fs.writeSync(1, `${JSON.stringify({ ready: true })}\n`);
