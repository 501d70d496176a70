/**
 * In-process fanout between worker threads: msgmux's ring (copying reads)
 * against Node's BroadcastChannel and MessagePort, one writer thread to N
 * reader threads. Each measurement keeps its threads for a warm-up round
 * and one measured round of a fixed count.
 */
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { Ring } from '../../index';
import { Peer } from '../inproc/peer';
import type { FanoutWorkerData, Transport } from '../inproc/protocol';
import type { InprocSample, InprocSystem } from '../system';

const RING_CAPACITY = 4 << 20;
const BATCH = 256;
const WORKERS = path.join(__dirname, '..', '..', '..', 'workers', 'bench');
const FILES: Record<Transport, string> = {
  'ring-single': path.join(WORKERS, 'fanout-ring.js'),
  'ring-copy': path.join(WORKERS, 'fanout-ring.js'),
  'ring-zero-copy': path.join(WORKERS, 'fanout-ring.js'),
  'broadcast-channel': path.join(WORKERS, 'fanout-broadcast.js'),
  'message-port': path.join(WORKERS, 'fanout-message-port.js'),
};
/** Node's channels are ~20x slower than the ring: fewer messages keep their rounds about as long. */
const COUNT_SHARE: Record<Transport, number> = { 'ring-single': 0.5, 'ring-copy': 1, 'ring-zero-copy': 1, 'broadcast-channel': 0.1, 'message-port': 0.1 };

let channels = 0;

async function measure(transport: Transport, readers: number, size: number, fullCount: number): Promise<InprocSample> {
  const count = Math.max(1000, Math.round(fullCount * COUNT_SHARE[transport]));
  const clock = new Float64Array(new SharedArrayBuffer(8));
  const ring = transport.startsWith('ring') ? Ring.create({ capacity: RING_CAPACITY }) : null;
  const channelName = `msgmux-bench-${process.pid}-${++channels}`;
  const pairs = transport === 'message-port' ? Array.from({ length: readers }, () => new MessageChannel()) : [];
  const spawn = (role: FanoutWorkerData['role'], ports: MessagePort[]): Peer => {
    const workerData: FanoutWorkerData = { role, transport, size, batch: BATCH, clock, ringBuffer: ring?.buffer, channelName, ports };
    return new Peer(new Worker(FILES[transport], { workerData, transferList: ports as unknown as TransferListItem[] }));
  };
  const readerPeers = Array.from({ length: readers }, (_, k) => spawn('reader', pairs[k] ? [pairs[k].port2] : []));
  const writer = spawn('writer', pairs.map((p) => p.port1));
  try {
    let last: InprocSample | null = null;
    for (const round of [Math.ceil(count / 10), count]) {
      for (const peer of readerPeers) peer.send({ type: 'run', count: round });
      await Promise.all(readerPeers.map((peer) => peer.next('armed')));
      writer.send({ type: 'run', count: round });
      const [written, ...received] = await Promise.all([writer.next('written'), ...readerPeers.map((peer) => peer.next('received'))]);
      const seconds = (endedAt: number): number => (endedAt - written.startedAt) / 1000;
      const perReader = received.map((r) => r.count / seconds(r.endedAt));
      const cpuMs = [written, ...received].reduce((sum, r) => sum + (r.thread?.cpuMs ?? NaN), 0);
      last = {
        messages: round,
        delivered: received.reduce((sum, r) => sum + r.count, 0),
        deliveredPerSec: (round * readers) / seconds(Math.max(...received.map((r) => r.endedAt))),
        slowestPerSec: Math.min(...perReader),
        lost: 0, // block readers and Node's channels never drop: a reader that missed one would not finish its round
        duplicated: 0,
        reordered: received.reduce((sum, r) => sum + r.outOfOrder, 0),
        clientCpuSec: Number.isNaN(cpuMs) ? null : cpuMs / 1000,
      };
    }
    return last!;
  } finally {
    await Promise.all([...readerPeers, writer].map(async (peer) => {
      peer.send({ type: 'stop' });
      await peer.next('stopped').catch(() => undefined);
      await peer.worker.terminate();
    }));
  }
}

const system = (key: string, name: string, transport: Transport): InprocSystem => ({
  key,
  system: name,
  clients: 'threads',
  kind: 'inproc',
  lossless: true,
  onePublisher: 'one writer thread by design (--publishers applies to process systems)',
  prepare: async () => undefined,
  measure: (readers, size, count) => measure(transport, readers, size, count),
});

export const ringSystem = system('ring', 'msgmux ring', 'ring-copy');
export const broadcastChannelSystem = system('broadcastchannel', 'BroadcastChannel', 'broadcast-channel');
export const messagePortSystem = system('messageport', 'MessagePort', 'message-port');
