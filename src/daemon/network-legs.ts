/**
 * The daemon's legs beyond one host, seen from the main thread: the shared
 * memory the sources and network sinks need (origin marks, source counters,
 * the NATS channel), the NATS bridge thread, their stats and their stop.
 * Messages never pass through here.
 */
import path from 'node:path';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DaemonConfig } from '../config';
import { ErrorCode, MsgmuxError } from '../errors';
import type { Logger } from '../log';
import type { Ring } from '../ring';
import type { BridgeEvent, NatsBridgeTask } from '../bridge/nats-bridge';
import { createChannel, type ChannelSpec } from '../source/channel';
import { SourceCounters } from '../source/counters';
import type { IngestSourcesTask } from '../source/ingest-sources';
import { openMulticastSocket } from '../source/multicast-source';
import { RecordMeta } from '../source/record-meta';
import { SinkState } from '../sink/state';
import type { SharedState } from './shared-state';

export interface SourceStats {
  kind: 'multicast' | 'nats';
  address: string;
  /** Written into the ring. */
  received: number;
  /** Longer than the bus's message size: skipped. */
  tooLarge: number;
  /** Arrived but could not be handed to ingest in time (NATS backlog full). */
  dropped: number;
}

export interface NatsStats {
  url: string;
  connected: boolean;
  sink?: { subject: string; policy: string; reachable: boolean; delivered: number; dropped: number; lag: number };
  source?: SourceStats;
}

const BRIDGE_WORKER = path.join(__dirname, '..', '..', 'workers', 'nats-bridge.js');

/** SharedState lines the daemon needs beyond its sinks: one for the NATS sink. */
export const EXTRA_SINK_LINES = 1;

export class NetworkLegs {
  private bridge: Worker | null = null;
  private connected = false;
  private readonly counters: SourceCounters;
  /** Every record's origin and ingest stamp (src/source/record-meta.ts): ingest fills it, sinks read it. */
  readonly recordMeta: RecordMeta;
  private readonly channel: ChannelSpec | null;

  private constructor(
    private readonly config: DaemonConfig,
    private readonly log: Logger,
    private readonly shared: SharedState,
    private readonly ring: Ring,
    private readonly messageSize: number,
  ) {
    const { multicast, nats } = config;
    const networkSources = multicast.sources.length + (nats?.source ? 1 : 0);
    this.recordMeta = RecordMeta.create(ring.capacity);
    this.counters = SourceCounters.create(networkSources);
    this.channel = nats?.source ? createChannel(messageSize) : null;
  }

  /** Checks that every multicast group can be joined (so a bad one fails the start, named). */
  static prepare(config: DaemonConfig, log: Logger, shared: SharedState, ring: Ring, messageSize: number): NetworkLegs {
    config.multicast.sources.forEach((address, i) => {
      try {
        openMulticastSocket({ address, interface: config.multicast.interface }).close();
      } catch (err) {
        const { code, message } = err as { code?: string; message: string };
        throw new MsgmuxError(ErrorCode.MULTICAST, `config.multicast.sources[${i}] ${address}: cannot join on interface ${config.multicast.interface}: ${message}${code === 'EADDRINUSE' ? ' (the port is taken by a socket that does not share it)' : ''}`);
      }
    });
    return new NetworkLegs(config, log, shared, ring, messageSize);
  }

  /** What ingest needs to read the sources. */
  ingestFields(): Omit<IngestSourcesTask, 'ring' | 'messageSize' | 'packedQueue'> {
    return {
      multicast: this.config.multicast.sources.map((address) => ({ address, interface: this.config.multicast.interface })),
      channel: this.channel ?? undefined,
      sourceCounters: this.counters.buffer,
      recordMeta: this.recordMeta.buffer,
    };
  }

  /** Starts the NATS bridge, if configured; fails with ERR_MSGMUX_NATS_UNREACHABLE when the server cannot be reached. */
  async startBridge(onFatal: (err: Error) => void): Promise<void> {
    const nats = this.config.nats;
    if (!nats) return;
    const task: NatsBridgeTask = {
      nats,
      name: `msgmux ${hostname()} ${this.config.queue}`,
      ring: this.ring.buffer,
      shared: this.shared.buffer,
      sinkIndex: this.config.maxSinks,
      recordMeta: this.recordMeta.buffer,
      channel: this.channel,
      sourceCounters: this.counters.buffer,
      sourceLine: this.config.multicast.sources.length,
      messageSize: this.messageSize,
    };
    const worker = new Worker(BRIDGE_WORKER, { workerData: task });
    const [first] = (await Promise.race([once(worker, 'message'), once(worker, 'error')])) as [BridgeEvent | Error];
    if (first instanceof Error || first.type === 'failed') {
      await worker.terminate();
      const code = first instanceof Error ? ErrorCode.NATS : first.code;
      throw new MsgmuxError(code, first.message);
    }
    this.bridge = worker;
    this.connected = true;
    this.log.info({ nats: nats.url, sink: nats.sink, source: nats.source }, 'NATS bridge connected');
    worker.on('message', (event: BridgeEvent) => {
      if (event.type !== 'status') return;
      this.connected = event.connected;
      if (event.connected) this.log.info({ nats: nats.url, server: event.server }, 'NATS reconnected');
      else this.log.warn({ nats: nats.url, server: event.server, sinkPolicy: nats.sinkPolicy }, 'NATS disconnected; the client keeps reconnecting');
    });
    worker.once('error', (err) => {
      this.log.fatal({ thread: 'nats', err: err.message, stack: err.stack }, 'the NATS bridge thread failed');
      onFatal(err);
    });
  }

  sources(): SourceStats[] {
    const stats = this.config.multicast.sources.map((address, k) => this.sourceStats('multicast', address, k));
    if (this.config.nats?.source) stats.push(this.sourceStats('nats', this.config.nats.source, this.config.multicast.sources.length));
    return stats;
  }

  nats(): NatsStats | undefined {
    const nats = this.config.nats;
    if (!nats) return undefined;
    const stats: NatsStats = { url: nats.url, connected: this.connected };
    if (nats.sink) {
      const entry = this.shared.sink(this.config.maxSinks);
      const reader = entry.state === SinkState.JOINED ? this.ring.readers().find((r) => r.slot === entry.slot) : undefined;
      const counts = entry.counts();
      stats.sink = {
        subject: nats.sink, policy: nats.sinkPolicy, reachable: entry.reachable,
        delivered: counts.delivered, dropped: counts.droppedByPolicy + counts.undelivered + (reader?.lost ?? 0), lag: reader?.lag ?? 0,
      };
    }
    if (nats.source) stats.source = this.sourceStats('nats', nats.source, this.config.multicast.sources.length);
    return stats;
  }

  /** Publishes what the ring holds to NATS (until `deadline`) and stops the bridge. */
  async stop(deadline: number): Promise<void> {
    const bridge = this.bridge;
    if (!bridge) return;
    this.bridge = null;
    bridge.postMessage({ stop: deadline });
    const exited = once(bridge, 'exit');
    const [event] = (await Promise.race([once(bridge, 'message'), exited])) as [BridgeEvent | number];
    if (typeof event === 'object' && event.type === 'stopped') this.log.info({ nats: this.config.nats?.url, ...event }, 'NATS bridge stopped');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    await bridge.terminate();
  }

  private sourceStats(kind: SourceStats['kind'], address: string, line: number): SourceStats {
    return { kind, address, received: this.counters.received(line), tooLarge: this.counters.tooLarge(line), dropped: this.counters.dropped(line) };
  }
}
